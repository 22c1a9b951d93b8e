"""File paths as reports show them: relative to the project root, with forward slashes."""

from __future__ import annotations

from pathlib import Path, PurePath
from urllib.parse import quote

__all__ = ["relative_posix", "uri_of"]


def relative_posix(path: str, root: Path) -> str:
    """``path`` relative to ``root`` when it is inside it, else as given; always ``/``-separated.

    GitHub annotations and SARIF results resolve paths against the repository root, which is
    where CI runs riskctl.
    """
    pure = PurePath(path)
    if pure.is_absolute():
        try:
            return pure.relative_to(root.resolve()).as_posix()
        except ValueError:
            return pure.as_posix()
    text = pure.as_posix()
    return text[2:] if text.startswith("./") else text


def uri_of(path: str, root: Path) -> str:
    """A URI reference for SARIF: relative and percent-encoded, or ``file://`` when outside root."""
    shown = relative_posix(path, root)
    if PurePath(shown).is_absolute():
        return Path(shown).as_uri()
    return quote(shown, safe="/")
