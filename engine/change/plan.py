"""The plan of a proposal: what would be written, which way it moves risk, what refuses it.

:func:`plan_change` is pure over the files: it reads the policy directory and its change
log, never writes. The plan records the base (the bundle hash and each file's sha256) so
``riskctl apply`` can refuse it once the files moved on, and the proposal's own text so
apply rebuilds the plan and writes only what the checks allowed.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from riskctl.bundle import PolicyBundle, load_bundle
from riskctl.change.checks import Refusal, check_value
from riskctl.change.direction import Direction, direction_of, same_value
from riskctl.change.edit import EditError, render_value, replace_scalars
from riskctl.change.ledger import MISSING, Today, encode_value, read_value
from riskctl.change.proposal import Proposal
from riskctl.change.receipts import read_receipts
from riskctl.change.selector import FieldPath, parse_path
from riskctl.change.workspace import file_sha256, try_candidate
from riskctl.kinds import ChangeControl
from riskctl.loader import LoadedPolicy

__all__ = [
    "PLAN_FORMAT",
    "FileEdit",
    "Plan",
    "add_edit",
    "file_texts",
    "finish_plan",
    "plan_change",
    "relative_path",
]

PLAN_FORMAT = "riskctl-plan/1"


@dataclass(frozen=True, slots=True)
class FileEdit:
    """One file as it is and as it would be written (path relative to the policy directory)."""

    path: str
    before: str
    after: str


@dataclass(slots=True)
class Plan:
    """Everything ``propose`` reports and ``apply`` needs."""

    kind: str
    policies: Path
    base_bundle_hash: str
    author: str
    changes: list[dict[str, Any]] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    files: list[FileEdit] = field(default_factory=list)
    new_bundle_hash: str | None = None
    lint: list[dict[str, Any]] = field(default_factory=list)
    approval_required: bool = False
    source: dict[str, Any] = field(default_factory=dict)
    impact: dict[str, Any] | None = None
    # Written into the receipt as they are: what an expiry or a watchdog revert reverts.
    receipt_fields: dict[str, Any] = field(default_factory=dict)

    @property
    def acceptable(self) -> bool:
        return not self.refusals

    @property
    def diff(self) -> str:
        return "".join(
            "".join(
                difflib.unified_diff(
                    f.before.splitlines(keepends=True),
                    f.after.splitlines(keepends=True),
                    fromfile=f"a/{f.path}",
                    tofile=f"b/{f.path}",
                )
            )
            for f in self.files
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "format": PLAN_FORMAT,
            "kind": self.kind,
            "policies": str(self.policies.resolve()),
            "acceptable": self.acceptable,
            "approval_required": self.approval_required,
            "author": self.author,
            "base_bundle_hash": self.base_bundle_hash,
            "new_bundle_hash": self.new_bundle_hash,
            "changes": self.changes,
            "refusals": [r.to_json() for r in self.refusals],
            "lint": self.lint,
            "diff": self.diff,
            "files": [
                {"path": f.path, "base_sha256": file_sha256(f.before), "after": f.after}
                for f in self.files
            ],
            "source": self.source,
            "impact": self.impact,
        }


def file_texts(bundle: PolicyBundle, policies: Path) -> dict[str, str]:
    """Relative path -> text of every policy file of the bundle."""
    return {relative_path(p, policies): p.source.text for p in bundle.policies}


def relative_path(policy: LoadedPolicy, policies: Path) -> str:
    """The policy's file, relative to the policy directory (as receipts name files)."""
    return Path(policy.path).resolve().relative_to(policies.resolve()).as_posix()


