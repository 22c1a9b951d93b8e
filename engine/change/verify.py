"""Is the change log to be trusted: its chain intact and the files where its last receipt left them.

:func:`verify_log` is what ``riskctl history --verify`` reports, and what an expiry checks
before it acts on the log: a log that was edited (or files changed behind it) must not
decide what is reverted automatically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from riskctl.bundle import load_bundle
from riskctl.change.checks import Refusal
from riskctl.change.receipts import LOG_NAME, ChainProblem, read_receipts, verify_chain
from riskctl.errors import PolicyLoadError

__all__ = ["as_refusals", "files_match", "verify_log"]


def verify_log(policies: Path) -> tuple[list[dict[str, Any]], list[ChainProblem]]:
    """The receipts and every problem: malformed lines, chain breaks, files that differ."""
    receipts, problems = read_receipts(policies)
    problems = [*problems, *verify_chain(receipts), *files_match(policies, receipts)]
    return receipts, problems


def files_match(policies: Path, receipts: list[dict[str, Any]]) -> list[ChainProblem]:
    """A ``change.files-differ`` problem unless the files hash to the last receipt's new hash."""
    if not receipts:
        return []
    try:
        current = load_bundle(policies).hash
    except PolicyLoadError:
        current = None
    expected = receipts[-1].get("new_bundle_hash")
    if current == expected:
        return []
    return [
        ChainProblem(
            "change.files-differ",
            len(receipts),
            f"the policy files hash to {current}, not the last receipt's {expected}",
        )
    ]


def as_refusals(problems: list[ChainProblem]) -> list[Refusal]:
    """Chain problems as refusals located at the log's line (``.riskctl/changes.jsonl:3``)."""
    return [Refusal(p.code, f"{LOG_NAME.as_posix()}:{p.line}", p.message) for p in problems]
