"""The text lint format, ``path:line:col: severity code: message (hint)``, and ANSI colour.

Colour is decided by the caller (a terminal, and NO_COLOR unset or empty); without it the
output is exactly :meth:`riskctl.errors.Diagnostic.format`, so tools can parse it.
"""

from __future__ import annotations

from collections.abc import Sequence

from riskctl.errors import Diagnostic

__all__ = ["paint", "render_text"]

_STYLES = {
    "error": "1;31",
    "warning": "1;33",
    "info": "1;36",
    "path": "1",
    "code": "2",
    "pass": "32",
    "fail": "1;31",
}


def paint(text: str, style: str, *, color: bool) -> str:
    """``text`` in ``style``'s ANSI colour, or unchanged without colour."""
    if not color or style not in _STYLES:
        return text
    return f"\x1b[{_STYLES[style]}m{text}\x1b[0m"


def render_text(diagnostics: Sequence[Diagnostic], *, color: bool = False) -> str:
    """One line per diagnostic, sorted by file, line and column."""
    lines = [_line(d, color=color) for d in sorted(diagnostics, key=Diagnostic.sort_key)]
    return "".join(f"{line}\n" for line in lines)


def _line(diagnostic: Diagnostic, *, color: bool) -> str:
    if not color:
        return diagnostic.format()
    severity = str(diagnostic.severity)
    text = (
        f"{paint(str(diagnostic.location), 'path', color=color)}: "
        f"{paint(severity, severity, color=color)} "
        f"{paint(diagnostic.code, 'code', color=color)}: {diagnostic.message}"
    )
    return f"{text} ({diagnostic.hint})" if diagnostic.hint else text
