"""Group commit: a batch decides exactly as one decision per commit would, commits once,
hands out nothing before that commit, and a failure inside it is contained as unbatched."""

from __future__ import annotations

import sqlite3
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from gatekit import make_gate, pre_trade
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskctl import Gate
from riskctl.runtime import StatefulGate, describe
from riskctl.state import MemoryStore, SqliteStore, StateStore

T0 = 1_700_000_000_000
SYMBOLS = ("BTC/USDT", "ETH/USDT")


def order(i: int, *, side: str = "buy", price: str = "100", symbol: str = "BTC/USDT") -> dict:
    data = pre_trade(order={"client_order_id": f"o{i}", "side": side, "qty": "1", "price": price})
    data["order"]["symbol"] = symbol
    data["now_ms"] = T0 + 10 * i
    data["market"] = {"bid": price, "ask": price, "age_ms": 0}
    data["account"]["daily_pnl"] = "0"  # the bot's own idea, overridden by the runtime
    return data


def fill(i: int, *, side: str = "buy", price: str = "100", symbol: str = "BTC/USDT") -> dict:
    return {
        "now_ms": T0 + 10 * i + 1,
        "fill": {
            "venue": "binance",
            "symbol": symbol,
            "client_order_id": f"o{i}",
            "trade_id": f"t{i}",
            "side": side,
            "qty": "1",
            "price": price,
            "ts_ms": T0 + 10 * i,
        },
        "books": {"position_qty": "0"},
    }


def stream(moves: list[tuple[int, int, int]]) -> list[tuple[str, dict[str, Any]]]:
    """Orders and their fills over two symbols, prices moving: positions, marks, losses,
    rate counts and a daily loss limit that flips the trading state."""
    items: list[tuple[str, dict[str, Any]]] = []
    for i, (symbol, side, price) in enumerate(moves):
        where = {"symbol": SYMBOLS[symbol], "side": ("buy", "sell")[side], "price": str(price)}
        items.append(("pre_trade", order(i, **where)))
        if i % 3 != 2:  # most orders fill; a fill may arrive twice
            items.append(("fill", fill(i, **where)))
        if i % 7 == 3:
            items.append(("fill", fill(i, **where)))
    return items


def comparable(step_json: dict[str, Any]) -> dict[str, Any]:
    step_json.pop("eval_us", None)
    return step_json


def bodies(store: StateStore) -> list[Any]:
    """Audit bodies without the evaluation time (which differs run to run)."""
    found = []
    for record in store.audit():
        body = dict(record.body)
        decision = dict(body.get("decision") or {})
        decision.pop("eval_us", None)
        found.append((record.seq, record.at_ms, record.kind, {**body, "decision": decision}))
    return found


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory) -> Gate:
    return make_gate(tmp_path_factory.mktemp("limits"), {"max_order_qty": 50, "max_daily_loss": 60})


