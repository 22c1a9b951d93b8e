"""Read a session file as a stream of events, in file order, with every problem located.

Streaming: one line is held at a time, so memory does not grow with the file (a line
longer than :data:`MAX_LINE_BYTES` is skipped and reported, not read whole). A gzip file
is recognised by its first bytes, whatever its name.

Order: events come out exactly in file order and are never reordered. ``recv_ms``
should not decrease from one line to the next; when it does (receive clocks of two
threads, NTP steps: a few ms back), the event is passed on as it is, with its
``recv_ms`` untouched, and no problem is reported. A replay decides what time means then.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from riskctl.session.codec import parse_line
from riskctl.session.events import SessionEvent, SessionHeader
from riskctl.session.problems import SessionError, SessionProblem

__all__ = ["MAX_LINE_BYTES", "read_header", "read_session"]

MAX_LINE_BYTES = 1 << 20  # an event is a few hundred bytes; a megabyte is a broken file
_GZIP_MAGIC = b"\x1f\x8b"


def read_session(
    path: Path | str, *, strict: bool = False
) -> Iterator[SessionEvent | SessionProblem]:
    """Every event of the file, in order, and a :class:`SessionProblem` for each bad line.

    The header line, when the file begins with one, is checked and skipped (read it with
    :func:`read_header`). After a problem the reader goes on with the next line, except
    when the file itself cannot be read on (``session.unreadable``, the last item).
    With ``strict=True`` the first problem raises :class:`SessionError` instead.
    Raises OSError when the file cannot be opened.
    """
    for item in _items(Path(path)):
        if isinstance(item, SessionProblem):
            if strict:
                raise SessionError(item)
            yield item
        elif not isinstance(item, SessionHeader):
            yield item


def read_header(path: Path | str) -> SessionHeader | None:
    """The file's header, when its first non-blank line is a valid one; else None."""
    for item in _items(Path(path)):
        return item if isinstance(item, SessionHeader) else None
    return None


def _items(path: Path) -> Iterator[SessionHeader | SessionEvent | SessionProblem]:
    name = str(path)
    started = False
    with _open(path) as fp:
        number = 0
        while True:
            number += 1
            try:
                raw = fp.readline(MAX_LINE_BYTES + 1)
                if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                    _skip_line(fp)
                    message = f"the line is longer than {MAX_LINE_BYTES} bytes; it is skipped"
                    yield SessionProblem("session.line-too-long", message, number, 1, name)
                    continue
            except (OSError, EOFError, zlib.error) as exc:
                message = f"the file cannot be read on: {exc}"
                yield SessionProblem("session.unreadable", message, number, 1, name)
                return
            if not raw:
                return
            text = _text(raw, number=number, path=name)
            if isinstance(text, SessionProblem):
                yield text
                started = True
                continue
            if not text.strip():
                continue
            item = parse_line(text, line=number, path=name)
            if isinstance(item, list):
                yield from item
            elif isinstance(item, SessionHeader) and started:
                message = "a session header belongs on the first line; this one is ignored"
                yield SessionProblem("session.misplaced-header", message, number, 1, name, "type")
            else:
                yield item
            started = True


def _text(raw: bytes, *, number: int, path: str) -> str | SessionProblem:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        column = len(raw[: exc.start].decode("utf-8", errors="replace")) + 1
        return SessionProblem(
            "session.not-utf8", "the line is not UTF-8 text", number, column, path
        )
    return text.removeprefix("\ufeff") if number == 1 else text


def _skip_line(fp: io.BufferedIOBase) -> None:
    while True:
        chunk = fp.readline(MAX_LINE_BYTES)
        if not chunk or chunk.endswith(b"\n"):
            return


@contextmanager
def _open(path: Path) -> Iterator[io.BufferedIOBase]:
    raw = path.open("rb")
    try:
        if raw.peek(2)[:2] == _GZIP_MAGIC:
            with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                yield unzipped
        else:
            yield raw
    finally:
        raw.close()
