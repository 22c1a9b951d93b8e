"""What can be wrong with a session line, and where: structured, located problems.

Codes::

    session.malformed-json   the line is not JSON (column: where the decoder stopped)
    session.not-an-object    the line is JSON but not an object
    session.unknown-type     no ``type``, or one the format does not know
    session.invalid-field    a field is missing, unknown or out of bounds (one per field)
    session.misplaced-header a ``session`` header after the first line
    session.not-utf8         the line is not UTF-8 text
    session.line-too-long    the line is longer than the reader accepts; it is skipped
    session.unreadable       the file cannot be read on (a cut or corrupt gzip stream)

Exceptions::

    RiskctlError
    └── SessionError         read_session(strict=True) met a problem; .problem says which
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from riskctl.errors import Diagnostic, Location, RiskctlError

__all__ = ["SessionError", "SessionProblem", "field_problems"]

_DECODER = json.JSONDecoder()


@dataclass(frozen=True, slots=True)
class SessionProblem:
    """One problem in a session file: a code, a message, and 1-based line and column.

    ``field`` is the dotted path of the field it is about (``price``, ``venues.1``), when
    there is one; the message then begins with it (``price: must be > 0``).
    """

    code: str
    message: str
    line: int
    column: int
    path: str
    field: str | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.code}: {self.message}"

    def to_diagnostic(self) -> Diagnostic:
        """The problem as riskctl's Diagnostic, to print with the other problems."""
        pointer = "" if self.field is None else "/" + self.field.replace(".", "/")
        return Diagnostic(
            self.code, self.message, Location(self.path, self.line, self.column, pointer)
        )


class SessionError(RiskctlError):
    """A session file has a problem and the reader was asked to stop at the first."""

    def __init__(self, problem: SessionProblem) -> None:
        self.problem = problem
        super().__init__(str(problem))


# Pydantic's words -> shorter ones that read well after a field name.
def _message(error: Any) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a field of this event type"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        sign = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<"}.get(kind, "<=")
        bound = next(iter(ctx.values()), "")
        return f"must be {sign} {bound}"
    if kind == "session_shape":
        return str(ctx["message"])
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    message: str = error["msg"]
    return message[:1].lower() + message[1:]


def field_problems(
    exc: ValidationError, *, text: str, line: int, path: str
) -> list[SessionProblem]:
    """One located problem per pydantic error of a line that parsed as a JSON object."""
    columns = key_columns(text)
    problems = []
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        ctx = error.get("ctx") or {}
        if not loc and isinstance(ctx.get("field"), str):
            loc = [ctx["field"]]
        field = ".".join(loc) or None
        top = loc[0] if loc else None
        column = 1  # a missing field: the line itself
        if top in columns:
            value_column, key_column = columns[top]
            column = key_column if error["type"] == "extra_forbidden" else value_column
        message = f"{field}: {_message(error)}" if field else _message(error)
        problems.append(SessionProblem("session.invalid-field", message, line, column, path, field))
    return problems


def key_columns(text: str) -> dict[str, tuple[int, int]]:
    """Top-level key -> (1-based column of its value, of the key) in a one-line JSON object."""
    found: dict[str, tuple[int, int]] = {}
    index = _skip_space(text, 0)
    if index >= len(text) or text[index] != "{":
        return found
    index = _skip_space(text, index + 1)
    while index < len(text) and text[index] == '"':
        key_at = index
        key, index = _DECODER.raw_decode(text, index)
        index = _skip_space(text, index)
        if index >= len(text) or text[index] != ":":
            break
        index = _skip_space(text, index + 1)
        found.setdefault(key, (index + 1, key_at + 1))
        try:
            _, index = _DECODER.raw_decode(text, index)
        except json.JSONDecodeError:
            break
        index = _skip_space(text, index)
        if index < len(text) and text[index] == ",":
            index = _skip_space(text, index + 1)
    return found


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index
