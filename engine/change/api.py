"""Change control from Python: the CLI's verbs as functions, for an agent inside a bot.

=================================  ==========================================  ================
function                           CLI                                         returns
=================================  ==========================================  ================
``propose(p, policies=DIR)``       ``riskctl propose P --policies DIR``        :class:`Plan`
``apply(plan)``                    ``riskctl apply plan.json``                 ``ApplyResult``
``history(DIR, verify=True)``      ``riskctl history --policies DIR --verify`` :class:`History`
``rollback(DIR, to="3")``          ``riskctl rollback --policies DIR --to 3``  ``ApplyResult``
``expire_due(DIR)``                ``riskctl apply --expire-due --policies``   ``ExpiryReport``
``tool_schema()``                  ``riskctl propose --tool-schema``           a dict
=================================  ==========================================  ================

Every refusal is a :class:`~riskctl.change.checks.Refusal` (``code``, ``path``,
``message``, and where a number bounds the change ``limit`` and ``allowed_range``; its
``to_json()`` is what the CLI prints), so an agent corrects its proposal from data. A
proposal that does not validate is a refused plan too (codes ``proposal.*``, ``path`` the
JSON pointer of the field). Only policies that do not load raise
(:class:`~riskctl.errors.PolicyLoadError`, with located diagnostics): not the agent's to fix.
``now`` defaults to the current UTC time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from riskctl.bundle import load_bundle
from riskctl.change.applier import ApplyResult, apply_plan
from riskctl.change.checks import Refusal
from riskctl.change.expiry import due_overrides, plan_expiry
from riskctl.change.impact import preview_plan
from riskctl.change.plan import PLAN_FORMAT, Plan, plan_change
from riskctl.change.proposal import Proposal, load_proposal, tool_definition
from riskctl.change.receipts import ChainProblem, read_receipts
from riskctl.change.restore import plan_rollback
from riskctl.change.verify import as_refusals, verify_log
from riskctl.errors import Diagnostic, Location
from riskctl.validation import diagnostics_from
from riskctl.yamlio import pointer

__all__ = [
    "Expired",
    "ExpiryReport",
    "History",
    "apply",
    "expire_due",
    "history",
    "propose",
    "rollback",
    "tool_schema",
]


def _now(now: dt.datetime | None) -> dt.datetime:
    return now if now is not None else dt.datetime.now(dt.UTC)


def tool_schema() -> dict[str, Any]:
    """The JSON tool (function) definition to hand an LLM agent (``propose --tool-schema``)."""
    from riskctl.schemagen import proposal_json_schema  # noqa: PLC0415  # schemagen imports us

    return tool_definition(proposal_json_schema())


# -- propose ------------------------------------------------------------------------------


def propose(
    proposal: Proposal | Mapping[str, Any] | Path,
    *,
    policies: str | Path,
    against: Path | None = None,
    now: dt.datetime | None = None,
) -> Plan:
    """The plan of ``proposal`` (a model, the JSON of a tool call, or a file); refused
    plans carry their refusals. ``against``: a ``riskctl run`` input stream for the
    impact preview (``plan.impact``)."""
    directory = Path(policies)
    model, refusals = _proposal(proposal)
    if model is None:
        author = proposal.get("author") if isinstance(proposal, Mapping) else None
        plan = Plan("change", directory, load_bundle(directory).hash, str(author or ""))
        plan.refusals.extend(refusals)
        return plan
    text = json.dumps(model.to_json(), sort_keys=True)
    plan = plan_change(directory, model, proposal_text=text, now=_now(now))
    if against is not None and plan.new_bundle_hash is not None:
        plan.impact = preview_plan(plan, against)
    return plan


def _proposal(given: Proposal | Mapping[str, Any] | Path) -> tuple[Proposal | None, list[Refusal]]:
    if isinstance(given, Proposal):
        return given, []
    if isinstance(given, Path):
        model, problems, _ = load_proposal(given)
        return model, [_refusal(d) for d in problems]
    try:
        return Proposal.model_validate(dict(given)), []
    except ValidationError as exc:
        problems = diagnostics_from(
            exc,
            locate=lambda p, _k: Location("proposal", pointer=pointer(p)),
            model=Proposal,
            namespace="proposal",
        )
        return None, [_refusal(d) for d in problems]


def _refusal(problem: Diagnostic) -> Refusal:
    where = problem.location.pointer or str(problem.location)
    return Refusal(problem.code, where, problem.message)


# -- apply, rollback ----------------------------------------------------------------------


def apply(
    plan: Plan | Mapping[str, Any] | Path,
    *,
    approved_by: str | None = None,
    now: dt.datetime | None = None,
) -> ApplyResult:
    """Apply a plan (as :func:`propose` returned it, its JSON, or a plan file)."""
    if isinstance(plan, Plan):
        saved: Any = plan.to_json()
    elif isinstance(plan, Path):
        try:
            saved = json.loads(plan.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            return ApplyResult(None, [Refusal("change.bad-plan", str(plan), str(exc))])
    else:
        saved = dict(plan)
    if not isinstance(saved, dict) or saved.get("format") != PLAN_FORMAT:
        message = "not a plan written by riskctl propose"
        return ApplyResult(None, [Refusal("change.bad-plan", "format", message)])
    return apply_plan(saved, approved_by=approved_by, now=_now(now))


def rollback(
    policies: str | Path,
    *,
    to: str | int,
    by: str = "riskctl-rollback",
    approved_by: str | None = None,
    now: dt.datetime | None = None,
) -> ApplyResult:
    """Restore the files as they were right after receipt ``to`` (seq, 0, or hash prefix)."""
    plan = plan_rollback(Path(policies), str(to), author=by)
    if plan.refusals:
        return ApplyResult(None, plan.refusals)
    return apply_plan(plan.to_json(), approved_by=approved_by, now=_now(now))


# -- history ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class History:
    """The receipts, oldest first, and what is wrong with the log (with ``verify``)."""

    receipts: list[dict[str, Any]]
    problems: list[ChainProblem]
    verified: bool


def history(policies: str | Path, *, verify: bool = False) -> History:
    """The change log; ``verify`` also checks the chain and the files against it."""
    directory = Path(policies)
    if verify:
        receipts, problems = verify_log(directory)
    else:
        receipts, problems = read_receipts(directory)
    return History(receipts, problems, verified=verify and not problems)


# -- expiry -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expired:
    """One due override: the expiry receipt written, or why it could not be."""

    seq: int
    hash: str
    expires_at: dt.datetime
    result: ApplyResult

    def to_json(self) -> dict[str, Any]:
        return {
            "override_seq": self.seq,
            "override_hash": self.hash,
            "expires_at": self.expires_at.isoformat(),
            **self.result.to_json(),
        }


@dataclass(frozen=True, slots=True)
class ExpiryReport:
    """Every due override handled, and the refusals of the log itself (then none was)."""

    expired: list[Expired] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refusals and all(e.result.applied for e in self.expired)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "expired": [e.to_json() for e in self.expired],
            "refusals": [r.to_json() for r in self.refusals],
        }


def expire_due(policies: str | Path, *, now: dt.datetime | None = None) -> ExpiryReport:
    """Revert every override due at ``now``, newest first, each with its ``expiry`` receipt.

    A log that does not verify (edited, broken, or files changed behind it) is refused as a
    whole: it must not decide what is reverted. An override another process closed
    meanwhile is skipped.
    """
    directory, when = Path(policies), _now(now)
    receipts, problems = verify_log(directory)
    if problems:
        return ExpiryReport(refusals=as_refusals(problems))
    expired = []
    for override in due_overrides(receipts, when):
        plan = plan_expiry(directory, override.hash, now=when)
        result = (
            apply_plan(plan.to_json(), approved_by=None, now=when)
            if plan.acceptable
            else ApplyResult(None, plan.refusals)
        )
        if [r.code for r in result.refusals] == ["change.not-due"]:
            continue  # closed by another process between reading the log and applying
        expired.append(Expired(override.seq, override.hash, override.expires_at, result))
    return ExpiryReport(expired)
