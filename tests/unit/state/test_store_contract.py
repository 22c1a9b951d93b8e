"""The StateStore contract, held against every store: MemoryStore and SqliteStore."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from riskctl.state import MemoryStore, NewRecord, StateStore
from riskctl.state.audit import verify
from riskctl.state.codec import decode, encode
from riskctl.state.sqlite_store import SqliteStore
from riskctl.state.store import GENESIS, canonical_body, chain_hash
from riskctl.state.trading import Trading


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    made: StateStore = (
        MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "state.db")
    )
    yield made
    made.close()


def test_when_nothing_was_committed_then_the_snapshot_is_empty(store: StateStore) -> None:
    snapshot = store.load()
    assert (dict(snapshot.rows), snapshot.last_seq, snapshot.last_hash) == ({}, 0, GENESIS)
    assert list(store.audit()) == []
    assert list(store.controls(0)) == []


def test_when_rows_are_committed_and_deleted_then_load_shows_the_last_values(
    store: StateStore,
) -> None:
    store.commit({("breaker", "a"): "1", ("band", "b"): "2"}, [])
    store.commit({("breaker", "a"): "3", ("band", "b"): None, ("gone", "x"): None}, [])
    assert dict(store.load().rows) == {("breaker", "a"): "3"}


def test_when_records_are_committed_then_they_are_numbered_and_chained(
    store: StateStore,
) -> None:
    first = store.commit({}, [NewRecord(5, "decision", {"x": 1}), NewRecord(6, "effect", {})])
    second = store.commit({}, [NewRecord(7, "control", {"y": "z", "n": [1, 2.5]})])
    assert [r.seq for r in [*first, *second]] == [1, 2, 3]
    assert first[0].prev_hash == GENESIS
    assert second[0].prev_hash == first[1].hash
    assert second[0].hash == chain_hash(
        first[1].hash, 3, 7, "control", canonical_body({"y": "z", "n": [1, 2.5]})
    )
    assert list(store.audit()) == [*first, *second]
    assert dict(next(iter(store.audit(since_ms=7))).body) == {"y": "z", "n": [1, 2.5]}
    snapshot = store.load()
    assert (snapshot.last_seq, snapshot.last_hash) == (3, second[0].hash)
    assert verify(store.audit()) == []


def test_when_since_ms_is_given_then_only_records_from_that_time_on_are_read(
    store: StateStore,
) -> None:
    store.commit({}, [NewRecord(t, "decision", {"t": t}) for t in (10, 30, 20)])
    assert [r.at_ms for r in store.audit(since_ms=20)] == [30, 20]
    assert [r.seq for r in store.audit(since_ms=31)] == []


def test_when_controls_are_posted_then_they_are_read_in_order_after_an_id(
    store: StateStore,
) -> None:
    assert list(store.controls(0)) == []
    kill = store.post_control("kill", by="ops", reason="test", at_ms=1)
    reset = store.post_control("reset", by="ops", reason="ok", at_ms=2, target="venue-errors")
    assert list(store.controls(0)) == [kill, reset]
    assert list(store.controls(kill.id)) == [reset]
    assert list(store.controls(reset.id)) == []
    assert reset.target == "venue-errors"


def test_when_a_body_cannot_be_encoded_then_the_commit_leaves_nothing(
    store: StateStore,
) -> None:
    store.commit({("k", "a"): "1"}, [NewRecord(1, "decision", {"ok": True})])
    with pytest.raises(TypeError):
        store.commit(
            {("k", "a"): "2"},
            [NewRecord(2, "decision", {"ok": 1}), NewRecord(3, "decision", {"bad": object()})],
        )
    assert dict(store.load().rows) == {("k", "a"): "1"}
    assert [r.seq for r in store.audit()] == [1]


def test_when_a_row_is_committed_as_a_state_value_then_load_gives_its_encoded_text(
    store: StateStore,
) -> None:
    value = Trading(mode="HALTED", since_ms=7, reason="test")
    store.commit({("trading", ""): value, ("book", "mark:binance:BTC/USDT"): Decimal("1.10")}, [])
    rows = dict(store.load().rows)
    assert rows[("trading", "")] == encode(value)
    assert decode(Trading, rows[("trading", "")]) == value
    assert rows[("book", "mark:binance:BTC/USDT")] == encode(Decimal("1.10"))
