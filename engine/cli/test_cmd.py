"""``riskctl test PATH...``: run policy test files (``*.test.yaml``) against the policies.

Policies: ``--policies DIR`` when given; otherwise each PATH's directory (a file's own
directory), or its parent when that holds no policy files. Exit 0 when every case passes;
1 when a case fails, a test file has no cases, no test file is found or coverage is below
``--min-coverage``; 2 when a test file or the policies cannot be loaded (every problem is
printed with file:line:col and nothing runs), or on usage errors.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from riskctl.cli.output import print_problems, use_color, write_report
from riskctl.policytest import RunResult, Session, run_paths
from riskctl.report.junit import render_junit
from riskctl.report.policytest_text import render_results, render_summary, summary_line

__all__ = ["register", "run"]


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "test",
        help="run policy tests (*.test.yaml); exit 1 on failures",
        description="Run policy test files against the policies and report rule coverage.",
    )
    parser.add_argument(
        "paths", nargs="+", type=Path, help="test files or directories holding *.test.yaml"
    )
    parser.add_argument(
        "--policies",
        type=Path,
        metavar="DIR",
        help="policies to test (default: the PATH directory, or its parent if it has none)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "junit"),
        default="text",
        help="report format: text, or junit (JUnit XML for CI test reports)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="write the full report to FILE; print only failures and the summary",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="list every passing case too, not only a count per file",
    )
    parser.add_argument(
        "--min-coverage",
        type=_percent,
        metavar="N",
        help="fail when custom rules or typed limits that fired are below N percent",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    session = run_paths(args.paths, policies=args.policies)
    if session.problems:
        print_problems(session.problems)
        count = len(session.problems)
        print(f"riskctl: {count} problem(s) in the tests or policies; no case ran", file=sys.stderr)
        return 2
    if session.test_files == 0:
        where = ", ".join(str(p) for p in args.paths)
        print(f"riskctl: no *.test.yaml or *.test.yml files found in {where}", file=sys.stderr)
        return 1
    results = session.results
    report = _report(args, results)
    if args.output is None:
        sys.stdout.write(report)
        if args.format == "junit":
            print(summary_line(results), file=sys.stderr)
    else:
        problem = write_report(report, args.output)
        if problem is not None:
            print(f"riskctl: error: {problem}", file=sys.stderr)
            return 2
        sys.stdout.write(render_results(results, passes="hide"))
        sys.stdout.write(render_summary(results, min_coverage=args.min_coverage))
        print(f"{args.format} report written to {args.output}")
    return 0 if _passed(session, args.min_coverage) else 1


def _report(args: argparse.Namespace, results: tuple[RunResult, ...]) -> str:
    if args.format == "junit":
        return render_junit(results, min_coverage=args.min_coverage)
    color = args.output is None and use_color(sys.stdout)
    body = render_results(results, color=color, passes="each" if args.verbose else "count")
    return body + "\n" + render_summary(results, min_coverage=args.min_coverage, color=color)


def _passed(session: Session, minimum: Decimal | None) -> bool:
    return session.passed and not any(r.coverage_shortfalls(minimum) for r in session.results)


def _percent(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage from 0 to 100")
    return value
