"""Field paths and ChangeControl selectors.

A proposal names one value: a policy ``KIND/NAME`` and a concrete dotted path such as
``spec.scoped[0].max_order_qty``. A ChangeControl selector (``PathSelector``) is
``KIND/NAME:dotted.path`` where NAME and any key may be ``*`` (or contain ``*``) and a
list index may be ``[*]``. A selector also covers everything below the path it names, so
``RiskLimits/btc-eth-mm:spec.venues`` protects every field of every venue.
"""

from __future__ import annotations

import fnmatch
import re

__all__ = ["FieldPath", "matches", "parse_path", "show_path"]

FieldPath = tuple[str | int, ...]

_SEGMENT = re.compile(r"^(?P<key>[A-Za-z_*][A-Za-z0-9_*]*)(?P<index>(\[(\*|[0-9]+)\])*)$")
_INDEX = re.compile(r"\[(\*|[0-9]+)\]")


def parse_path(text: str) -> FieldPath | None:
    """``spec.scoped[0].max_order_qty`` -> ``("spec", "scoped", 0, "max_order_qty")``.

    Returns None when the text is not a dotted path; ``*`` stays a string (selectors only).
    """
    steps: list[str | int] = []
    for part in text.split("."):
        found = _SEGMENT.match(part)
        if found is None:
            return None
        steps.append(found.group("key"))
        for index in _INDEX.findall(found.group("index")):
            steps.append(index if index == "*" else int(index))
    return tuple(steps)


def show_path(path: FieldPath) -> str:
    """The inverse of :func:`parse_path`."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


def matches(selector: str, policy: str, path: FieldPath) -> bool:
    """True when ``selector`` covers ``path`` of ``policy`` (``KIND/NAME``) or a parent of it."""
    ref, _, dotted = selector.partition(":")
    if not fnmatch.fnmatchcase(policy, ref):
        return False
    wanted = parse_path(dotted)
    if wanted is None or len(wanted) > len(path):
        return False
    for want, step in zip(wanted, path, strict=False):
        if want == "*" and isinstance(step, int):
            continue
        if isinstance(want, int) or isinstance(step, int):
            if want != step:
                return False
        elif not fnmatch.fnmatchcase(step, want):
            return False
    return True
