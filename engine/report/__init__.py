"""Reports: lint findings and policy test results in the formats people and CI read.

| module | writes |
|---|---|
| ``text`` | ``path:line:col: severity code: message (hint)``, ANSI colour on a terminal |
| ``json_format`` | ``{"findings": [...], "summary": {...}}`` |
| ``sarif`` | SARIF 2.1.0 for code scanning |
| ``github`` | GitHub Actions workflow commands (annotations) |
| ``junit`` | JUnit XML of policy test results |
| ``policytest_text`` | policy test results as text |

Every renderer returns a string; where it goes (terminal or ``--output`` file) is the CLI's
business.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from riskctl.errors import Diagnostic
from riskctl.report.github import render_github
from riskctl.report.json_format import render_json
from riskctl.report.sarif import render_sarif
from riskctl.report.summary import LintSummary
from riskctl.report.text import render_text

__all__ = ["LINT_FORMATS", "LintSummary", "render_lint"]

LINT_FORMATS = ("text", "json", "sarif", "github")


def render_lint(
    fmt: str,
    diagnostics: Sequence[Diagnostic],
    summary: LintSummary,
    *,
    root: Path,
    color: bool = False,
) -> str:
    """The lint report in ``fmt`` (one of :data:`LINT_FORMATS`); ``root`` anchors paths."""
    if fmt == "json":
        return render_json(diagnostics, summary)
    if fmt == "sarif":
        return render_sarif(diagnostics, root=root)
    if fmt == "github":
        return render_github(diagnostics, root=root)
    if fmt == "text":
        return render_text(diagnostics, color=color)
    raise ValueError(f"unknown lint format {fmt!r}; formats are {', '.join(LINT_FORMATS)}")
