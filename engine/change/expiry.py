"""Temporary overrides: an applied change whose proposal has ``expires_at`` reverts when due.

An **override** is a ``change`` receipt whose proposal has ``expires_at``. It is *open*
until a later receipt names it in ``reverts`` (an ``expiry`` receipt, or a ``watchdog``
revert), and *due* once ``expires_at <= now``. Its expiry is a plan of kind ``expiry``
that goes through the same apply path as a change (stale check, load and lint of a
temporary copy before anything is written, temp + rename, hash-chained receipt); it is not
held to the allow bounds, step, drift or daily budget, and needs no approval: it returns to
a value that was in force before, as the override's approval (or lack of need for one)
said it would.

Per field of the override:

* the field still holds the override's value: it goes back to the value before the
  override (``from``). When that value was itself set by an earlier override that has
  expired too (an override made on top of another), it goes back further, to the value
  before that one, so no expired override stays in force;
* the field was changed again since (by a later change, a rollback or by hand): it is
  left as it is and listed in the receipt's ``superseded`` (the later change is a
  decision of its own; turning it back would undo it, keeping it never loosens anything
  the later change did not). ``riskctl run`` reports it as ``change.expiry-superseded``.

The override is closed by its expiry receipt either way, also when every field was
superseded (the receipt then changes no file). An invalid result (the policies after the
revert do not load or lint) is refused (``change.invalid-result``): nothing is written, the
override stays open and in force, and the refusal is reported each time it is retried.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from riskctl.bundle import PolicyBundle, load_bundle
from riskctl.change.checks import Refusal
from riskctl.change.direction import direction_of, same_value
from riskctl.change.ledger import MISSING, decode_value, encode_value, read_value
from riskctl.change.plan import Plan, add_edit, finish_plan, relative_path
from riskctl.change.receipts import read_receipts
from riskctl.change.selector import FieldPath, parse_path

__all__ = ["EXPIRY_AUTHOR", "Override", "due_overrides", "expires_at", "plan_expiry"]

EXPIRY_AUTHOR = "riskctl-expiry"


@dataclass(frozen=True, slots=True)
class Override:
    """An open override: its receipt's seq, hash and position in the log, and its expiry."""

    seq: int
    hash: str
    index: int
    expires_at: dt.datetime


def expires_at(receipt: dict[str, Any]) -> dt.datetime | None:
    """The expiry of a ``change`` receipt's proposal (None: not an override)."""
    if receipt.get("kind") != "change":
        return None
    text = (receipt.get("proposal") or {}).get("expires_at")
    if not isinstance(text, str):
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def open_overrides(receipts: list[dict[str, Any]]) -> list[Override]:
    """Every override no later receipt reverts, oldest first."""
    closed = {r.get("reverts") for r in receipts if r.get("reverts")}
    found = []
    for index, receipt in enumerate(receipts):
        when = expires_at(receipt)
        if when is not None and receipt.get("hash") not in closed:
            found.append(Override(int(receipt["seq"]), str(receipt["hash"]), index, when))
    return found


def due_overrides(receipts: list[dict[str, Any]], now: dt.datetime) -> list[Override]:
    """The open overrides due at ``now``, newest first (a stack unwinds from its top)."""
    return [o for o in reversed(open_overrides(receipts)) if o.expires_at <= now]


def plan_expiry(policies: Path, reverts: str, *, now: dt.datetime) -> Plan:
    """The plan that closes the override whose receipt hash is ``reverts`` (see the module
    docstring). Refused with ``change.not-due`` unless it is open and due at ``now``."""
    bundle = load_bundle(policies)
    plan = Plan("expiry", policies, bundle.hash, EXPIRY_AUTHOR)
    plan.source = {"reverts": reverts}
    receipts, _ = read_receipts(policies)
    override = next((o for o in due_overrides(receipts, now) if o.hash == reverts), None)
    if override is None:
        plan.refusals.append(
            Refusal(
                "change.not-due",
                "reverts",
                f"receipt {reverts} is not an open override due at {now.isoformat()}",
            )
        )
        return plan
    edits: dict[str, dict[FieldPath, str]] = {}
    superseded: list[dict[str, Any]] = []
    for change in receipts[override.index].get("changes", []):
        found = _revert_one(plan, bundle, receipts, override, change, now=now, edits=edits)
        if found is not None:
            superseded.append(found)
    plan.receipt_fields = {
        "reverts": override.hash,
        "reverts_seq": override.seq,
        "expires_at": override.expires_at.isoformat(),
        "superseded": superseded,
    }
    finish_plan(plan, bundle, edits)
    return plan


def _revert_one(
    plan: Plan,
    bundle: PolicyBundle,
    receipts: list[dict[str, Any]],
    override: Override,
    change: dict[str, Any],
    *,
    now: dt.datetime,
    edits: dict[str, dict[FieldPath, str]],
) -> dict[str, Any] | None:
    """Plan one field back; the superseded entry instead when it no longer holds the
    override's value."""
    policy, shown = str(change.get("policy")), str(change.get("path"))
    path = parse_path(shown) or ()
    try:
        loaded = bundle.source_of(policy)
    except KeyError:
        loaded = None
    current = MISSING if loaded is None else read_value(loaded.source.data, path)
    override_value = decode_value(change.get("to"))
    if loaded is None or current is MISSING or not same_value(current, override_value):
        return {
            "policy": policy,
            "path": shown,
            "override": change.get("to"),
            "current": None if current is MISSING else encode_value(current),
        }
    relative = relative_path(loaded, plan.policies)
    target = _restore_target(receipts, override.index, (policy, shown, relative), now)
    plan.changes.append(
        {
            "policy": policy,
            "path": shown,
            "from": encode_value(current),
            "to": encode_value(target),
            "direction": direction_of(str(path[-1]), current, target),
        }
    )
    add_edit(edits, plan.policies, loaded, path, target)
    return None


def _restore_target(
    receipts: list[dict[str, Any]], index: int, field: tuple[str, str, str], now: dt.datetime
) -> Any:
    """The value before the override at ``index``, unwound through earlier overrides of the
    same field that have expired by ``now`` and whose value it replaced."""
    target = decode_value(_change_of(receipts[index], field).get("from"))
    while True:
        earlier = _last_touch(receipts, index, field)
        if earlier is None:
            return target
        index, change = earlier
        when = expires_at(receipts[index])
        if change is None or when is None or when > now:
            return target
        if not same_value(decode_value(change.get("to")), target):
            return target
        target = decode_value(change.get("from"))


def _last_touch(
    receipts: list[dict[str, Any]], before: int, field: tuple[str, str, str]
) -> tuple[int, dict[str, Any] | None] | None:
    """The latest receipt before ``before`` that touched the field: its change entry, or
    None for a rollback or watchdog revert of its file (which fields it moved is not
    listed, so the unwinding stops there)."""
    relative = field[2]
    for index in range(before - 1, -1, -1):
        receipt = receipts[index]
        change = _change_of(receipt, field)
        if change:
            return index, change
        if receipt.get("kind") in ("rollback", "watchdog") and any(
            f.get("path") == relative for f in receipt.get("files", [])
        ):
            return index, None
    return None


def _change_of(receipt: dict[str, Any], field: tuple[str, str, str]) -> dict[str, Any]:
    policy, path, _ = field
    return next(
        (
            c
            for c in receipt.get("changes", [])
            if c.get("policy") == policy and c.get("path") == path
        ),
        {},
    )
