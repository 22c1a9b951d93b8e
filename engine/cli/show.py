"""``riskctl show PATH...``: a one-screen summary of a loaded policy bundle."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from engine.bundle import PolicyBundle, load_bundle
from engine.cli.output import print_json
from engine.errors import PolicyLoadError

__all__ = ["register", "run"]


def register(verbs: Any) -> None:
    parser = verbs.add_parser("show", help="summarise a policy bundle")
    parser.add_argument("paths", nargs="+", type=Path, help="policy files or directories")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        bundle = load_bundle(*args.paths)
    except PolicyLoadError as exc:
        for diagnostic in exc.diagnostics:
            print(diagnostic.format(), file=sys.stderr)
        return 1
    if args.format == "json":
        print_json(describe(bundle))
    else:
        print(render(bundle))
    return 0


def describe(bundle: PolicyBundle) -> dict[str, Any]:
    return {
        "hash": bundle.hash,
        "documents": [
            {
                "ref": p.document.ref,
                "version": p.document.metadata.version,
                "owner": p.document.metadata.owner,
                "path": p.path,
            }
            for p in bundle.policies
        ],
    }


def render(bundle: PolicyBundle) -> str:
    lines = [f"bundle {bundle.hash}", ""]
    width = max(len(p.document.ref) for p in bundle.policies)
    for policy in bundle.policies:
        doc = policy.document
        lines.append(
            f"  {doc.ref:<{width}}  v{doc.metadata.version:<4} "
            f"{doc.metadata.owner:<16} {policy.path}"
        )
    kinds = Counter(p.document.kind for p in bundle.policies)
    lines += ["", "  " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))]
    return "\n".join(lines)
