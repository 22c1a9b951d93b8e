"""``riskctl lint PATH...``: load policies and report every problem with file:line:col.

The report goes to standard output, or to ``--output FILE``; the one-line summary goes to
standard error, or to standard output when the report went to a file. Exit 0 clean, 1 on
errors (and warnings with ``--strict``), 2 on usage or internal errors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from riskctl.cli.output import use_color, write_report
from riskctl.errors import RiskctlError, Severity
from riskctl.lint import lint_bundles_of, lint_paths
from riskctl.lint.catalog import CATALOG
from riskctl.report import LINT_FORMATS, LintSummary, render_lint

__all__ = ["register", "run"]


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "lint",
        help="check policy files; exit 1 on errors",
        description="Check policy files and report every problem with file:line:col.",
    )
    parser.add_argument("paths", nargs="*", type=Path, help="policy files or directories")
    parser.add_argument(
        "--list-codes", action="store_true", help="print every diagnostic code and what it means"
    )
    parser.add_argument(
        "--format",
        choices=LINT_FORMATS,
        default="text",
        help="report format: text, json, sarif (code scanning) or github (annotations)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="write the full report to FILE and print a one-line summary",
    )
    parser.add_argument("--strict", action="store_true", help="warnings fail too")
    parser.add_argument(
        "--whole-bundle",
        action="store_true",
        help="lint the whole policy directory of each file given, as one bundle, so findings"
        " across files show (for pre-commit); policy test files are skipped",
    )
    parser.add_argument(
        "--base", metavar="REF", help="git ref to compare the policies against (e.g. origin/main)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.list_codes:
        for code, meaning in sorted(CATALOG.items()):
            print(f"{code:<40} {meaning}")
        return 0
    if not args.paths:
        return _usage("give one or more policy files or directories (or --list-codes)")
    try:
        lint = lint_bundles_of if args.whole_bundle else lint_paths
        report = lint(args.paths, base=args.base)
    except RiskctlError as exc:
        return _usage(str(exc))
    diagnostics = report.diagnostics
    summary = LintSummary.of(diagnostics, files=report.files, waived=report.waived)
    color = args.output is None and args.format == "text" and use_color(sys.stdout)
    text = render_lint(args.format, diagnostics, summary, root=Path.cwd(), color=color)
    if args.output is None:
        sys.stdout.write(text)
        print(summary.line(), file=sys.stderr)
    else:
        problem = write_report(text, args.output)
        if problem is not None:
            return _usage(problem)
        print(f"{summary.line()}; {args.format} report written to {args.output}")
    failing = {Severity.ERROR, Severity.WARNING} if args.strict else {Severity.ERROR}
    return 1 if any(d.severity in failing for d in diagnostics) else 0


def _usage(message: str) -> int:
    print(f"riskctl: error: {message}", file=sys.stderr)
    return 2
