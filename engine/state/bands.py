"""Inventory bands: one pure state machine per band set (its band, hysteresis, hold time).

How the runtime calls it, for a bundle's ``InventoryBands`` sets:

1. After each change of position (an applied fill) and on every ``monitor`` evaluation, for
   each set whose scope covers the position's venue and symbol, call
   ``observe(spec, state, measure, position_qty, now_ms, max_hold_ms=...)``. ``measure`` is
   the set's measure, computed by the runtime: ``|position|`` for ``position_qty``,
   ``|position| / max_position_qty`` for ``position_ratio``; it must be >= 0.
   ``position_qty`` is the signed position (0 when flat), for the hold-time limit;
   ``max_hold_ms`` is the policy's hold limit (None: no limit). A set keeps one state per
   (venue, symbol) it covers (each pair's position moves alone: ``instance_key``); pass
   that pair as ``where``, and the state stored under ``("band", instance_key(...))``, or
   ``initial(spec)`` when none is stored.
2. To complete a ``pre_trade`` context: ``blocks_increasing(spec, state)`` says whether
   orders that grow |position| are refused (orders that shrink it always pass), and
   ``skew(spec, state)`` is the band's skew multiplier for the quoter. ``band_name`` is what
   ``state show`` prints.

Decisions written down here (and tested):
- Up: as soon as the measure is above the current band's ``up_to``, straight to the band
  the measure is in (the last band when above every ``up_to``), with no hysteresis.
- Down: out of band ``i`` only when the measure is <= ``bands[i-1].up_to - hysteresis``;
  a fall through several bands lands in the lowest band that rule reaches.
- Effects on a change: a ``record`` (from, to, measure); an ``alert`` resolved for a left
  band with ``alert`` and firing for an entered one; an ``action`` ``flatten`` on entering a
  band with ``flatten``. Entry only: staying in a band emits nothing, so no storm.
- Hold time: the clock starts when the position leaves flat and stops when it is flat
  again; ``flatten`` is emitted once when it has been open longer than ``max_hold_ms``, and
  again only after the position went flat and re-opened. A flip from long to short within
  one fill is not flat, so it does not restart the clock (the cap is on time not flat).
- A stored band index beyond a changed policy's bands counts as its last band (fail closed).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from riskctl.errors import RiskctlError
from riskctl.kinds.inventory_bands import Band, BandSet
from riskctl.state.effects import Effect

__all__ = [
    "BandError",
    "BandState",
    "band_name",
    "blocks_increasing",
    "index",
    "initial",
    "instance_key",
    "key",
    "observe",
    "skew",
]

Step = tuple["BandState", tuple[Effect, ...]]


class BandError(RiskctlError):
    """An input the machine cannot take, e.g. a negative measure."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class BandState:
    """One band set's memory. ``band`` indexes ``spec.bands``."""

    scope: str
    band: int = 0
    since_ms: int = 0
    open_since_ms: int | None = None  # when the position left flat; None while flat
    hold_flattened: bool = False  # the hold-time flatten was emitted for this open position


def key(spec: BandSet) -> str:
    """The state key of a band set: ``venue/symbol``, ``*`` for an omitted selector."""
    return f"{spec.scope.venue or '*'}/{spec.scope.symbol or '*'}"


def instance_key(spec: BandSet, venue: str, symbol: str) -> str:
    """The state key of a set's state for one pair: ``*/ETH/USDT@binance:ETH/USDT``."""
    return f"{key(spec)}@{venue}:{symbol}"


def initial(spec: BandSet) -> BandState:
    """A band set in its first band, flat."""
    scope = key(spec)
    state = _INITIAL.get(scope)
    if state is None:  # one value per set key: states are immutable, so one can be shared
        state = BandState(scope=scope)
        if len(_INITIAL) < _MAX_INITIAL:
            _INITIAL[scope] = state
    return state


_INITIAL: dict[str, BandState] = {}
_MAX_INITIAL = 10_000


def index(spec: BandSet, state: BandState) -> int:
    """The band the set is in, by position (a stored index beyond the policy's last band
    counts as the last: fail closed)."""
    return min(state.band, len(spec.bands) - 1)


_index = index


def _current(spec: BandSet, state: BandState) -> Band:
    return spec.bands[_index(spec, state)]


