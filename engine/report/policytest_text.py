"""Policy test results as text: a line per file, failures in full, then a summary.

Passing cases are counted per file (every case with ``passes="each"``, as ``-v`` asks;
none with ``passes="hide"``); a failed case is always listed with its reasons::

    PASS policies/tests/fill.test.yaml: 4 passed
    FAIL policies/tests/pre-trade.test.yaml: 8 passed, 1 failed
    FAIL policies/tests/pre-trade.test.yaml:30:11 collar rejects a price far from mid
         expected outcome reject, got allow
         fired: none

    custom rules: 16/16 fired (100.0%)
    typed limits: 12/12 fired (100.0%)
    31 case(s) in 6 file(s): 30 passed, 1 failed
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

from riskctl.policytest import CaseResult, FileResult, RunResult
from riskctl.policytest.coverage import shown_percent
from riskctl.report.text import paint

__all__ = ["render_results", "render_summary", "summary_line"]

_INDENT = " " * 5

Passes = Literal["count", "each", "hide"]
"""How passing cases show: a count per file, a line each, or not at all."""


def render_results(
    results: Sequence[RunResult], *, color: bool = False, passes: Passes = "count"
) -> str:
    """Failed cases in full and passes as asked, grouped by policy directory when two+."""
    lines: list[str] = []
    for run in results:
        if len(results) > 1:
            lines.append(f"policies: {run.policies}")
        for file in run.files:
            lines += _file_lines(file, color=color, passes=passes)
    return "".join(f"{line}\n" for line in lines)


def _file_lines(file: FileResult, *, color: bool, passes: Passes) -> list[str]:
    if file.empty:
        return [f"{paint('FAIL', 'fail', color=color)} {file.path}: the file has no cases"]
    lines = [_file_count(file, color=color)] if passes == "count" else []
    for case in file.cases:
        if case.passed and passes != "each":
            continue
        lines += _case_lines(case, color=color)
    return lines


def _file_count(file: FileResult, *, color: bool) -> str:
    failed = sum(1 for case in file.cases if not case.passed)
    counts = f"{len(file.cases) - failed} passed" + (f", {failed} failed" if failed else "")
    status = paint("FAIL", "fail", color=color) if failed else paint("PASS", "pass", color=color)
    return f"{status} {file.path}: {counts}"


def _case_lines(case: CaseResult, *, color: bool) -> list[str]:
    status = (
        paint("PASS", "pass", color=color) if case.passed else paint("FAIL", "fail", color=color)
    )
    lines = [f"{status} {case.location} {case.name}"]
    if not case.passed:
        lines += [f"{_INDENT}{reason}" for reason in case.reasons]
        lines.append(f"{_INDENT}fired: {_hits(case)}")
    return lines


def _hits(case: CaseResult) -> str:
    hits = case.decision.hits
    if not hits:
        return "none"
    return ", ".join(
        f"{h.rule_id} ({h.action}{'' if h.mode == 'enforce' else ', audit'})" for h in hits
    )


def render_summary(
    results: Sequence[RunResult], *, min_coverage: Decimal | None = None, color: bool = False
) -> str:
    """Coverage per policy directory, rules that never fired, shortfalls, then the counts."""
    lines: list[str] = []
    for run in results:
        prefix = f"{run.policies}: " if len(results) > 1 else ""
        for coverage in run.coverages:
            line = prefix + coverage.describe()
            if coverage.never_fired:
                line += f"; never {coverage.verb}: " + ", ".join(coverage.never_fired)
            lines.append(line)
        for short in run.coverage_shortfalls(min_coverage):
            lines.append(
                f"{paint('FAIL', 'fail', color=color)} {prefix}{short.label} coverage"
                f" {shown_percent(short.percent)}% is below --min-coverage {min_coverage}"
            )
    lines.append(summary_line(results))
    return "".join(f"{line}\n" for line in lines)


def summary_line(results: Sequence[RunResult]) -> str:
    """``31 case(s) in 6 file(s): 30 passed, 1 failed`` (and files without cases, if any)."""
    files = [f for run in results for f in run.files]
    cases = [c for f in files for c in f.cases]
    failed = sum(1 for c in cases if not c.passed)
    passed = len(cases) - failed
    line = f"{len(cases)} case(s) in {len(files)} file(s): {passed} passed, {failed} failed"
    empty = sum(1 for f in files if f.empty)
    return f"{line}, {empty} file(s) without cases" if empty else line
