"""The replay's summary counts a breaker's trips and its closings apart: a breaker that
closes (cooldown, probes passed or an operator's reset) is a reset, never another trip."""

from __future__ import annotations

from pathlib import Path

from riskctl import Gate
from riskctl.kinds import CircuitBreakers
from riskctl.runtime import StatefulGate
from riskctl.runtime.stateful import Step
from riskctl.state import MemoryStore
from riskctl.state import breakers as trips
from riskctl.venues.replay.collect import Collector

POLICIES = Path(__file__).resolve().parents[3] / "policies"


def _spec(gate: Gate, name: str):  # type: ignore[no-untyped-def]
    for document in gate.bundle.of_kind(CircuitBreakers):
        for spec in document.spec.breakers:
            if spec.name == name:
                return spec
    raise AssertionError(f"no breaker {name} in policies/")


def _collector() -> tuple[Gate, Collector]:
    gate = Gate.from_path(POLICIES)
    return gate, Collector(StatefulGate(gate, MemoryStore()))


def _feed(gate: Gate, collector: Collector, effects, at_ms: int) -> None:  # type: ignore[no-untyped-def]
    decision = gate.evaluate("monitor", {"now_ms": at_ms})
    collector.step(Step(decision, "ACTIVE", False, tuple(effects)), at_ms)


def test_an_auto_breaker_that_trips_and_closes_counts_one_trip_and_one_reset() -> None:
    gate, collector = _collector()
    spec = _spec(gate, "okx-feed-gaps")
    state = trips.initial(spec, "okx", "ETH/USDT")
    for i in range(spec.count.at_least if spec.count else 1):
        state, effects = trips.observe(spec, state, True, 1_000 + i)
        _feed(gate, collector, effects, 1_000 + i)
    assert state.status == "open"
    state, effects = trips.tick(spec, state, 1_000 + spec.cooldown_ms + 10)
    assert state.status == "closed", "okx-feed-gaps closes after its cooldown"
    _feed(gate, collector, effects, 1_000 + spec.cooldown_ms + 10)

    summary = collector.summary()
    assert summary["breaker_trips"] == 1
    assert summary["breaker_resets"] == 1
    statuses = [(e["name"], e["status"]) for e in collector.timeline if e["kind"] == "breaker"]
    name = trips.instance(spec, "okx", "ETH/USDT")[0]  # per symbol: it pauses the one it saw
    assert statuses == [(name, "open"), (name, "closed")]


def test_half_open_then_probes_passed_is_one_trip_one_half_open_one_reset() -> None:
    gate, collector = _collector()
    spec = _spec(gate, "venue-errors")
    assert spec.half_open is not None
    state = trips.initial(spec, "binance", "BTC/USDT")
    t = 1_000
    for _ in range(spec.count.at_least if spec.count else 1):
        t += 1
        state, effects = trips.observe(spec, state, True, t)
        _feed(gate, collector, effects, t)
    t += spec.cooldown_ms
    state, effects = trips.tick(spec, state, t)
    _feed(gate, collector, effects, t)
    assert state.status == "half_open"
    for _ in range(spec.half_open.probe_orders):
        state, _probe = trips.admit_probe(spec, state)
    t += 1
    state, effects = trips.observe(spec, state, False, t)
    _feed(gate, collector, effects, t)
    assert state.status == "closed"

    summary = collector.summary()
    assert summary["breaker_trips"] == 1
    assert summary["breaker_resets"] == 1
    assert [r["what"] for r in collector.resets] == ["half_open", "closed"]


def test_an_operator_reset_is_one_reset_naming_who() -> None:
    gate, collector = _collector()
    spec = _spec(gate, "daily-loss-halt")
    state = trips.initial(spec, "binance", "BTC/USDT")
    state, effects = trips.observe(spec, state, True, 5_000)
    _feed(gate, collector, effects, 5_000)
    state, effects = trips.reset(spec, state, "alice", "looked at it", 6_000)
    _feed(gate, collector, effects, 6_000)

    summary = collector.summary()
    assert (summary["breaker_trips"], summary["breaker_resets"]) == (1, 1)
    assert collector.resets[-1]["by"] == "alice"
    assert [t["action"] for t in collector.trips] == [spec.action]
