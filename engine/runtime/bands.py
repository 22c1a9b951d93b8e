"""Inventory bands and alert thresholds in the runtime.

Bands read the position the book completed into the context (``position.qty`` at pre_trade,
``books.position_qty`` after a fill, ``inventory.position_qty`` at monitor); a
``position_ratio`` set divides it by the scope's ``max_position_qty``. The band in force
sets ``state.block_increasing`` at pre_trade. Alert metrics compile with the rules' code
generator, one program per stage; a metric that raises is "unavailable" (never a resolve),
and so is an ``of_limit`` alert whose limit no RiskLimits sets.
See ``riskctl.state.bands`` and ``riskctl.state.alerts`` for the machines.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from riskctl.alert_limits import LimitTable
from riskctl.bundle import PolicyBundle
from riskctl.context import FillContext, MonitorContext, PreTradeContext
from riskctl.context.base import StageContext
from riskctl.decision import Decision
from riskctl.kinds import AlertThresholds, InventoryBands, RiskLimits
from riskctl.kinds.alert_thresholds import Alert
from riskctl.kinds.inventory_bands import BandSet
from riskctl.limits import resolve_limits
from riskctl.runtime.completion import Completion
from riskctl.runtime.expressions import compile_stage
from riskctl.runtime.part import Scope
from riskctl.state import alerts as thresholds
from riskctl.state import bands as band_sets
from riskctl.state.codec import decode
from riskctl.state.effects import Effect
from riskctl.state.store import Control
from riskctl.symbols import Type

__all__ = ["AlertPart", "BandPart"]

MAX_SCOPES = 10_000  # (venue, symbol) pairs whose band sets are remembered


class BandPart:
    """Every band set of the bundle, one state per set and (venue, symbol) it covers: each
    pair's position moves alone, so one venue's flat book never resets another's band.

    Rows are keyed ``instance_key`` (``*/ETH/USDT@binance:ETH/USDT``). A row of the older
    one-state-per-set layout (the set key alone) is read as the state of every pair of the
    set that has none of its own yet, so an upgrade never loosens a band in force.
    ``describe`` shows each set at the highest band any of its pairs is in (what
    ``riskctl state show`` and policy tests name by set key), and each pair under
    ``band_pairs``."""

    machine = "band"

    def __init__(self, bundle: PolicyBundle | None) -> None:
        documents = bundle.of_kind(InventoryBands) if bundle is not None else ()
        self._sets = {band_sets.key(s): s for d in documents for s in d.spec.sets}
        self._limits = bundle.of_kind(RiskLimits) if bundle is not None else ()
        self._states: dict[str, band_sets.BandState] = {}  # instance key -> state
        self._legacy: dict[str, band_sets.BandState] = {}  # set key -> a pre-instance row
        self._changed: set[str] = set()
        self._max_qty: dict[Scope, Decimal | None] = {}
        self._scoped: dict[Scope, list[tuple[str, str, BandSet]]] = {}

    def load(self, rows: Mapping[str, str]) -> None:
        decoded = {k: decode(band_sets.BandState, text) for k, text in rows.items()}
        self._states = {k: v for k, v in decoded.items() if "@" in k}
        self._legacy = {k: v for k, v in decoded.items() if "@" not in k}
        self._changed.clear()

    def _state(self, instance: str, set_key: str, spec: BandSet) -> band_sets.BandState:
        found = self._states.get(instance)
        if found is not None:
            return found
        return self._legacy.get(set_key) or band_sets.initial(spec)

    def tick(self, now_ms: int) -> list[Effect]:
        return []

    def _in_scope(self, venue: str, symbol: str) -> list[tuple[str, str, BandSet]]:
        """(instance key, set key, set) of every set covering the pair."""
        found = self._scoped.get((venue, symbol))
        if found is None:  # bounded by the universe: other pairs are refused before this
            found = [
                (band_sets.instance_key(s, venue, symbol), k, s)
                for k, s in self._sets.items()
                if s.scope.matches(venue, symbol)
            ]
            if len(self._scoped) < MAX_SCOPES:
                self._scoped[(venue, symbol)] = found
        return found

    def complete(self, stage: str, scope: Scope | None, completion: Completion) -> None:
        if stage != "pre_trade" or scope is None:
            return
        blocked = any(
            band_sets.blocks_increasing(spec, self._state(instance, k, spec))
            for instance, k, spec in self._in_scope(*scope)
        )
        completion.set("state.block_increasing", blocked)

    def apply(self, stage: str, ctx: StageContext, decision: Decision, now_ms: int) -> list[Effect]:
        if isinstance(ctx, FillContext):
            qty = ctx.books.position_qty
        elif isinstance(ctx, PreTradeContext):
            qty = ctx.position.qty
        elif isinstance(ctx, MonitorContext):
            qty = ctx.inventory.position_qty
        else:
            return []
        venue, symbol = ctx.scope_key()
        effects: list[Effect] = []
        for instance, k, spec in self._in_scope(venue, symbol):
            measure = self._measure(spec, venue, symbol, qty)
            if measure is None:
                continue  # a ratio without a max_position_qty: nothing to measure against
            state = self._state(instance, k, spec)
            after, done = band_sets.observe(
                spec, state, measure, qty, now_ms, max_hold_ms=spec.max_hold_ms,
                where=(venue, symbol),
            )  # fmt: skip
            if after != state:
                self._states[instance] = after
                self._changed.add(instance)
            effects += done
        return effects

    def _measure(self, spec: BandSet, venue: str, symbol: str, qty: Decimal) -> Decimal | None:
        if spec.measure == "position_qty":
            return abs(qty)
        if (venue, symbol) not in self._max_qty:
            found = [resolve_limits(d, venue, symbol).get("max_position_qty") for d in self._limits]
            values = [value for value, _ in filter(None, found)]
            if len(self._max_qty) >= MAX_SCOPES:
                self._max_qty.clear()
            self._max_qty[(venue, symbol)] = min(values) if values else None
        limit = self._max_qty[(venue, symbol)]
        return None if not limit else abs(qty) / limit

    def control(self, control: Control, now_ms: int) -> list[Effect]:
        return []

    def dirty(self) -> dict[str, Any]:
        changed = {k: self._states.get(k) for k in self._changed}
        self._changed.clear()
        return changed

    def describe(self) -> dict[str, Any]:
        highest: dict[str, tuple[int, str]] = {}  # set key -> (index, name) of its highest pair
        pairs: dict[str, Any] = {}
        instanced = {k.partition("@")[0] for k in self._states}
        legacy = {k: v for k, v in self._legacy.items() if k not in instanced}
        for k, state in sorted({**legacy, **self._states}.items()):
            set_key = k.partition("@")[0]
            spec = self._sets.get(set_key)
            if spec is None:  # a set the policies dropped: shown as stored
                pairs[k] = state.band
                continue
            at, name = band_sets.index(spec, state), band_sets.band_name(spec, state)
            if "@" in k:
                pairs[k] = name
            if at >= highest.get(set_key, (-1, ""))[0]:
                highest[set_key] = (at, name)
        return {"bands": {k: name for k, (_, name) in highest.items()}, "band_pairs": pairs}


class AlertPart:
    """Every alert of the bundle, one state per alert.

    Levels are computed once from the bundle: an ``of_limit`` alert's from the limit in force
    for the pairs it watches (``riskctl.alert_limits``), so a changed limit moves them when
    the runtime is built on the new bundle, with the alert's state carried over.
    """

    machine = "alert"

    def __init__(self, bundle: PolicyBundle | None) -> None:
        documents = bundle.of_kind(AlertThresholds) if bundle is not None else ()
        specs = [a for d in documents for a in d.spec.alerts]
        self._by_stage: dict[str, list[Alert]] = {}
        for spec in specs:
            self._by_stage.setdefault(spec.stage, []).append(spec)
        self._programs = {
            stage: compile_stage(
                stage, [(a.name, a.metric) for a in s], expect=Type.NUMBER, values=True
            )
            for stage, s in self._by_stage.items()
        }
        table = LimitTable(bundle.of_kind(RiskLimits) if bundle is not None else ())
        self._levels = {
            stage: [_levels(a, table) for a in s] for stage, s in self._by_stage.items()
        }
        self._states: dict[str, thresholds.AlertState] = {}
        self._changed: set[str] = set()

    def load(self, rows: Mapping[str, str]) -> None:
        self._states = {k: decode(thresholds.AlertState, text) for k, text in rows.items()}
        self._changed.clear()

    def tick(self, now_ms: int) -> list[Effect]:
        return []

    def complete(self, stage: str, scope: Scope | None, completion: Completion) -> None:
        return None

    def apply(self, stage: str, ctx: StageContext, decision: Decision, now_ms: int) -> list[Effect]:
        specs = self._by_stage.get(stage)
        if not specs:
            return []
        venue, symbol = ctx.scope_key()
        values: list[Any] = []
        self._programs[stage].run(ctx, values)
        computed = dict(values)
        effects: list[Effect] = []
        for index, spec in enumerate(specs):
            if spec.scope is not None and not spec.scope.matches(venue, symbol):
                continue
            value = computed.get(index)
            number = Decimal(value) if isinstance(value, (int, Decimal)) else None
            if isinstance(value, bool):
                number = None
            k = thresholds.key(spec, venue, symbol)
            state = self._states.get(k) or thresholds.initial(spec, venue, symbol)
            levels = self._levels[stage][index]
            if isinstance(levels, str):
                after, done = thresholds.unavailable(
                    spec, state, levels, record="levels_unavailable"
                )
            else:
                after, done = thresholds.observe(spec, state, number, now_ms, levels=levels)
            if after != state:
                self._states[k] = after
                self._changed.add(k)
            effects += done
        return effects

    def control(self, control: Control, now_ms: int) -> list[Effect]:
        return []

    def dirty(self) -> dict[str, Any]:
        changed = {k: self._states.get(k) for k in self._changed}
        self._changed.clear()
        return changed

    def describe(self) -> dict[str, Any]:
        """``alerts``: name -> its status (an alert kept per pair: its most severe pair's);
        ``alert_pairs``: ``name@venue:symbol`` -> the status of each per-pair instance."""
        alerts: dict[str, dict[str, Any]] = {}
        pairs: dict[str, dict[str, Any]] = {}
        for k, s in sorted(self._states.items()):
            shown = {"status": s.status, "severity": s.severity}
            if s.pair is not None:
                pairs[k] = shown
            held = alerts.get(s.name)
            if held is None or _alert_rank(shown) > _alert_rank(held):
                alerts[s.name] = shown
        return {"alerts": alerts, "alert_pairs": pairs}


_STATUS_RANK = {"inactive": 0, "pending": 1, "firing": 2}
_SEVERITY_RANK = {None: 0, "warn": 1, "critical": 2}


def _alert_rank(shown: Mapping[str, Any]) -> tuple[int, int]:
    return _STATUS_RANK[shown["status"]], _SEVERITY_RANK[shown["severity"]]


def _levels(spec: Alert, table: LimitTable) -> thresholds.Levels | str:
    """The alert's exact levels, or why it cannot be evaluated (no limit, inexact level)."""
    limit = None
    in_force = table.for_alert(spec)
    if in_force is not None:
        limit = in_force.value()
        if limit is None:  # lint refuses this bundle; the runtime alerts soonest
            limit = in_force.soonest(spec.direction)
        if limit is None:
            return (
                f"No {spec.of_limit} is set for the pairs alert {spec.name} watches, so its"
                " levels (percent of that limit) cannot be computed; it stays as it was."
            )
    try:
        return thresholds.levels_of(spec, limit)
    except thresholds.AlertError as exc:
        return f"The levels of alert {spec.name} cannot be computed: {exc}."
