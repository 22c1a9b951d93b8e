"""Rollback: the plan that restores the files as they were right after an earlier receipt.

``--to`` names a receipt by its ``seq`` (``0`` is the state before the first receipt) or
by its hash (or a unique prefix of it). A file's text at receipt ``k`` is the ``after``
of the last receipt up to ``k`` that changed it, or else the ``before`` of the first
receipt after ``k`` that changed it; files no receipt changed are left as they are. The
plan goes through the same apply path as a change (stale check, load-before-write, its own
receipt). It is not held to the allow bounds, step, drift or daily budget (it returns to
a state that was applied before); it needs ``--approved-by`` unless approval is ``never``.

:func:`plan_revert` is the watchdog's rollback: the files as they were right before the
last receipt, which must be the advisor change it watched (otherwise the change is no
longer the one in force and the revert is refused as ``change.stale-plan``). It needs no
approval (it undoes an automated change because a metric degraded) and its receipt, of kind
``watchdog``, names the change it reverts and the metric that tripped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from riskctl.bundle import load_bundle
from riskctl.change.checks import Refusal
from riskctl.change.plan import FileEdit, Plan, file_texts
from riskctl.change.receipts import read_receipts
from riskctl.change.workspace import try_candidate
from riskctl.kinds import ChangeControl

__all__ = ["WATCHDOG_AUTHOR", "find_receipt", "plan_revert", "plan_rollback"]

WATCHDOG_AUTHOR = "riskctl-watchdog"


def find_receipt(receipts: list[dict[str, Any]], target: str) -> int | None:
    """The seq ``target`` names (0 = before the first receipt), or None."""
    if target.isdigit():
        seq = int(target)
        return seq if seq <= len(receipts) else None
    found = [r for r in receipts if str(r.get("hash", "")).startswith(target)]
    if len(target) < 8 or len(found) != 1:
        return None
    return int(found[0]["seq"])


def _texts_at(receipts: list[dict[str, Any]], seq: int) -> dict[str, str]:
    texts: dict[str, str] = {}
    for receipt in reversed(receipts[seq:]):  # the first receipt after seq wins
        texts.update({f["path"]: f["before"] for f in receipt.get("files", [])})
    for receipt in receipts[:seq]:  # the last receipt up to seq wins
        texts.update({f["path"]: f["after"] for f in receipt.get("files", [])})
    return texts


def plan_rollback(policies: Path, target: str, *, author: str) -> Plan:
    """The plan back to the state after receipt ``target`` (raises PolicyLoadError)."""
    bundle = load_bundle(policies)
    plan = Plan("rollback", policies, bundle.hash, author)
    receipts, _ = read_receipts(policies)
    seq = find_receipt(receipts, target)
    if seq is None:
        plan.refusals.append(
            Refusal("change.unknown-receipt", "--to", f"no receipt {target!r} in the change log")
        )
        return plan
    plan.source = {"rollback_to": seq, "target": target}
    current = file_texts(bundle, policies)
    for path, text in sorted(_texts_at(receipts, seq).items()):
        if current.get(path) != text:
            plan.files.append(FileEdit(path, current.get(path, ""), text))
    approvals = {d.spec.approval for d in bundle.of_kind(ChangeControl)}
    plan.approval_required = approvals != {"never"}
    if plan.files:
        candidate = try_candidate(policies, {f.path: f.after for f in plan.files})
        plan.new_bundle_hash = candidate.bundle_hash
        plan.lint = [d.to_json() for d in candidate.diagnostics]
        if candidate.bundle_hash is None:
            plan.refusals.append(Refusal("change.invalid-result", "", "the result does not load"))
    return plan


def plan_revert(policies: Path, reverts: str, *, watchdog: Any) -> Plan:
    """The watchdog's plan undoing the last receipt, the change whose hash is ``reverts``;
    ``watchdog`` (the verdict: metric, values, threshold) goes into the receipt."""
    receipts, _ = read_receipts(policies)
    last = receipts[-1] if receipts else {}
    if last.get("hash") != reverts or last.get("kind") != "change":
        plan = Plan("watchdog", policies, load_bundle(policies).hash, WATCHDOG_AUTHOR)
        plan.source = {"reverts": reverts, "watchdog": watchdog}
        plan.refusals.append(
            Refusal(
                "change.stale-plan",
                "reverts",
                f"the last receipt is not the change {reverts} the watchdog watched",
            )
        )
        return plan
    plan = plan_rollback(policies, str(int(last["seq"]) - 1), author=WATCHDOG_AUTHOR)
    plan.kind = "watchdog"
    plan.approval_required = False
    plan.source = {**plan.source, "reverts": reverts, "watchdog": watchdog}
    plan.receipt_fields = {"reverts": reverts, "reverts_seq": last["seq"], "watchdog": watchdog}
    return plan
