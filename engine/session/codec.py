"""One session line to text and back: the canonical dump, and the parse that locates problems.

The canonical text of an event: one JSON object, ``type`` first and then the fields in
the order the model declares them, decimals as JSON strings (``"0.1"``: exact, never a
float), integers as numbers, and optional fields left out when they hold their default
(``null``, ``GTC``, ``false``, a count of 1). Equal events dump to equal text.

Reading: a line without fractional JSON numbers (every canonical line) is validated in one
pass by pydantic-core. Any other line, or one that fails, takes the exact path: parsed with
``parse_float=Decimal`` and checked field by field, so each problem gets its column.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import cache
from typing import IO, Any, get_args

import orjson
from pydantic import TypeAdapter, ValidationError

from riskctl.session.events import (
    EVENT_TYPES,
    EventClass,
    SessionEvent,
    SessionHeader,
    SessionLine,
)
from riskctl.session.problems import SessionProblem, field_problems, key_columns

__all__ = ["dump_event", "parse_line", "write_event"]

_CLASSES: dict[str, type[SessionHeader] | EventClass] = {"session": SessionHeader, **EVENT_TYPES}
_KEPT = frozenset({"type", "version"})  # written even when they hold their default
_NO_DEFAULT = object()
_CONSTANT = re.compile(r"-?(NaN|Infinity)")
# A JSON number with a fraction or an exponent (or something like one inside a string: then
# the line merely takes the exact path).
_FLOAT_TOKEN = re.compile(r"[:,\[]\s*-?\d+(\.|[eE])")
_LINE: TypeAdapter[SessionHeader | SessionEvent] = TypeAdapter(SessionLine)


def dump_event(event: SessionLine) -> str:
    """The canonical one-line JSON text of an event or header (no newline)."""
    out: dict[str, Any] = {}
    for name, default in _fields(type(event)):
        value = getattr(event, name)
        if value is None or (default is not _NO_DEFAULT and _same(value, default)):
            continue
        out[name] = str(value) if isinstance(value, Decimal) else value
    return orjson.dumps(out).decode()


def write_event(fp: IO[str], event: SessionLine) -> None:
    """Write one event (or the header) as a line of ``fp``, a text file."""
    fp.write(dump_event(event) + "\n")


@cache
def _fields(cls: type[Any]) -> tuple[tuple[str, Any], ...]:
    """(name, default or _NO_DEFAULT) per field, in declaration order."""
    fields = []
    for name, info in cls.model_fields.items():
        quiet = not info.is_required() and name not in _KEPT and info.default_factory is None
        fields.append((name, info.default if quiet else _NO_DEFAULT))
    return tuple(fields)


def _same(value: Any, default: Any) -> bool:
    # Same type too: False == 0 and Decimal("0.0") == 0, but they are written differently.
    return type(value) is type(default) and value == default


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_line(
    text: str, *, line: int, path: str
) -> SessionHeader | SessionEvent | list[SessionProblem]:
    """One line's event (or header), or the located problems that keep it from being one."""
    text = text.rstrip("\r\n")  # a column past the end, not "line 2 column 1"
    if _FLOAT_TOKEN.search(text) is None:  # the canonical text: decimals are strings
        try:
            return _LINE.validate_json(text)
        except ValidationError:
            pass  # the exact path below says what is wrong, and where
    return _parse_exactly(text, line=line, path=path)


def _parse_exactly(
    text: str, *, line: int, path: str
) -> SessionHeader | SessionEvent | list[SessionProblem]:
    """Numbers through their text (JSON numbers as Decimal), and every problem located."""
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        return [SessionProblem("session.malformed-json", exc.msg, line, exc.colno, path)]
    except ValueError as exc:  # NaN or Infinity, or an integer of thousands of digits
        found = _CONSTANT.search(text)
        column = found.start() + 1 if found else 1
        return [SessionProblem("session.malformed-json", str(exc), line, column, path)]
    if not isinstance(data, dict):
        column = len(text) - len(text.lstrip()) + 1
        message = f"a line must be a JSON object, not {type(data).__name__}"
        return [SessionProblem("session.not-an-object", message, line, column, path)]
    kind = data.get("type")
    cls = _CLASSES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        return [_unknown_type(kind, text, line=line, path=path)]
    # Pydantic reads a JSON number into a Decimal through a float (0.1000...01 -> 0.1), so a
    # decimal goes to it as its exact text; a fractional number elsewhere stays a number
    # (refused by a strict int or str field, as it should be).
    decimals = _decimal_fields(cls)
    exact = {
        key: (str(value) if key in decimals else float(value))
        if isinstance(value, Decimal)
        else value
        for key, value in data.items()
    }
    try:
        return cls.model_validate_json(json.dumps(exact))
    except ValidationError as exc:
        return field_problems(exc, text=text, line=line, path=path)


@cache
def _decimal_fields(cls: type[Any]) -> frozenset[str]:
    return frozenset(
        name
        for name, info in cls.model_fields.items()
        if info.annotation is Decimal or Decimal in get_args(info.annotation)
    )


def _unknown_type(kind: Any, text: str, *, line: int, path: str) -> SessionProblem:
    known = ", ".join(["session", *EVENT_TYPES])
    if kind is None:
        message = f"the line has no type; it must be one of {known}"
        return SessionProblem("session.unknown-type", message, line, 1, path, "type")
    column = key_columns(text).get("type", (1, 1))[0]
    shown = json.dumps(kind, default=str)[:60]
    message = f"type: {shown} is not an event type; it must be one of {known}"
    return SessionProblem("session.unknown-type", message, line, column, path, "type")
