"""SARIF 2.1.0 (OASIS) for code scanning: one run, rules from the codes present, one result each.

Rule ids are the diagnostic codes, stable across releases, with the catalog's one-line
summary as ``shortDescription``. Locations are relative URIs (resolved against the
repository root, where CI runs riskctl) with 1-based line and column in Unicode code
points, as riskctl counts them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from riskctl.errors import Diagnostic, Severity
from riskctl.lint.catalog import CATALOG
from riskctl.report.paths import uri_of

__all__ = ["SARIF_SCHEMA", "SARIF_VERSION", "render_sarif", "sarif_log"]

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render_sarif(diagnostics: Sequence[Diagnostic], *, root: Path) -> str:
    return json.dumps(sarif_log(diagnostics, root=root), indent=2) + "\n"


def sarif_log(diagnostics: Sequence[Diagnostic], *, root: Path) -> dict[str, Any]:
    """The SARIF log as JSON-ready data."""
    ordered = sorted(diagnostics, key=Diagnostic.sort_key)
    codes = sorted({d.code for d in ordered})
    index = {code: i for i, code in enumerate(codes)}
    driver = {
        "name": "riskctl",
        "semanticVersion": _version(),
        "rules": [_rule(code) for code in codes],
    }
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": driver},
                "columnKind": "unicodeCodePoints",
                "results": [_result(d, index[d.code], root) for d in ordered],
            }
        ],
    }


def _rule(code: str) -> dict[str, Any]:
    summary = CATALOG.get(code) or f"riskctl finding {code}."
    return {"id": code, "shortDescription": {"text": summary}}


def _result(diagnostic: Diagnostic, rule_index: int, root: Path) -> dict[str, Any]:
    loc = diagnostic.location
    message = diagnostic.message
    if diagnostic.hint:
        message = f"{message} ({diagnostic.hint})"
    result: dict[str, Any] = {
        "ruleId": diagnostic.code,
        "ruleIndex": rule_index,
        "level": _LEVELS.get(diagnostic.severity, "error"),
        "message": {"text": message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": uri_of(loc.path, root)},
                    "region": {"startLine": max(loc.line, 1), "startColumn": max(loc.column, 1)},
                }
            }
        ],
    }
    if loc.pointer:
        result["properties"] = {"pointer": loc.pointer}
    return result


def _version() -> str:
    try:
        return metadata.version("riskctl")
    except metadata.PackageNotFoundError:  # running from a source tree that was not installed
        return "0.0.0"
