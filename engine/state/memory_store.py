"""A StateStore in memory: the reference for the protocol, for tests and fast replays."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

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
)

__all__ = ["MemoryStore"]


class MemoryStore:
    """Everything in dicts and lists; lost with the process. Same contract as SqliteStore."""

    def __init__(self) -> None:
        self._rows: dict[RowKey, str] = {}
        self._records: list[AuditRecord] = []
        self._controls: list[Control] = []

    def load(self) -> Snapshot:
        last = self._records[-1] if self._records else None
        return Snapshot(
            dict(self._rows),
            last.seq if last else 0,
            last.hash if last else GENESIS,
        )

    def commit(
        self, rows: Mapping[RowKey, str | None], records: Sequence[NewRecord]
    ) -> Sequence[AuditRecord]:
        last = self._records[-1] if self._records else None
        seq, prev = (last.seq, last.hash) if last else (0, GENESIS)
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
