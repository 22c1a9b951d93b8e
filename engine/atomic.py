"""Write-then-rename: a file riskctl writes is either the old one or the new one, whole.

A reader (a gate reloading, an editor loading a schema, CI reading a report) never sees a
file cut mid-write: the text goes to a temporary file in the same directory, is flushed
to disk, and replaces the target in one ``os.replace``; the directory is then flushed so
the rename itself survives a crash. On any failure the target is untouched and the
temporary file is removed.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

__all__ = ["write_text_atomic"]

_NEW_FILE_MODE = 0o644  # what a fresh file gets; an existing file keeps its own mode


def write_text_atomic(path: str | Path, text: str, *, encoding: str = "utf-8") -> None:
    """Replace ``path`` with ``text`` atomically; raise OSError with the target untouched."""
    target = Path(os.path.realpath(path))  # through a symlink, as write_text would
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode(encoding))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, _mode_of(target))
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_directory(target.parent)


def _mode_of(target: Path) -> int:
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        return _NEW_FILE_MODE


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; some systems cannot open a directory, which is no failure."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
