"""``riskctl lint PATH...``: load policies and report every problem with file:line:col."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from engine.cli.output import print_diagnostics
from engine.errors import Severity
from engine.lint import lint_paths

__all__ = ["register", "run"]


def register(verbs: Any) -> None:
    parser = verbs.add_parser("lint", help="check policy files; exit 1 on errors")
    parser.add_argument("paths", nargs="+", type=Path, help="policy files or directories")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="report format")
    parser.add_argument("--strict", action="store_true", help="warnings fail too")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    report = lint_paths(args.paths)
    print_diagnostics(report.diagnostics, files=report.files, fmt=args.format)
    failing = {Severity.ERROR, Severity.WARNING} if args.strict else {Severity.ERROR}
    return 1 if any(d.severity in failing for d in report.diagnostics) else 0