def band_name(spec: BandSet, state: BandState) -> str:
    """The name of the band the set is in."""
    return _current(spec, state).name


def blocks_increasing(spec: BandSet, state: BandState) -> bool:
    """Whether orders that grow |position| are refused in the current band."""
    return _current(spec, state).block_increasing


def skew(spec: BandSet, state: BandState) -> Decimal:
    """The current band's skew multiplier."""
    return _current(spec, state).skew_multiplier


def _target(spec: BandSet, current: int, measure: Decimal) -> int:
    bands = spec.bands
    if measure > bands[current].up_to:
        above = (i for i, band in enumerate(bands) if measure <= band.up_to)
        return next(above, len(bands) - 1)
    target = current
    while target > 0 and measure <= bands[target - 1].up_to - spec.hysteresis:
        target -= 1
    return target


def _move(
    spec: BandSet,
    state: BandState,
    to: int,
    measure: Decimal,
    *,
    now_ms: int,
    scope: tuple[str, str],
) -> Step:
    source = f"band:{state.scope}"
    left, entered = _current(spec, state), spec.bands[to]
    detail = {"from": left.name, "to": entered.name, "measure": measure}
    effects = [Effect("record", "band", source, scope, "", detail)]
    if left.alert:
        effects.append(_alert(source, scope, left, "resolved", measure))
    if entered.alert:
        effects.append(_alert(source, scope, entered, "firing", measure))
    if entered.flatten:
        why = f"entered band {entered.name}"
        effects.append(Effect("action", "flatten", source, scope, why, {"reason": why}))
    return replace(state, band=to, since_ms=now_ms), tuple(effects)


def _alert(
    source: str, scope: tuple[str, str], band: Band, status: str, measure: Decimal
) -> Effect:
    detail = {"status": status, "band": band.name, "measure": measure}
    message = f"inventory band {band.name}"
    return Effect("alert", band.name, source, scope, message, detail)


def _scope(spec: BandSet) -> tuple[str, str]:
    return spec.scope.venue or "*", spec.scope.symbol or "*"


def _hold(
    spec: BandSet,
    state: BandState,
    position_qty: Decimal,
    *,
    max_hold_ms: int | None,
    now_ms: int,
    scope: tuple[str, str],
) -> Step:
    if position_qty == 0:
        if state.open_since_ms is None and not state.hold_flattened:
            return state, ()  # flat and known flat: no new value to compare and store
        return replace(state, open_since_ms=None, hold_flattened=False), ()
    if state.open_since_ms is None:
        return replace(state, open_since_ms=now_ms, hold_flattened=False), ()
    held = now_ms - state.open_since_ms
    if max_hold_ms is None or state.hold_flattened or held <= max_hold_ms:
        return state, ()
    why = f"the position has been open {held} ms, over the {max_hold_ms} ms hold limit"
    detail = {"reason": why, "open_since_ms": state.open_since_ms}
    flatten = Effect("action", "flatten", f"band:{state.scope}", scope, why, detail)
    return replace(state, hold_flattened=True), (flatten,)


def observe(
    spec: BandSet,
    state: BandState,
    measure: Decimal,
    position_qty: Decimal,
    now_ms: int,
    *,
    max_hold_ms: int | None = None,
    where: tuple[str, str] | None = None,
) -> Step:
    """One look at the position: band moves (with hysteresis) and the hold-time limit.

    ``where`` is the (venue, symbol) whose position this is: the scope of the effects (a
    flatten is for that pair); without it, the set's own scope (``*`` where it names none).
    """
    if not measure.is_finite() or measure < 0:
        raise BandError(
            "band.bad_measure", f"The band measure must be a number of zero or more, not {measure}."
        )
    effects: tuple[Effect, ...] = ()
    current = _index(spec, state)
    to = _target(spec, current, measure)
    scope = where or _scope(spec)
    if to != current:
        state, effects = _move(spec, state, to, measure, now_ms=now_ms, scope=scope)
    elif state.band != current:
        state = replace(state, band=current)  # the policy lost bands: keep the clamped index
    state, held = _hold(
        spec, state, position_qty, max_hold_ms=max_hold_ms, now_ms=now_ms, scope=scope
    )
    return state, (*effects, *held)
