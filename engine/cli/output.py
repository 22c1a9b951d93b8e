"""Shared output helpers for CLI verbs: diagnostics as text or JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from engine.errors import Diagnostic, Severity

__all__ = ["print_diagnostics", "print_json", "summary"]


def summary(diagnostics: Sequence[Diagnostic], files: int) -> dict[str, int]:
    return {
        "files": files,
        "errors": sum(d.severity is Severity.ERROR for d in diagnostics),
        "warnings": sum(d.severity is Severity.WARNING for d in diagnostics),
    }


def print_json(value: Any, out: TextIO | None = None) -> None:
    json.dump(value, out or sys.stdout, indent=2, default=str)
    (out or sys.stdout).write("\n")


def print_diagnostics(
    diagnostics: Sequence[Diagnostic], *, files: int, fmt: str, out: TextIO | None = None
) -> None:
    stream = out or sys.stdout
    ordered = sorted(diagnostics, key=Diagnostic.sort_key)
    if fmt == "json":
        findings = [d.to_json() for d in ordered]
        print_json({"findings": findings, "summary": summary(ordered, files)}, stream)
        return
    for diagnostic in ordered:
        print(diagnostic.format(), file=stream)
    counts = summary(ordered, files)
    print(
        f"{counts['files']} file(s) checked: {counts['errors']} error(s), "
        f"{counts['warnings']} warning(s)",
        file=sys.stderr,
    )