def plan_change(
    policies: Path, proposal: Proposal, *, proposal_text: str, now: dt.datetime
) -> Plan:
    """The plan of ``proposal`` against the files under ``policies`` (raises PolicyLoadError)."""
    bundle = load_bundle(policies)
    plan = Plan("change", policies, bundle.hash, proposal.author)
    plan.source = {"proposal": proposal.to_json(), "proposal_text": proposal_text}
    controls = [d.spec for d in bundle.of_kind(ChangeControl)]
    if not controls:
        plan.refusals.append(
            Refusal("change.no-change-control", "", "the policies hold no ChangeControl document")
        )
        return plan
    if proposal.expired(now):
        plan.refusals.append(
            Refusal(
                "change.expired", "expires_at", f"the proposal expired at {proposal.expires_at}"
            )
        )
    receipts, _ = read_receipts(policies)
    today = Today(receipts, now)
    edits: dict[str, dict[FieldPath, str]] = {}
    for change in proposal.changes:
        _plan_one(plan, bundle, change, controls=controls, today=today, edits=edits)
    budget = min(c.max_changes_per_day for c in controls)
    if today.used + len(proposal.changes) > budget:
        plan.refusals.append(
            Refusal(
                "change.daily-budget",
                "changes",
                f"{today.used} field change(s) applied today (UTC) and {len(proposal.changes)} "
                f"proposed; max_changes_per_day is {budget}",
                limit=budget,
            )
        )
    loosens = any(c["direction"] == Direction.LOOSENS for c in plan.changes)
    approval = {c.approval for c in controls}
    plan.approval_required = "always" in approval or ("loosening" in approval and loosens)
    finish_plan(plan, bundle, edits)
    return plan


def _plan_one(
    plan: Plan,
    bundle: PolicyBundle,
    change: Any,
    *,
    controls: list[Any],
    today: Today,
    edits: dict[str, dict[FieldPath, str]],
) -> None:
    where = f"{change.policy}:{change.path}"
    path = parse_path(change.path)
    try:
        loaded = bundle.source_of(change.policy)
    except KeyError:
        plan.refusals.append(
            Refusal("change.unknown-policy", where, f"no document {change.policy} in the policies")
        )
        return
    current = read_value(loaded.source.data, path or ())
    if path is None or current is MISSING or isinstance(current, dict | list):
        plan.refusals.append(
            Refusal("change.no-such-field", where, f"{where} is not a value in the document")
        )
        return
    if change.from_ is not None and not same_value(change.from_, current):
        plan.refusals.append(
            Refusal(
                "change.stale",
                where,
                f"{where} is {render_value(current)}, not {render_value(change.from_)} as the "
                "proposal read it; read the policies again",
            )
        )
    baseline = today.baseline(change.policy, path, current)
    for spec in controls:
        plan.refusals.extend(
            check_value(
                spec,
                policy=change.policy,
                path=path,
                current=current,
                to=change.to,
                baseline=baseline,
            )
        )
    direction = direction_of(str(path[-1]), current, change.to)
    plan.changes.append(
        {
            "policy": change.policy,
            "path": change.path,
            "from": encode_value(current),
            "to": encode_value(change.to),
            "baseline": encode_value(baseline),
            "direction": direction,
        }
    )
    add_edit(edits, plan.policies, loaded, path, change.to)


def add_edit(
    edits: dict[str, dict[FieldPath, str]],
    policies: Path,
    loaded: LoadedPolicy,
    path: FieldPath,
    value: Any,
) -> None:
    """Set ``path`` of a document to ``value`` and bump its ``metadata.version`` by one."""
    relative = relative_path(loaded, policies)
    edits.setdefault(relative, {})[path] = render_value(value)
    version = loaded.document.metadata.version
    edits[relative][("metadata", "version")] = str(version + 1)


def finish_plan(plan: Plan, bundle: PolicyBundle, edits: dict[str, dict[FieldPath, str]]) -> None:
    """Write the edits into texts, then load and lint the result from a temporary copy."""
    texts = file_texts(bundle, plan.policies)
    for relative, fields in sorted(edits.items()):
        try:
            after = replace_scalars(texts[relative], fields)
        except EditError as exc:
            plan.refusals.append(Refusal("change.no-such-field", relative, str(exc)))
            continue
        plan.files.append(FileEdit(relative, texts[relative], after))
    if not plan.files:
        return
    _judge(plan)


def _judge(plan: Plan) -> None:
    candidate = try_candidate(plan.policies, {f.path: f.after for f in plan.files})
    plan.new_bundle_hash = candidate.bundle_hash
    plan.lint = [d.to_json() for d in candidate.diagnostics]
    if candidate.bundle_hash is None or candidate.errors:
        first = candidate.errors[0].format() if candidate.errors else "it does not load"
        plan.refusals.append(
            Refusal(
                "change.invalid-result",
                "",
                f"the policies after the change have {len(candidate.errors)} lint error(s): "
                f"{first}",
            )
        )
