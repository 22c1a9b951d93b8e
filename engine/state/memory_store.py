"""A StateStore in memory: the reference for the protocol, for tests and fast replays."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from riskctl.state.store import (
    GENESIS,
    AuditRecord,
    Control,
    ControlVerb,
    NewRecord,
    RowKey,
    Snapshot,
    chain_hash,
    record_text,
    row_text,
)

__all__ = ["MemoryStore"]


class MemoryStore:
    """Everything in dicts and lists; lost with the process. Same contract as SqliteStore.

    ``keep_records``: how many of the newest audit records ``audit`` can still give (None:
    all). The chain goes on past the ones dropped (numbers and hashes as if all were
    kept), so a replay of any length runs in bounded memory.
    """

    def __init__(self, *, keep_records: int | None = None) -> None:
        if keep_records is not None and keep_records < 1:
            raise ValueError("keep_records must be at least 1")
        # Text, or the state value committed (immutable): encoded only when loaded again.
        self._rows: dict[RowKey, Any] = {}
        self._records: deque[AuditRecord] = deque(maxlen=keep_records)
        self._controls: list[Control] = []
        self._last_seq, self._last_hash = 0, GENESIS

    def load(self) -> Snapshot:
        rows = self._rows
        for key, value in rows.items():
            if type(value) is not str:
                rows[key] = row_text(value)  # a value's text once; the same value, same text
        return Snapshot(dict(rows), self._last_seq, self._last_hash)

    def commit(
        self, rows: Mapping[RowKey, Any], records: Sequence[NewRecord]
    ) -> Sequence[AuditRecord]:
        seq, prev = self._last_seq, self._last_hash
        committed = []
        for record in records:  # build everything first: a failure leaves nothing behind
            seq += 1
            text = record_text(record)
            digest = chain_hash(prev, seq, record.at_ms, record.kind, text)
            committed.append(AuditRecord(seq, record.at_ms, record.kind, record.body, prev, digest))
            prev = digest
        for key, value in rows.items():
            if value is None:
                self._rows.pop(key, None)
            else:
                self._rows[key] = value
        self._records.extend(committed)
        self._last_seq, self._last_hash = seq, prev
        return committed

    def post_control(
        self, verb: ControlVerb, *, by: str, reason: str, at_ms: int, target: str = ""
    ) -> Control:
        control = Control(len(self._controls) + 1, verb, by, reason, at_ms, target)
        self._controls.append(control)
        return control

    def controls(self, after_id: int) -> Sequence[Control]:
        return self._controls[after_id:]  # ids are 1-based positions

    def audit(self, since_ms: int | None = None) -> Iterator[AuditRecord]:
        for record in self._records:
            if since_ms is None or record.at_ms >= since_ms:
                yield record

    def close(self) -> None:
        pass
