"""Shared output helpers for CLI verbs: JSON, located problems, colour, and report files."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from riskctl.atomic import write_text_atomic
from riskctl.errors import Diagnostic

__all__ = ["print_json", "print_problems", "use_color", "write_report"]


def print_json(value: Any, out: TextIO | None = None) -> None:
    json.dump(value, out or sys.stdout, indent=2, default=str)
    (out or sys.stdout).write("\n")


def print_problems(problems: Iterable[Diagnostic], out: TextIO | None = None) -> None:
    """Located problems, one ``path:line:col: severity code: message`` line each, sorted."""
    stream = out or sys.stderr
    for problem in sorted(problems, key=Diagnostic.sort_key):
        print(problem.format(), file=stream)


def use_color(stream: TextIO) -> bool:
    """ANSI colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def write_report(text: str, path: Path) -> str | None:
    """Write a report file; the reason in full words when it cannot be written, else None."""
    try:
        write_text_atomic(path, text)
    except OSError as exc:
        return f"cannot write the report to {path}: {exc.strerror or exc}"
    return None
