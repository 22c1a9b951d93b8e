"""The JSON Schema of one session line: the header or any event, dispatched on ``type``."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from riskctl.session.events import SessionLine

__all__ = ["session_line_schema"]

DESCRIPTION = (
    "One line of a riskctl session file (JSON Lines, optionally gzip): the optional"
    " `session` header on the first line, or an event told apart by `type`. Decimals may be"
    " JSON numbers or decimal strings; riskctl writes strings, so no digit is lost."
)


def session_line_schema() -> dict[str, Any]:
    """The schema pydantic generates for :data:`SessionLine`, with a description."""
    schema: dict[str, Any] = TypeAdapter(SessionLine).json_schema(mode="validation")
    schema["description"] = DESCRIPTION
    return schema
