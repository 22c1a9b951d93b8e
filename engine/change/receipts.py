"""The change log: one hash-chained receipt per applied change, beside the policies.

Receipts are JSON Lines in ``DIR/.riskctl/changes.jsonl`` (``DIR`` is the policy
directory; the loader skips dot-directories' YAML only by name, and this file is not
YAML). Each receipt holds: ``seq`` (1, 2, ...), ``kind`` (``change``, ``rollback``,
``expiry`` or ``watchdog``),
``time`` (ISO UTC), the proposal, author, approver, the per-field changes with their
directions, ``old_bundle_hash`` and ``new_bundle_hash``, the unified diff, ``files`` (each
changed file's path relative to ``DIR`` and its full text ``before`` and ``after``, so any
earlier state can be restored byte for byte), ``prev`` (the previous receipt's ``hash``,
null for the first) and ``hash``: ``sha256:`` of the canonical JSON of the receipt
without its ``hash`` key. An ``expiry`` or ``watchdog`` receipt also names the receipt it
reverts (``reverts``, ``reverts_seq``); an expiry lists the fields it left as they were
(``superseded``), a watchdog revert the metric that tripped (``watchdog``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from riskctl.bundle import canonical_json

__all__ = [
    "LOG_NAME",
    "ChainProblem",
    "append_receipt",
    "log_path",
    "read_receipts",
    "receipt_hash",
    "verify_chain",
]

LOG_NAME = Path(".riskctl") / "changes.jsonl"


def log_path(policies: Path) -> Path:
    return policies / LOG_NAME


def receipt_hash(receipt: dict[str, Any]) -> str:
    body = {k: v for k, v in receipt.items() if k != "hash"}
    return "sha256:" + hashlib.sha256(canonical_json(body)).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """One break in the chain: a code, the receipt's line number and what is wrong."""

    code: str
    line: int
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "line": self.line, "message": self.message}


def read_receipts(policies: Path) -> tuple[list[dict[str, Any]], list[ChainProblem]]:
    """Every receipt in order, and the lines that are not JSON objects."""
    path = log_path(policies)
    if not path.exists():
        return [], []
    receipts: list[dict[str, Any]] = []
    problems: list[ChainProblem] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(ChainProblem("change.log-malformed", number, f"not JSON: {exc.msg}"))
            continue
        if not isinstance(value, dict):
            problems.append(ChainProblem("change.log-malformed", number, "not a JSON object"))
            continue
        receipts.append(value)
    return receipts, problems


def verify_chain(receipts: list[dict[str, Any]]) -> Iterator[ChainProblem]:
    """Each receipt's hash matches its content, points at the one before and follows it."""
    prev: str | None = None
    for number, receipt in enumerate(receipts, start=1):
        if receipt.get("seq") != number:
            yield ChainProblem(
                "change.log-gap", number, f"seq is {receipt.get('seq')!r}; expected {number}"
            )
        if receipt.get("prev") != prev:
            yield ChainProblem(
                "change.log-prev-mismatch",
                number,
                f"prev is {receipt.get('prev')!r}; the receipt before has hash {prev!r}",
            )
        if receipt.get("hash") != receipt_hash(receipt):
            yield ChainProblem(
                "change.log-hash-mismatch",
                number,
                "the receipt's content does not match its hash: it was edited",
            )
        prev = receipt.get("hash")


def append_receipt(policies: Path, receipt: dict[str, Any]) -> dict[str, Any]:
    """Chain ``receipt`` after the last one, hash it and append it (one line, flushed)."""
    receipts, _ = read_receipts(policies)
    last = receipts[-1] if receipts else None
    chained = {
        **receipt,
        "seq": (int(last.get("seq", len(receipts))) if last else 0) + 1,
        "prev": last.get("hash") if last else None,
    }
    chained["hash"] = receipt_hash(chained)
    path = log_path(policies)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(chained, sort_keys=True, separators=(",", ":")) + "\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
    return chained
