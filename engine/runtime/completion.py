"""A context being completed: runtime-owned fields set, and what the bot said otherwise."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from riskctl.state.trading import Mode

__all__ = ["Completion", "scope_of"]


class Completion:
    """Copy-on-write over the bot's raw context: only the sections the runtime sets are
    copied. ``set("state.kill_switch", True)`` overrides the bot's value and, when the bot
    gave a different one, records a disagreement (which reconciliation acts on later)."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._given = data
        self._data: dict[str, Any] = dict(data)
        self._copied: dict[str, dict[str, Any]] = {}  # section -> its copy in _data
        self.disagreements: dict[str, Any] = {}
        self.restrictions: list[Mode] = []  # modes breakers impose here: REDUCING, HALTED
        self.scope: tuple[str, str] | None = None  # (venue, symbol) of the context, if any

    @property
    def data(self) -> Mapping[str, Any]:
        return self._data

    def given(self, path: str) -> Any:
        """The bot's raw value at a dotted path (None when absent or not a mapping)."""
        return _get(self._given, path)

    def section(self, name: str) -> Mapping[str, Any] | None:
        """The bot's raw section ``name`` (None when absent or not a mapping)."""
        found = self._given.get(name)
        return found if type(found) is dict or isinstance(found, Mapping) else None

    def set(self, path: str, value: Any) -> None:
        """Set one runtime-owned field, ``section.leaf`` (every owned field is one deep)."""
        section, leaf = _split(path)
        if not section:
            raise ValueError(f"{path}: the runtime owns fields of sections, not sections")
        self.update(section, {leaf: value})

    def update(self, section: str, values: Mapping[str, Any]) -> None:
        """``set`` for several fields of one section (the hot path: one copy, one lookup)."""
        holder = self._copied.get(section)
        if holder is None:
            holder = self._copy(section)
        given = self._given.get(section)
        if not isinstance(given, dict) or not given:
            holder.update(values)  # the bot sent nothing here: nothing to disagree with
            return
        disagreements = self.disagreements
        for leaf, value in values.items():
            holder[leaf] = value
            claimed = given.get(leaf)
            if claimed is None or claimed is value:
                continue
            if type(claimed) is type(value):  # _same's first case, without the call
                if claimed == value:
                    continue
            elif _same(claimed, value):
                continue
            disagreements[f"{section}.{leaf}"] = {"given": _shown(claimed), "used": _shown(value)}

    def _copy(self, section: str) -> dict[str, Any]:
        current = self._data.get(section)
        holder = self._data[section] = dict(current) if isinstance(current, Mapping) else {}
        self._copied[section] = holder
        return holder


def scope_of(paths: tuple[str, str], data: Mapping[str, Any]) -> tuple[str, str] | None:
    """(venue, symbol) of raw context data at the stage's scope field paths, if both are text."""
    venue, symbol = _get(data, paths[0]), _get(data, paths[1])
    if isinstance(venue, str) and isinstance(symbol, str):
        return venue, symbol
    return None


@cache
def _split(path: str) -> tuple[str, str]:
    """("account", "daily_pnl") for "account.daily_pnl"; runtime-owned fields are one deep."""
    section, _, leaf = path.rpartition(".")
    return section, leaf


@cache
def _parts(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def _get(data: Any, path: str) -> Any:
    for part in _parts(path):
        if type(data) is not dict and not isinstance(data, Mapping):  # dict: no ABC check
            return None
        data = data.get(part)
    return data


def _same(given: Any, value: Any) -> bool:
    """Equal as the runtime means it: booleans by identity, numbers by value (a bot's
    "10.0" is the runtime's 10), anything else by equality."""
    kind = type(value)
    if type(given) is kind:
        return bool(given == value)
    if kind is Decimal and type(given) is str:  # the common case: a bot's number as text
        try:
            return bool(Decimal(given) == value)
        except (InvalidOperation, ValueError):
            return False
    if isinstance(given, bool) or isinstance(value, bool):
        return given is value
    if isinstance(given, (int, str, Decimal)) and isinstance(value, (int, Decimal)):
        try:
            return Decimal(given) == value
        except (InvalidOperation, ValueError):
            return False
    return bool(given == value)


def _shown(value: Any) -> Any:
    if value is None or type(value) in _PLAIN:
        return value
    return value if isinstance(value, (str, int, bool)) else str(value)


_PLAIN = frozenset({str, int, bool})
