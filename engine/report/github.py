"""GitHub Actions workflow commands: one annotation per finding on the pull request.

``::error file=PATH,line=L,col=C,title=CODE::MESSAGE``, with ``warning`` and ``notice`` for
the other severities. GitHub reads ``%``, CR and LF as escapes in the message, and also
``:`` and ``,`` in property values, so those are percent-encoded.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from riskctl.errors import Diagnostic, Severity
from riskctl.report.paths import relative_posix

__all__ = ["escape_data", "escape_property", "render_github"]

_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    """Escape a command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (file, title)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(diagnostics: Sequence[Diagnostic], *, root: Path) -> str:
    """One workflow command per diagnostic; paths relative to ``root`` (the checkout)."""
    return "".join(_command(d, root) + "\n" for d in sorted(diagnostics, key=Diagnostic.sort_key))


def _command(diagnostic: Diagnostic, root: Path) -> str:
    loc = diagnostic.location
    properties = ",".join(
        (
            f"file={escape_property(relative_posix(loc.path, root))}",
            f"line={loc.line}",
            f"col={loc.column}",
            f"title={escape_property(diagnostic.code)}",
        )
    )
    message = diagnostic.message
    if diagnostic.hint:
        message = f"{message} ({diagnostic.hint})"
    return f"::{_COMMANDS.get(diagnostic.severity, 'error')} {properties}::{escape_data(message)}"
