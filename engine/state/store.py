"""The state store protocol: what the runtime needs from durable storage, and no more.

Narrow on purpose, so SQLite (embedded, one file), memory (tests, fast replay) and later
Redis implement the same four things:

1. ``load``: the last committed snapshot, every machine's state row by key.
2. ``commit``: changed state rows and the audit records of one decision, atomically.
   A reader or a restarted process sees all of a commit or none of it.
3. ``controls``: operator commands (kill, resume, reset) another process posted, in order.
4. ``audit``: the hash-chained log, for ``riskctl audit``.

State rows are JSON text keyed by ``(machine, key)``, e.g. ``("breaker", "venue-errors")``;
what the text means is the machine's business (``riskctl.state.codec``). ``commit`` takes
each row as its text or as the machine's state value (an immutable dataclass or Decimal),
which the store encodes with ``riskctl.state.codec.encode`` when it needs the text: a
durable store before it writes, an in-memory store only when it is loaded again, so a
replay never pays for text nobody reads.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Protocol

import orjson

from riskctl.state.codec import encode

__all__ = [
    "GENESIS",
    "AuditRecord",
    "Control",
    "ControlVerb",
    "NewRecord",
    "RowKey",
    "Snapshot",
    "StateStore",
    "body_text",
    "chain_hash",
    "record_text",
    "row_text",
]

RowKey = tuple[str, str]  # (machine, key)
ControlVerb = Literal["kill", "resume", "reset"]
GENESIS = "0" * 64  # the previous hash of the first record


@dataclass(frozen=True, slots=True)
class Control:
    """An operator command posted to a running process through the store."""

    id: int  # increasing; the runtime remembers the last one it applied
    verb: ControlVerb
    by: str
    reason: str
    at_ms: int
    target: str = ""  # the breaker name, for reset


@dataclass(frozen=True, slots=True)
class NewRecord:
    """An audit record before the store numbers and chains it.

    ``text`` is the body's canonical JSON when the caller already made it with
    :func:`record_text` (the runtime does, per decision, so a batch of decisions commits
    without encoding anything twice and a body that cannot be stored fails its decision
    alone); None lets the store encode it.
    """

    at_ms: int
    kind: str  # "decision", "control", "effect", "disagreement"
    body: Mapping[str, Any]  # JSON-able
    text: str | None = None


# Not frozen: a frozen dataclass's __init__ costs ~1 µs against ~0.3 µs, paid once per
# record on every ``riskctl audit --verify`` of a million. Treat records as read-only values.
@dataclass(slots=True)
class AuditRecord:
    """A committed audit record: numbered, and chained to the one before by its hash."""

    seq: int
    at_ms: int
    kind: str
    body: Mapping[str, Any]
    prev_hash: str
    hash: str

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at_ms": self.at_ms,
            "kind": self.kind,
            "body": self.body,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What ``load`` returns: every state row, and where the audit chain stands."""

    rows: Mapping[RowKey, str]
    last_seq: int
    last_hash: str


def canonical_body(body: Mapping[str, Any]) -> str:
    """The one JSON text a record's body is hashed and stored as: sorted keys, compact,
    UTF-8; Decimals (and anything else not JSON) as their exact text."""
    try:
        return orjson.dumps(body, default=_text, option=orjson.OPT_SORT_KEYS).decode()
    except orjson.JSONEncodeError:
        pass  # a key that is not a string, an int beyond 64 bits, or not JSON data at all
    try:  # non-string keys as their text: the same bytes for string keys, but slower
        return orjson.dumps(body, default=_text, option=_CANONICAL).decode()
    except orjson.JSONEncodeError:  # an int beyond 64 bits: the json module takes any int
        return json.dumps(
            body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_text
        )


_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


_INT64 = 1 << 63  # SQLite integers are signed 64-bit; every store keeps to that


def record_text(record: NewRecord) -> str:
    """The canonical body text a store hashes and keeps for ``record``; raises ValueError
    (a time that no store can keep) or TypeError (a body that is not JSON data)."""
    if record.text is None:
        return body_text(record.at_ms, record.body)
    _check_time(record.at_ms)
    return record.text


def row_text(value: Any) -> str:
    """A state row's JSON text: text as given, a state value encoded (``commit``)."""
    return value if type(value) is str else encode(value)


def body_text(at_ms: int, body: Mapping[str, Any]) -> str:
    """``record_text`` of a record not built yet: ``NewRecord(at_ms, kind, body, text)``."""
    _check_time(at_ms)
    return canonical_body(body)


def _check_time(at_ms: int) -> None:
    if not -_INT64 <= at_ms < _INT64:
        raise ValueError("the record time (now_ms) does not fit in a signed 64-bit integer")


def _text(value: Any) -> Any:
    """Decimals as their exact text, a pydantic model (a context given as a model) as its
    JSON data; anything else is refused (TypeError): an audit record is never a guess."""
    if isinstance(value, Decimal):
        return str(value)
    dump = getattr(value, "model_dump", None)
    if dump is not None:
        return dump(mode="json")
    raise TypeError(f"{type(value).__name__} is not JSON data")


def chain_hash(prev_hash: str, seq: int, at_ms: int, kind: str, body_text: str) -> str:
    """sha256 over the previous hash and every field of the record: an edit or a deletion
    anywhere breaks every hash after it."""
    text = f"{prev_hash}\n{seq}\n{at_ms}\n{kind}\n{body_text}"
    return hashlib.sha256(text.encode()).hexdigest()


class StateStore(Protocol):
    """Durable runtime state. Implementations: SqliteStore, MemoryStore."""

    def load(self) -> Snapshot:
        """The last committed state (empty rows and GENESIS for a new store)."""
        ...

    def commit(
        self, rows: Mapping[RowKey, Any], records: Sequence[NewRecord]
    ) -> Sequence[AuditRecord]:
        """Write changed rows (text or a state value; None deletes one) and append
        records, in one transaction.

        Returns the records as committed (numbered and chained). Raises on failure, and
        then nothing of this commit is visible.
        """
        ...

    def post_control(
        self, verb: ControlVerb, *, by: str, reason: str, at_ms: int, target: str = ""
    ) -> Control:
        """Queue an operator command for the process running on this store."""
        ...

    def controls(self, after_id: int) -> Sequence[Control]:
        """Commands with an id above ``after_id``, oldest first. Cheap when there are none:
        the runtime asks before every decision."""
        ...

    def audit(self, since_ms: int | None = None) -> Iterator[AuditRecord]:
        """Committed records in order, from ``since_ms`` (context time) on."""
        ...

    def close(self) -> None:
        """Release the store; a closed store is not used again."""
        ...
