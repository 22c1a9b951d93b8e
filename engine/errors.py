"""Diagnostics and the exception tree.

A problem found in a policy file is data: a :class:`Diagnostic` with a stable
``code``, a message in full words, a :class:`Location` (file, 1-based line and
column, JSON pointer of the field) and a :class:`Severity`. Checks collect all
of them and report them together.

Exceptions raised by riskctl::

    RiskctlError                 root; never carries a secret in its message
    └── PolicyLoadError          policy files did not load; .diagnostics lists every problem

The gate itself never raises on bad input: a bad context or a failing rule becomes a
reject decision, and a refused reload returns its diagnostics.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from riskctl.secrets import redact

__all__ = [
    "Diagnostic",
    "Location",
    "PolicyLoadError",
    "RiskctlError",
    "Severity",
    "redact",
]


class Severity(enum.StrEnum):
    """How bad a finding is; ``error`` fails lint, ``warning`` fails only with --strict."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding points: a file, 1-based line and column, and the field's JSON pointer."""

    path: str
    line: int = 1
    column: int = 1
    pointer: str = ""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a policy, an expression or a context."""

    code: str
    message: str
    location: Location
    severity: Severity = Severity.ERROR
    hint: str | None = None

    def __post_init__(self) -> None:
        # Every report, log line and reload answer is built from diagnostics: one redaction.
        object.__setattr__(self, "message", redact(self.message))
        if self.hint is not None:
            object.__setattr__(self, "hint", redact(self.hint))

    def format(self) -> str:
        """Render as ``path:line:col: severity code: message (hint)``, the text lint format."""
        text = f"{self.location}: {self.severity} {self.code}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text

    def __str__(self) -> str:
        return self.format()

    def to_json(self) -> dict[str, Any]:
        loc = self.location
        return {
            "path": loc.path,
            "line": loc.line,
            "column": loc.column,
            "pointer": loc.pointer,
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "hint": self.hint,
        }

    def sort_key(self) -> tuple[str, int, int, str]:
        loc = self.location
        return (loc.path, loc.line, loc.column, self.code)


class RiskctlError(Exception):
    """Root of every riskctl exception. Messages are redacted before they are stored."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))


class PolicyLoadError(RiskctlError):
    """Policy files did not load; nothing was returned. ``diagnostics`` lists every problem."""

    def __init__(self, message: str, diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]):
        self.diagnostics: tuple[Diagnostic, ...] = tuple(
            sorted(diagnostics, key=Diagnostic.sort_key)
        )
        super().__init__("\n".join([message, *(d.format() for d in self.diagnostics)]))
