"""Audit chain verification, streaming, for ``riskctl audit --verify``.

Each record's hash covers the previous record's hash and every field of its own
(``riskctl.state.store.chain_hash``), so an edited record breaks its own hash, and a
deleted or reordered one breaks the sequence and the link to its successor.

What the chain cannot show on its own: a truncated tail. Dropping the last N records leaves
a shorter chain that is still valid; detecting that needs an anchor kept elsewhere (the last
hash published to a second place, or a signed checkpoint).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from riskctl.errors import Diagnostic, Location
from riskctl.state.store import GENESIS, AuditRecord, canonical_body, chain_hash

__all__ = ["JsonBody", "verify"]


class JsonBody(Mapping[str, Any]):
    """A record body as stored: its canonical JSON text, parsed only when read.

    Verifying hashes the text as stored, so a million records verify without a million
    parses. Read-only; ``dict(body)`` (or ``json.dumps(..., default=dict)``) gives a dict.
    """

    __slots__ = ("_data", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._data: dict[str, Any] | None = None

    def _parsed(self) -> dict[str, Any]:
        if self._data is None:
            self._data = json.loads(self.text)
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self._parsed()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parsed())

    def __len__(self) -> int:
        return len(self._parsed())

    def __repr__(self) -> str:
        return f"JsonBody({self.text})"


def verify(records: Iterable[AuditRecord], *, path: str = "audit") -> list[Diagnostic]:
    """Every break in the chain, in order. Streams: memory does not grow with the log.

    Codes: ``audit.hash-mismatch`` (a record's content was edited), ``audit.gap`` (a
    sequence number is missing or out of order: a deletion or a reorder),
    ``audit.prev-mismatch`` (a record does not point at the one before it).
    """
    found: list[Diagnostic] = []
    expected_seq, prev = 1, GENESIS
    where = Location(path)
    for record in records:
        seq = record.seq
        if seq != expected_seq:
            found.append(
                Diagnostic("audit.gap", f"record {seq} follows record {expected_seq - 1}", where)
            )
        if record.prev_hash != prev:
            found.append(
                Diagnostic(
                    "audit.prev-mismatch",
                    f"record {seq} does not point at the hash of the record before it",
                    where,
                )
            )
        body = record.body
        text = body.text if type(body) is JsonBody else canonical_body(body)
        if chain_hash(record.prev_hash, seq, record.at_ms, record.kind, text) != record.hash:
            found.append(
                Diagnostic("audit.hash-mismatch", f"record {seq} was changed after commit", where)
            )
        expected_seq, prev = seq + 1, record.hash
    return found
