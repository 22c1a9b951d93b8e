"""The counts every lint report ends with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from riskctl.errors import Diagnostic, Severity

__all__ = ["LintSummary"]


@dataclass(frozen=True, slots=True)
class LintSummary:
    """Files read, findings by severity, and findings a waiver silenced."""

    files: int
    errors: int
    warnings: int
    waived: int = 0

    @classmethod
    def of(cls, diagnostics: Sequence[Diagnostic], *, files: int, waived: int = 0) -> LintSummary:
        return cls(
            files=files,
            errors=sum(d.severity is Severity.ERROR for d in diagnostics),
            warnings=sum(d.severity is Severity.WARNING for d in diagnostics),
            waived=waived,
        )

    def to_json(self) -> dict[str, int]:
        return {
            "files": self.files,
            "errors": self.errors,
            "warnings": self.warnings,
            "waived": self.waived,
        }

    def line(self) -> str:
        """``6 file(s) checked: 0 error(s), 1 warning(s), 2 waived``."""
        text = f"{self.files} file(s) checked: {self.errors} error(s), {self.warnings} warning(s)"
        return f"{text}, {self.waived} waived" if self.waived else text