moves = st.lists(
    st.tuples(st.integers(0, 1), st.integers(0, 1), st.integers(40, 160)), min_size=1, max_size=24
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(moves=moves, cuts=st.lists(st.integers(1, 9), min_size=1, max_size=12))
def test_when_a_stream_is_decided_in_batches_then_steps_audit_and_state_equal_one_commit_each(
    gate: Gate, moves: list[tuple[int, int, int]], cuts: list[int]
) -> None:
    items = stream(moves)
    with tempfile.TemporaryDirectory() as tmp:
        single = StatefulGate(gate.fresh(), SqliteStore(Path(tmp) / "single.db"))
        expected = [comparable(single.evaluate(s, c).to_json()) for s, c in items]
        path = Path(tmp) / "batched.db"
        batched = StatefulGate(gate.fresh(), SqliteStore(path))
        got: list[dict[str, Any]] = []
        start, k = 0, 0
        while start < len(items):
            size = cuts[k % len(cuts)]
            steps = batched.evaluate_many(items[start : start + size])
            got += [comparable(step.to_json()) for step in steps]
            start, k = start + size, k + 1
        assert got == expected
        assert bodies(batched.store) == bodies(single.store)
        assert batched.describe() == single.describe()
        batched.close()
        reopened = StatefulGate(gate.fresh(), SqliteStore(path))  # only changed rows written
        assert reopened.describe() == single.describe()
        assert reopened.trading == single.trading
        reopened.close()
        single.close()


def test_when_a_batch_is_open_then_nothing_is_durable_or_handed_out_before_its_commit(
    gate: Gate, tmp_path: Path
) -> None:
    path = tmp_path / "state.db"
    runtime = StatefulGate(gate.fresh(), SqliteStore(path))
    with runtime.batch() as batch:
        batch.evaluate("pre_trade", order(0))
        batch.evaluate("fill", fill(0))
        with SqliteStore(path) as other:  # another process's view
            assert list(other.audit()) == []
            assert other.load().rows == {}
        with pytest.raises(RuntimeError, match="not committed"):
            _ = batch.steps
        with pytest.raises(RuntimeError, match="batch is open"):
            runtime.evaluate("pre_trade", order(1))
    assert [step.decision.stage for step in batch.steps] == ["pre_trade", "fill"]
    with SqliteStore(path) as other:
        assert len(list(other.audit())) == 2
        assert describe(other.load().rows)["positions"] == {"binance:BTC/USDT": "1"}
    with pytest.raises(RuntimeError, match="closed"):
        batch.evaluate("pre_trade", order(1))
    assert runtime.evaluate("pre_trade", order(1)).decision.allowed  # unbatched again


def test_when_a_batch_commit_fails_then_every_step_is_a_reject_and_memory_is_the_stores(
    gate: Gate, tmp_path: Path
) -> None:
    path = tmp_path / "state.db"
    runtime = StatefulGate(gate.fresh(), SqliteStore(path, busy_timeout_ms=50))
    runtime.evaluate("pre_trade", order(0))
    runtime.evaluate("fill", fill(0))
    before = runtime.describe()
    with runtime.batch() as batch:
        batch.evaluate("pre_trade", order(1))
        batch.evaluate("fill", fill(1))
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock past the timeout
    holder.execute("ROLLBACK")
    holder.close()
    codes = [[hit.code for hit in step.decision.hits] for step in batch.steps]
    assert codes == [["state.commit-failed"], ["state.commit-failed"]]
    assert not any(step.decision.allowed for step in batch.steps)
    assert runtime.describe() == before  # the failed batch left nothing in memory
    assert runtime.describe()["positions"] == {"binance:BTC/USDT": "1"}
    again = runtime.evaluate_many([("pre_trade", order(1)), ("fill", fill(1))])
    assert [step.decision.allowed for step in again] == [True, True]
    assert runtime.describe()["positions"] == {"binance:BTC/USDT": "2"}


def test_when_one_decision_of_a_batch_fails_then_the_others_stand_as_unbatched(
    gate: Gate, tmp_path: Path
) -> None:
    """A context no store can record (a time beyond 64 bits) and one whose body is not JSON
    data fail alone: the decisions before them stay applied, the ones after see those."""
    hostile = order(1)
    hostile["now_ms"] = 10**30
    unstorable = order(2)
    unstorable["extra"] = {1, 2}  # not JSON: its audit record cannot be written
    items = [
        ("pre_trade", order(0)),
        ("fill", fill(0)),
        ("pre_trade", hostile),
        ("pre_trade", unstorable),
        ("pre_trade", order(3)),
        ("fill", fill(3)),
    ]
    for store in (MemoryStore(), SqliteStore(tmp_path / "state.db")):
        single = StatefulGate(gate.fresh(), MemoryStore())
        expected = [comparable(single.evaluate(s, c).to_json()) for s, c in items]
        runtime = StatefulGate(gate.fresh(), store)
        steps = runtime.evaluate_many(items)
        assert [comparable(step.to_json()) for step in steps] == expected
        codes = [step.decision.hits[0].code if step.decision.hits else "" for step in steps]
        assert codes[2:4] == ["state.commit-failed", "state.commit-failed"]
        assert [steps[i].decision.allowed for i in (0, 1, 4, 5)] == [True] * 4
        assert runtime.describe()["positions"] == {"binance:BTC/USDT": "2"}
        assert len(list(store.audit())) == 4  # the two that failed left no record
        assert describe(store.load().rows) == describe(single.store.load().rows)


def test_when_a_kill_is_posted_mid_batch_then_the_next_decision_of_the_batch_sees_it(
    gate: Gate, tmp_path: Path
) -> None:
    path = tmp_path / "state.db"
    runtime = StatefulGate(gate.fresh(), SqliteStore(path))
    with runtime.batch() as batch:
        batch.evaluate("pre_trade", order(0))
        with SqliteStore(path) as operator:  # `riskctl kill` from another process
            operator.post_control("kill", by="ops", reason="venue incident", at_ms=T0)
        batch.evaluate("pre_trade", order(1))
    first, second = batch.steps
    assert first.decision.allowed
    assert not first.kill_switch
    assert not second.decision.allowed
    assert second.kill_switch
    assert "state.kill_switch" in [hit.code for hit in second.decision.hits]
    assert "cancel_all" in [effect.name for effect in second.effects]


def test_when_a_batch_block_raises_then_the_batch_is_dropped_and_memory_is_the_stores(
    gate: Gate, tmp_path: Path
) -> None:
    runtime = StatefulGate(gate.fresh(), SqliteStore(tmp_path / "state.db"))
    runtime.evaluate("pre_trade", order(0))
    before = runtime.describe()
    with pytest.raises(KeyError):
        _fail_inside(runtime)
    assert runtime.describe() == before
    assert len(list(runtime.store.audit())) == 1
    assert runtime.evaluate("fill", fill(0)).decision.allowed


def _fail_inside(runtime: StatefulGate) -> None:
    with runtime.batch() as batch:
        batch.evaluate("fill", fill(0))
        raise KeyError("the caller's own failure")


def test_when_steps_are_answered_then_they_carry_the_time_the_runtime_decided_at(
    gate: Gate,
) -> None:
    runtime = StatefulGate(gate.fresh(), MemoryStore())
    steps = runtime.evaluate_many([("pre_trade", order(0)), ("pre_trade", order(5))])
    assert [step.now_ms for step in steps] == [T0, T0 + 50]
    assert Decimal(steps[1].to_json()["eval_us"]) >= 0


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(moves=moves)
def test_when_the_audit_log_is_off_then_steps_and_state_equal_an_audited_run(
    gate: Gate, moves: list[tuple[int, int, int]]
) -> None:
    items = stream(moves)
    with tempfile.TemporaryDirectory() as tmp:
        audited = StatefulGate(gate.fresh(), SqliteStore(Path(tmp) / "audited.db"))
        expected = [comparable(audited.evaluate(s, c).to_json()) for s, c in items]
        store = MemoryStore()  # keeps state values as committed, encodes them when loaded
        quiet = StatefulGate(gate.fresh(), store, audit=False)
        got = [comparable(quiet.evaluate(s, c).to_json()) for s, c in items]
        assert got == expected
        assert list(store.audit()) == []
        assert quiet.describe() == audited.describe()
        restarted = StatefulGate(gate.fresh(), store, audit=False)  # rows from values' text
        assert restarted.describe() == audited.describe()
        assert dict(store.load().rows) == dict(audited.store.load().rows)
        audited.close()
