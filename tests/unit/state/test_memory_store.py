"""MemoryStore: the protocol's reference behaviour (SqliteStore is held to the same tests)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from riskctl.state import MemoryStore, NewRecord
from riskctl.state.codec import decode, encode
from riskctl.state.store import GENESIS, canonical_body, chain_hash


def test_when_nothing_was_committed_then_the_snapshot_is_empty_and_starts_the_chain() -> None:
    snapshot = MemoryStore().load()
    assert (dict(snapshot.rows), snapshot.last_seq, snapshot.last_hash) == ({}, 0, GENESIS)


def test_when_records_are_committed_then_each_is_chained_to_the_one_before() -> None:
    store = MemoryStore()
    first = store.commit({("k", "a"): "1"}, [NewRecord(5, "decision", {"x": 1})])
    second = store.commit({("k", "a"): None}, [NewRecord(6, "control", {"y": "z"})])
    assert first[0].prev_hash == GENESIS
    assert second[0].prev_hash == first[0].hash
    assert second[0].hash == chain_hash(first[0].hash, 2, 6, "control", canonical_body({"y": "z"}))
    assert dict(store.load().rows) == {}
    assert [r.seq for r in store.audit(since_ms=6)] == [2]


def test_when_controls_are_posted_then_they_are_read_in_order_after_an_id() -> None:
    store = MemoryStore()
    kill = store.post_control("kill", by="ops", reason="test", at_ms=1)
    store.post_control("resume", by="ops", reason="ok", at_ms=2)
    assert [c.verb for c in store.controls(0)] == ["kill", "resume"]
    assert [c.verb for c in store.controls(kill.id)] == ["resume"]


@dataclass(frozen=True, slots=True)
class _Sample:
    qty: Decimal
    times: tuple[int, ...]
    note: str | None = None


def test_when_a_state_value_is_encoded_then_it_decodes_to_an_equal_value_exactly() -> None:
    value = _Sample(Decimal("0.10000000000000000001"), (1, 2))
    text = encode(value)
    assert '"0.10000000000000000001"' in text
    assert decode(_Sample, text) == value


def test_when_only_the_newest_records_are_kept_then_the_chain_goes_on_as_if_all_were() -> None:
    kept, every = MemoryStore(keep_records=2), MemoryStore()
    for n in range(5):
        for store in (kept, every):
            store.commit({}, [NewRecord(n, "decision", {"n": n})])
    assert [r.seq for r in kept.audit()] == [4, 5]
    assert list(kept.audit()) == list(every.audit())[-2:]
    assert (kept.load().last_seq, kept.load().last_hash) == (5, every.load().last_hash)


def test_when_keep_records_is_not_positive_then_it_is_refused() -> None:
    with pytest.raises(ValueError, match="keep_records"):
        MemoryStore(keep_records=0)
