"""verify() finds an edited, a deleted and a reordered record, wherever it is."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from riskctl.state import MemoryStore, NewRecord
from riskctl.state.audit import verify
from riskctl.state.store import AuditRecord


def _chain(n: int) -> list[AuditRecord]:
    store = MemoryStore()
    store.commit({}, [NewRecord(i, "decision", {"i": i}) for i in range(n)])
    return list(store.audit())


def _codes(records: list[AuditRecord]) -> set[str]:
    return {d.code for d in verify(records)}


def test_when_the_chain_is_untouched_then_nothing_is_found() -> None:
    assert verify(_chain(20)) == []


@given(st.integers(0, 19))
def test_when_a_record_is_edited_then_its_hash_mismatches(at: int) -> None:
    records = _chain(20)
    records[at] = replace(records[at], body={"i": -1})
    found = verify(records)
    assert [(d.code, f"record {at + 1} " in d.message) for d in found] == [
        ("audit.hash-mismatch", True)
    ]


@given(st.integers(0, 18))
def test_when_a_record_is_deleted_then_the_gap_and_the_broken_link_are_found(at: int) -> None:
    records = _chain(20)
    del records[at]
    assert _codes(records) == {"audit.gap", "audit.prev-mismatch"}


@given(st.integers(0, 18))
def test_when_two_records_are_swapped_then_the_order_break_is_found(at: int) -> None:
    records = _chain(20)
    records[at], records[at + 1] = records[at + 1], records[at]
    assert {"audit.gap", "audit.prev-mismatch"} <= _codes(records)
