"""The store's one exception: a structured diagnostic that names the file, never a secret."""

from __future__ import annotations

from pathlib import Path

from riskctl.errors import Diagnostic, Location, RiskctlError

__all__ = ["StoreError"]


class StoreError(RiskctlError):
    """A state file could not be opened, migrated or written; ``diagnostic`` says why."""

    def __init__(self, code: str, path: Path | str, message: str) -> None:
        self.diagnostic = Diagnostic(code, message, Location(str(path)))
        super().__init__(self.diagnostic.format())
