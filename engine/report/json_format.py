"""The JSON lint format: ``{"findings": [...], "summary": {...}}``, one stable shape.

Each finding has ``path``, ``line``, ``column``, ``code``, ``severity``, ``message``,
``pointer`` (the field's JSON pointer) and ``hint`` (null when there is none).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from riskctl.errors import Diagnostic
from riskctl.report.summary import LintSummary

__all__ = ["render_json"]


def render_json(diagnostics: Sequence[Diagnostic], summary: LintSummary) -> str:
    findings = [d.to_json() for d in sorted(diagnostics, key=Diagnostic.sort_key)]
    report = {"findings": findings, "summary": summary.to_json()}
    return json.dumps(report, indent=2) + "\n"
