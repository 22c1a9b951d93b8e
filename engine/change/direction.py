"""Which way a change moves risk: the one direction table for every field.

A field's direction is looked up by its name (the last segment of the path):

==========================  =====================  ==========================================
field                       tightens when it goes  why
==========================  =====================  ==========================================
``max_*`` (any limit)       down                   a smaller cap lets less risk through
``*_bps`` collars           down                   a narrower collar refuses more prices
``stale_*_ms``              down                   older data is refused sooner
``skew_multiplier``         up                     quotes lean harder against inventory
``fee_reserve_bps``         up                     more of the balance is held back
``min_*``                   up                     a larger floor refuses more
==========================  =====================  ==========================================

Anything else (a flag, a choice, a band edge, a field not listed) counts as **loosening**
whichever way it moves: the safe default, so an unknown field always needs the approval a
loosening needs. A change that leaves the value equal is ``unchanged``.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

__all__ = ["Direction", "direction_of", "same_value", "tightens_when"]


class Direction(enum.StrEnum):
    """What a change does to risk."""

    TIGHTENS = "tightens"
    LOOSENS = "loosens"
    UNCHANGED = "unchanged"


_HIGHER_TIGHTENS_NAMES = frozenset({"skew_multiplier", "fee_reserve_bps"})


def tightens_when(field: str) -> str | None:
    """``"lower"`` or ``"higher"``: which move tightens ``field``; None for unknown fields."""
    if field in _HIGHER_TIGHTENS_NAMES or field.startswith("min_"):
        return "higher"
    if field.startswith("max_") or field.endswith("_bps"):
        return "lower"
    if field.startswith("stale_") and field.endswith("_ms"):
        return "lower"
    return None


def direction_of(field: str, old: Any, new: Any) -> Direction:
    """The direction of setting ``field`` from ``old`` to ``new`` (see the module table)."""
    if same_value(old, new):
        return Direction.UNCHANGED
    rule = tightens_when(field)
    if rule is None or not (_is_number(old) and _is_number(new)):
        return Direction.LOOSENS
    lower = Decimal(new) < Decimal(old)
    return Direction.TIGHTENS if lower == (rule == "lower") else Direction.LOOSENS


def _is_number(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def same_value(old: Any, new: Any) -> bool:
    if _is_number(old) and _is_number(new):
        return bool(Decimal(old) == Decimal(new))
    return bool(type(old) is type(new) and old == new)
