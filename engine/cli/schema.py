"""``riskctl schema [--check] [--out DIR]``: write or check the generated JSON Schemas."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from riskctl.schemagen import check_schemas, write_schemas

__all__ = ["register", "run"]


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "schema",
        help="generate JSON Schemas from the models",
        description="Write the JSON Schemas of the policy and context models, or check them.",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("schemas"), help="directory (default: schemas)"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 and name stale files instead of writing"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.out.exists() and not args.out.is_dir():
        print(f"riskctl: error: {args.out} is not a directory", file=sys.stderr)
        return 2
    if args.check:
        problems = check_schemas(args.out)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("run `riskctl schema` to regenerate", file=sys.stderr)
            return 1
        print(f"{args.out}: schemas are up to date")
        return 0
    try:
        changed = write_schemas(args.out)
    except OSError as exc:
        print(f"riskctl: error: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
        return 2
    for path in changed:
        print(f"wrote {path}")
    if not changed:
        print(f"{args.out}: schemas are up to date")
    return 0
