"""A policy directory as file texts, and a what-if copy of it with some files replaced.

The candidate bundle is loaded and linted from a temporary copy, so the real files are
never touched before the result is known to load (an invalid result never replaces a
valid file). Lint findings are reported under the real paths.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from riskctl.bundle import load_bundle
from riskctl.errors import Diagnostic, Location, PolicyLoadError, Severity
from riskctl.lint import lint_paths

__all__ = ["Candidate", "file_sha256", "try_candidate"]


def file_sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the policy set would be: its bundle hash (None: it does not load) and findings."""

    bundle_hash: str | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.ERROR)


def try_candidate(policies: Path, replaced: dict[str, str]) -> Candidate:
    """Load and lint ``policies`` with the files in ``replaced`` (relative path -> text)."""
    with tempfile.TemporaryDirectory(prefix="riskctl-change-") as temp:
        copy = Path(temp) / "policies"
        shutil.copytree(policies, copy, ignore=shutil.ignore_patterns(".riskctl"))
        for relative, text in replaced.items():
            (copy / relative).write_text(text, encoding="utf-8")
        try:
            bundle_hash: str | None = load_bundle(copy).hash
        except PolicyLoadError:
            bundle_hash = None
        report = lint_paths([copy])
        found = tuple(_moved(d, str(copy), str(policies)) for d in report.diagnostics)
    return Candidate(bundle_hash, found)


def _moved(diagnostic: Diagnostic, old: str, new: str) -> Diagnostic:
    loc = diagnostic.location
    path = new + loc.path[len(old) :] if loc.path.startswith(old) else loc.path
    return Diagnostic(
        diagnostic.code,
        diagnostic.message.replace(old, new),
        Location(path, loc.line, loc.column, loc.pointer),
        diagnostic.severity,
        diagnostic.hint,
    )
