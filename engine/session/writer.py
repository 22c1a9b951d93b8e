"""Write a whole session file: streamed, atomic, and byte-for-byte reproducible.

A ``.gz`` name writes gzip with no timestamp or file name in its header, so the same
events give the same bytes (for one zlib version): a committed sample can be compared
with a fresh generation. The file appears whole or not at all (written aside, renamed).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from riskctl.session.codec import write_event
from riskctl.session.events import SessionLine

__all__ = ["open_session_writer", "write_session"]

_NEW_FILE_MODE = 0o644


def write_session(path: Path | str, lines: Iterable[SessionLine]) -> int:
    """Write every line (the header, if any, first) to ``path``; return how many were written."""
    count = 0
    with open_session_writer(path) as fp:
        for line in lines:
            write_event(fp, line)
            count += 1
    return count


@contextmanager
def open_session_writer(path: Path | str, *, compresslevel: int = 9) -> Iterator[IO[str]]:
    """A text file to write session lines to (gzip for a ``.gz`` name), renamed into place
    when the block ends without an error; on an error the target is left untouched."""
    target = Path(path)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as raw:
            if target.name.endswith(".gz"):
                with (
                    gzip.GzipFile(
                        filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=compresslevel
                    ) as zipped,
                    io.TextIOWrapper(zipped, encoding="utf-8", newline="\n") as text,
                ):
                    yield text
            else:
                with io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as text:
                    yield text
        os.chmod(temp, _NEW_FILE_MODE)  # mkstemp's 0600 is for secrets; a session is data
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
