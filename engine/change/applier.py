"""Apply a plan: refuse it when stale, rebuild and compare it, write atomically, log it.

A plan file is not trusted: apply rebuilds the plan from its source (the proposal's text,
the rollback target, the override an expiry closes, the change a watchdog reverts) against
the files as they are now and writes only that. Steps:

1. stale: the policy files must still hash to the plan's ``base_bundle_hash`` (and each
   planned file to its ``base_sha256``);
2. the rebuilt plan must be acceptable and write exactly what the plan file shows;
3. approval: when the plan needs it, ``approved_by`` must be given and differ from the
   author;
4. the edited bundle was loaded from a temporary copy while planning; each file is then
   written by temp + rename (a reader sees the old file or the new one), and the receipt
   is appended to the change log.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from riskctl.atomic import write_text_atomic
from riskctl.bundle import load_bundle
from riskctl.change.checks import Refusal
from riskctl.change.expiry import plan_expiry
from riskctl.change.plan import Plan, plan_change
from riskctl.change.proposal import Proposal
from riskctl.change.receipts import append_receipt, log_path
from riskctl.change.restore import plan_revert, plan_rollback
from riskctl.change.workspace import file_sha256
from riskctl.yamlio import parse_yaml

__all__ = ["ApplyResult", "apply_plan", "rebuild"]


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """The receipt written, or the refusals that stopped apply (then nothing was written)."""

    receipt: dict[str, Any] | None
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def applied(self) -> bool:
        return self.receipt is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "receipt": self.receipt,
            "refusals": [r.to_json() for r in self.refusals],
        }


def rebuild(saved: dict[str, Any], *, now: dt.datetime) -> Plan | Refusal:
    """The plan rebuilt from a plan file's source, against the files as they are now."""
    policies = Path(str(saved.get("policies", "")))
    source = saved.get("source") or {}
    kind = saved.get("kind")
    if kind == "rollback":
        return plan_rollback(policies, str(source.get("target")), author=str(saved.get("author")))
    if kind == "expiry":
        return plan_expiry(policies, str(source.get("reverts")), now=now)
    if kind == "watchdog":
        return plan_revert(policies, str(source.get("reverts")), watchdog=source.get("watchdog"))
    loaded, _ = parse_yaml(str(source.get("proposal_text", "")), "<plan proposal>")
    if loaded is None:
        return Refusal("change.bad-plan", "source", "the plan's proposal does not parse")
    try:
        proposal = Proposal.model_validate(loaded.data)
    except ValidationError:
        return Refusal("change.bad-plan", "source", "the plan's proposal is not valid")
    return plan_change(
        policies,
        proposal,
        proposal_text=str(source["proposal_text"]),
        now=now,
    )


def _stale(saved: dict[str, Any], plan: Plan) -> Refusal | None:
    if plan.base_bundle_hash != saved.get("base_bundle_hash"):
        return Refusal(
            "change.stale-plan",
            "base_bundle_hash",
            f"the policies now hash to {plan.base_bundle_hash}, not the plan's base "
            f"{saved.get('base_bundle_hash')}; propose again",
        )
    now = {f.path: file_sha256(f.before) for f in plan.files}
    for entry in saved.get("files", []):
        if now.get(entry.get("path")) not in (None, entry.get("base_sha256")):
            return Refusal("change.stale-plan", str(entry.get("path")), "the file changed")
    return None


def apply_plan(saved: dict[str, Any], *, approved_by: str | None, now: dt.datetime) -> ApplyResult:
    """Apply a plan file's content (see the module docstring); never writes when refused.

    Holds an exclusive lock on ``DIR/.riskctl/lock`` from the rebuild to the receipt, so two
    applies to one directory run one after the other (the second then finds its plan stale).
    """
    policies = Path(str(saved.get("policies", "")))
    if not policies.is_dir():
        return ApplyResult(
            None, [Refusal("change.bad-plan", "policies", f"{policies} is not a directory")]
        )
    lock = log_path(policies).with_name("lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        return _apply_locked(saved, approved_by=approved_by, now=now)


def _apply_locked(
    saved: dict[str, Any], *, approved_by: str | None, now: dt.datetime
) -> ApplyResult:
    plan = rebuild(saved, now=now)
    if isinstance(plan, Refusal):
        return ApplyResult(None, [plan])
    stale = _stale(saved, plan)
    if stale is not None:
        return ApplyResult(None, [stale])
    if plan.refusals:
        return ApplyResult(None, plan.refusals)
    if [{"path": f.path, "after": f.after} for f in plan.files] != [
        {"path": f.get("path"), "after": f.get("after")} for f in saved.get("files", [])
    ]:
        return ApplyResult(None, [Refusal("change.bad-plan", "files", "the plan was edited")])
    refusal = _approval(plan, approved_by)
    if refusal is not None:
        return ApplyResult(None, [refusal])
    return ApplyResult(_write(plan, saved, approved_by=approved_by, now=now), [])


def _approval(plan: Plan, approved_by: str | None) -> Refusal | None:
    if approved_by is not None and approved_by.strip() == plan.author.strip():
        return Refusal(
            "change.self-approval", "approved_by", f"{plan.author} cannot approve their own change"
        )
    if plan.approval_required and not approved_by:
        return Refusal(
            "change.approval-required",
            "approved_by",
            "this change needs a human approval (ChangeControl approval); apply it with "
            "--approved-by NAME",
        )
    return None


def _write(
    plan: Plan, saved: dict[str, Any], *, approved_by: str | None, now: dt.datetime
) -> dict[str, Any]:
    for edit in plan.files:
        write_text_atomic(plan.policies / edit.path, edit.after)
    new_hash = load_bundle(plan.policies).hash
    receipt = {
        "kind": plan.kind,
        "time": now.astimezone(dt.UTC).isoformat(timespec="milliseconds"),
        "author": plan.author,
        "approved_by": approved_by,
        "proposal": (saved.get("source") or {}).get("proposal"),
        "rollback_to": (saved.get("source") or {}).get("rollback_to"),
        "changes": json.loads(json.dumps(plan.changes)),
        "old_bundle_hash": plan.base_bundle_hash,
        "new_bundle_hash": new_hash,
        "diff": plan.diff,
        "files": [{"path": f.path, "before": f.before, "after": f.after} for f in plan.files],
        **plan.receipt_fields,
    }
    return append_receipt(plan.policies, receipt)
