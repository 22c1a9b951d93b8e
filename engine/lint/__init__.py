"""Checks beyond the schema, run by ``riskctl lint`` and before every (re)load."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.errors import Diagnostic
from engine.loader import load_documents
from engine.ruleset import check_bundle
from engine.yamlio import iter_files

__all__ = ["LintReport", "lint_paths"]


@dataclass(frozen=True, slots=True)
class LintReport:
    """Every diagnostic found, and how many files were read."""

    diagnostics: tuple[Diagnostic, ...]
    files: int


def lint_paths(paths: Sequence[str | Path]) -> LintReport:
    """Load the policies under ``paths`` and run every check; never raises on bad input."""
    policies, problems = load_documents(paths)
    problems += check_bundle(policies)
    files = sum(1 for _ in iter_files([Path(p) for p in paths if Path(p).exists()]))
    return LintReport(tuple(sorted(problems, key=Diagnostic.sort_key)), files)
