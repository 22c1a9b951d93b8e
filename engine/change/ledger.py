"""What the change log says about today: changes used from the budget, each field's baseline.

The daily budget (``max_changes_per_day``) counts changed *fields*, not proposals, in
``change`` receipts whose ``time`` falls on the current UTC day; rollbacks do not count
(an undo is never blocked by the budget). A field's baseline is the ``from`` of its first
change in a receipt of the current UTC day (see :mod:`riskctl.change.checks`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from riskctl.change.selector import FieldPath, parse_path

__all__ = ["MISSING", "Today", "decode_value", "encode_value", "read_value"]


class Today:
    """The receipts of one UTC day, indexed for the budget and baselines."""

    def __init__(self, receipts: list[dict[str, Any]], now: dt.datetime) -> None:
        day = now.astimezone(dt.UTC).date().isoformat()
        todays = [
            r
            for r in receipts
            if r.get("kind") == "change" and str(r.get("time", "")).startswith(day)
        ]
        self.used = sum(len(r.get("changes", [])) for r in todays)
        self._baselines: dict[tuple[str, FieldPath], Any] = {}
        for receipt in todays:
            for change in receipt.get("changes", []):
                path = parse_path(str(change.get("path", "")))
                key = (str(change.get("policy")), path or ())
                self._baselines.setdefault(key, decode_value(change.get("from")))

    def baseline(self, policy: str, path: FieldPath, current: Any) -> Any:
        return self._baselines.get((policy, path), current)


def decode_value(stored: Any) -> Any:
    """A receipt stores decimals as {"decimal": "1.5"} so they read back exact."""
    if isinstance(stored, dict) and "decimal" in stored:
        return Decimal(str(stored["decimal"]))
    return stored


class _Missing:
    pass


MISSING: Any = _Missing()


def read_value(data: Any, path: FieldPath) -> Any:
    """The plain value at ``path`` in a document's data, or :data:`MISSING`."""
    node = data
    for step in path:
        found = (isinstance(node, dict) and isinstance(step, str) and step in node) or (
            isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)
        )
        if not found:
            return MISSING
        node = node[step]
    return node


def encode_value(value: Any) -> Any:
    """A value as JSON that reads back exactly: decimals as ``{"decimal": "1.5"}``."""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return {"decimal": format(Decimal(value).normalize(), "f")}
    return value
