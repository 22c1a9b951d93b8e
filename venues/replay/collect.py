"""What a replay remembers about itself: counts, timelines and the report's series.

Memory is bounded whatever the session's length: counters and timelines of changes grow
with what happened (trips, alerts, state changes), series are sampled once per monitor
tick, and orders, fills and rejects kept for the report stop at ``MAX_KEPT`` (the counts
go on).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from riskctl.decision import Outcome
from riskctl.kinds import InventoryBands, RiskLimits
from riskctl.limits import resolve_limits
from riskctl.runtime import StatefulGate
from riskctl.runtime.stateful import Step
from riskctl.session import SessionProblem
from riskctl.venues.gateway import OrderResult
from riskctl.venues.records import VenueTrade

__all__ = ["MAX_KEPT", "Collector"]

MAX_KEPT = 20_000
SHOWN_PROBLEMS = 20
ZERO = Decimal(0)


class Collector:
    """Fed by the replay with every step, order, fill and tick."""

    def __init__(self, runtime: StatefulGate) -> None:
        self.runtime = runtime
        self.events = 0
        self.event_types: Counter[str] = Counter()
        self.start_ms: int | None = None
        self.end_ms = 0
        self.decisions: dict[str, Counter[str]] = defaultdict(Counter)
        self.rule_hits: Counter[str] = Counter()
        self.rule_messages: dict[str, str] = {}
        self.problems: list[SessionProblem] = []
        self.problem_count = 0
        self.trips: list[dict[str, Any]] = []
        self.resets: list[dict[str, Any]] = []
        self.band_moves: list[dict[str, Any]] = []
        self.alerts: list[dict[str, Any]] = []
        self.timeline: list[dict[str, Any]] = []
        self.venue_events: Counter[str] = Counter()
        self.order_status: Counter[str] = Counter()
        self.orders: list[dict[str, Any]] = []
        self.fills: list[dict[str, Any]] = []
        self.rejects: list[dict[str, Any]] = []
        self.rejects_total = 0
        self.outcomes_by_order: dict[str, str] = {}  # client order id -> pre_trade outcome
        # client order id -> what --compare shows of a flipped order: the order as sent and
        # the rules its pre_trade decision hit
        self.order_facts: dict[str, dict[str, Any]] = {}
        self.prices: dict[str, list[tuple[int, Decimal]]] = defaultdict(list)
        self.positions: dict[str, list[tuple[int, Decimal]]] = defaultdict(list)
        self.pnl: list[tuple[int, Decimal, Decimal]] = []
        self.max_abs_position: dict[str, Decimal] = {}
        self.max_drawdown = ZERO
        self.halted_ms = 0
        self._state = ("ACTIVE", False)
        self._state_since = 0
        self._alert_status: dict[str, str] = {}

    # -- feeding -----------------------------------------------------------------------------

    def problem(self, problem: SessionProblem) -> None:
        self.problem_count += 1
        if len(self.problems) < SHOWN_PROBLEMS:
            self.problems.append(problem)

    def event(self, item: Any) -> None:
        self.events += 1
        self.event_types[item.type] += 1
        recv = int(item.recv_ms)
        if self.start_ms is None:
            self.start_ms = recv
            self._state_since = recv
        self.end_ms = max(self.end_ms, recv)

    def step(self, step: Step, at_ms: int, *, scope: tuple[str, str] | None = None) -> None:
        decision = step.decision
        self.decisions[decision.stage][str(decision.outcome)] += 1
        for hit in decision.hits:
            self.rule_hits[hit.rule_id] += 1
            self.rule_messages.setdefault(hit.rule_id, hit.message)
        if decision.outcome is Outcome.REJECT and decision.stage != "order":
            self.rejects_total += 1
            if len(self.rejects) < MAX_KEPT:
                self.rejects.append(
                    {
                        "ts_ms": at_ms,
                        "stage": decision.stage,
                        "scope": None if scope is None else f"{scope[0]}:{scope[1]}",
                        "client_order_id": None,
                        "reasons": [
                            {"rule_id": h.rule_id, "message": h.message} for h in decision.hits
                        ],
                    }
                )
        for effect in step.effects:
            self._effect(effect, at_ms)
        state = (str(step.trading_state), bool(step.kill_switch))
        if state != self._state:
            self._state_change(state, at_ms)

    def _effect(self, effect: Any, at_ms: int) -> None:
        where = None if effect.scope is None else f"{effect.scope[0]}:{effect.scope[1]}"
        if effect.kind == "action" and effect.source.startswith("breaker:"):
            name = effect.source[8:]
            if effect.name == "resume":  # a breaker closing (cooldown, probes or operator)
                self._breaker_moved(at_ms, name, "closed", where)
                return
            self.trips.append({"ts_ms": at_ms, "breaker": name, "action": effect.name,
                               "scope": where})  # fmt: skip
            self.timeline.append({"ts_ms": at_ms, "kind": "breaker", "name": name,
                                  "status": "open"})  # fmt: skip
        elif effect.kind == "record" and effect.name == "half_open":
            self._breaker_moved(at_ms, effect.source.partition(":")[2], "half_open", where)
        elif effect.kind == "record" and effect.name == "reset" and self.resets:
            self.resets[-1]["by"] = effect.detail.get("by")  # the operator who closed it
        elif effect.kind == "record" and effect.name == "band":
            detail = dict(effect.detail)
            self.band_moves.append({"ts_ms": at_ms, "set": effect.source, "scope": where, **detail})
        elif effect.kind == "alert":
            status = str(effect.detail.get("status", "firing"))
            key = f"{effect.name}@{where}" if where else effect.name
            if self._alert_status.get(key) != status:
                self._alert_status[key] = status
                self.alerts.append(
                    {"ts_ms": at_ms, "alert": effect.name, "status": status, "scope": where}
                )
                self.timeline.append(
                    {"ts_ms": at_ms, "kind": "alert", "name": effect.name, "status": status}
                )

    def _breaker_moved(self, at_ms: int, name: str, status: str, where: str | None) -> None:
        """A breaker closed or went half-open: a reset in the summary, a mark on the timeline."""
        self.resets.append({"ts_ms": at_ms, "breaker": name, "what": status, "scope": where})
        self.timeline.append({"ts_ms": at_ms, "kind": "breaker", "name": name, "status": status})

    def _state_change(self, state: tuple[str, bool], at_ms: int) -> None:
        mode, killed = state
        if self._state[0] == "HALTED" or self._state[1]:
            self.halted_ms += at_ms - self._state_since
        if mode != self._state[0]:
            self.timeline.append(
                {"ts_ms": at_ms, "kind": "trading_state", "name": "trading", "status": mode}
            )
        if killed != self._state[1]:
            status = "engaged" if killed else "released"
            self.timeline.append(
                {"ts_ms": at_ms, "kind": "kill_switch", "name": "kill switch", "status": status}
            )
        self._state, self._state_since = state, at_ms

    def order(self, result: OrderResult, order: Mapping[str, Any] | None, at_ms: int) -> None:
        self.order_status[result.status] += 1
        if order is None:
            return
        first = result.steps[0].decision if result.steps else None
        outcome = str(first.outcome) if first is not None else "reject"
        cid = str(order.get("client_order_id"))
        self.outcomes_by_order[cid] = outcome if result.status != "rejected" else "reject"
        self.order_facts[cid] = {
            "ts_ms": at_ms,
            "scope": f"{order.get('venue')}:{order.get('symbol')}",
            "side": order.get("side"),
            "qty": order.get("qty"),
            "price": order.get("price"),
            "rules": [] if first is None else sorted({h.rule_id for h in first.hits}),
        }
        if result.status == "rejected" and self.rejects and self.rejects[-1]["ts_ms"] == at_ms:
            self.rejects[-1]["client_order_id"] = cid
        if len(self.orders) < MAX_KEPT:
            status = result.status
            shown = "filled" if result.fills else {"venue_rejected": "rejected"}.get(status, status)
            self.orders.append(
                {
                    "ts_ms": at_ms,
                    "scope": f"{order['venue']}:{order['symbol']}",
                    "side": order.get("side") or "buy",
                    "price": order.get("price"),
                    "qty": order.get("qty") or "0",
                    "client_order_id": cid,
                    "outcome": "reject" if result.status == "rejected" else outcome,
                    "status": shown,
                }
            )

    def fill(self, venue: str, trade: VenueTrade, at_ms: int) -> None:
        if len(self.fills) < MAX_KEPT:
            self.fills.append(
                {
                    "ts_ms": at_ms,
                    "scope": f"{venue}:{trade.symbol}",
                    "side": trade.side,
                    "price": trade.price,
                    "qty": trade.qty,
                }
            )

    def venue_event(self, event: Any, at_ms: int) -> None:
        self.venue_events[event.event] += 1

    def snapshot(self, at_ms: int, mids: Mapping[str, Decimal]) -> None:
        """Once per monitor tick: prices, positions, P&L."""
        view = self.runtime.describe()
        for scope, mid in mids.items():
            self.prices[scope].append((at_ms, mid))
        for scope, qty_text in view.get("positions", {}).items():
            qty = Decimal(str(qty_text))
            self.positions[scope].append((at_ms, qty))
            if abs(qty) > self.max_abs_position.get(scope, ZERO):
                self.max_abs_position[scope] = abs(qty)
        session = view.get("session") or {}
        if session:
            pnl = Decimal(str(session.get("session_pnl", "0")))
            drawdown = Decimal(str(session.get("drawdown", "0")))
            self.pnl.append((at_ms, pnl, drawdown))
            self.max_drawdown = max(self.max_drawdown, drawdown)

    # -- reading -----------------------------------------------------------------------------

    def finish(self) -> None:
        if self._state[0] == "HALTED" or self._state[1]:
            self.halted_ms += self.end_ms - self._state_since
            self._state_since = self.end_ms

    def summary(self) -> dict[str, Any]:
        view = self.runtime.describe()
        session = view.get("session") or {}
        limits = self._limits()
        return {
            "events": self.events,
            "event_types": dict(sorted(self.event_types.items())),
            "malformed_lines": self.problem_count,
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "decisions": {
                stage: dict(sorted(c.items())) for stage, c in sorted(self.decisions.items())
            },
            "orders": dict(sorted(self.order_status.items())),
            "rule_hits": dict(sorted(self.rule_hits.items())),
            "top_rules": [
                {"rule_id": rule, "hits": n, "message": self.rule_messages.get(rule, "")}
                for rule, n in self.rule_hits.most_common(10)
            ],
            "breaker_trips": len(self.trips),
            "breakers_tripped": sorted({t["breaker"] for t in self.trips}),
            "breaker_resets": len([r for r in self.resets if r["what"] == "closed"]),
            "band_transitions": len(self.band_moves),
            "bands_entered": {
                band_set: sorted({m["to"] for m in self.band_moves if m["set"] == band_set})
                for band_set in sorted({m["set"] for m in self.band_moves})
            },
            "alerts_fired": len([a for a in self.alerts if a["status"] == "firing"]),
            "alerts_resolved": len([a for a in self.alerts if a["status"] == "resolved"]),
            "alerts": sorted({a["alert"] for a in self.alerts if a["status"] == "firing"}),
            "trading_state": [
                t for t in self.timeline if t["kind"] in ("trading_state", "kill_switch")
            ],
            # In force where the last decision was (breakers included), as the timeline shows
            # it; view["trading_state"] is the process's own mode only.
            "final_trading_state": self._state[0],
            "time_halted_ms": self.halted_ms,
            "venue_events": dict(sorted(self.venue_events.items())),
            "pnl": {
                "session_pnl": _plain(session.get("session_pnl", "0")),
                "realized_pnl": _plain(session.get("realized_pnl", "0")),
                "fees": _plain(session.get("fees", "0")),
                "max_drawdown": _plain(self.max_drawdown),
            },
            "max_position": {
                scope: {
                    "max_abs_qty": _plain(qty),
                    "max_position_qty": limits.get(scope, {}).get("max_position_qty"),
                }
                for scope, qty in sorted(self.max_abs_position.items())
            },
        }

    def _limits(self) -> dict[str, dict[str, str]]:
        bundle = self.runtime.gate.bundle
        out: dict[str, dict[str, str]] = {}
        for document in bundle.of_kind(RiskLimits) if bundle is not None else ():
            for account in document.spec.venues:
                for symbol in account.symbols:
                    resolved = resolve_limits(document, account.venue, symbol)
                    chosen = {
                        name: str(value)
                        for name, (value, _) in resolved.items()
                        if name in ("max_position_qty", "max_daily_loss", "max_drawdown")
                    }
                    out.setdefault(f"{account.venue}:{symbol}", {}).update(chosen)
        return out

    def report_data(self, title: str, path: str) -> dict[str, Any]:
        """The mapping ``riskctl.venues.replay.report.write_report`` takes."""
        bundle = self.runtime.gate.bundle
        limits = self._limits()
        scopes_limits = {
            scope: {"max_position_qty": values["max_position_qty"]}
            for scope, values in limits.items()
            if "max_position_qty" in values
        }
        loss = next((v["max_daily_loss"] for v in limits.values() if "max_daily_loss" in v), None)
        stop = next((v["max_drawdown"] for v in limits.values() if "max_drawdown" in v), None)
        return {
            "title": title,
            "session": {
                "path": path,
                "events": self.events,
                "start_ms": self.start_ms or 0,
                "end_ms": self.end_ms,
            },
            "policies": {
                "hash": bundle.hash if bundle is not None else "",
                "versions": dict(bundle.versions) if bundle is not None else {},
            },
            "summary": self._header_summary(),
            "prices": dict(self.prices),
            "orders": self.orders,
            "fills": self.fills,
            "positions": dict(self.positions),
            "position_limits": scopes_limits,
            "bands": self._bands(limits),
            "pnl": self.pnl,
            "loss_limit": loss,
            "drawdown_stop": stop,
            "timeline": self.timeline,
            "rejects": self.rejects,
        }

    def _header_summary(self) -> dict[str, Any]:
        full = self.summary()
        return {
            "decisions": full["decisions"],
            "orders": full["orders"],
            "pnl": full["pnl"]["session_pnl"],
            "max_drawdown": full["pnl"]["max_drawdown"],
            "time_halted_ms": full["time_halted_ms"],
            "breaker_trips": full["breaker_trips"],
            "alerts_fired": full["alerts_fired"],
            "malformed_lines": full["malformed_lines"],
        }

    def _bands(self, limits: Mapping[str, Mapping[str, str]]) -> dict[str, list[dict[str, Any]]]:
        bundle = self.runtime.gate.bundle
        out: dict[str, list[dict[str, Any]]] = {}
        for document in bundle.of_kind(InventoryBands) if bundle is not None else ():
            for band_set in document.spec.sets:
                for scope, values in limits.items():
                    venue, _, symbol = scope.partition(":")
                    wanted_symbol = getattr(band_set.scope, "symbol", None)
                    wanted_venue = getattr(band_set.scope, "venue", None)
                    if wanted_symbol not in (None, symbol) or wanted_venue not in (None, venue):
                        continue
                    limit = values.get("max_position_qty")
                    unit = (
                        Decimal(limit)
                        if band_set.measure == "position_ratio" and limit
                        else (Decimal(1))
                    )
                    if band_set.measure == "position_ratio" and not limit:
                        continue
                    lower = ZERO
                    bands = []
                    for band in band_set.bands:
                        upper = band.up_to * unit
                        bands.append({"name": band.name, "lower": lower, "upper": upper})
                        lower = upper
                    out[scope] = bands
        return out


def _plain(value: Any) -> str:
    """An exact decimal as text without trailing zeros or an exponent ("-21.09614037" for
    "-21.096140370000000000000"): the same number, easier to read."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        return str(number)
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0") else text
