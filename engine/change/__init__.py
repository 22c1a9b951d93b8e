"""Change control: proposals, plans, apply, the receipt log, rollback, expiry, watchdog.

The public API mirrors the CLI (:mod:`riskctl.change.api`): :func:`propose` (a
:class:`Plan` with machine-readable :class:`Refusal` s), :func:`apply`, :func:`history`,
:func:`rollback`, :func:`expire_due` and :func:`tool_schema` (the agent's tool definition).

Layers: :mod:`proposal` (the input model and the agent's tool definition),
:mod:`direction` (which way a change moves risk), :mod:`selector` (paths and selectors),
:mod:`checks` (the ChangeControl bounds, pure), :mod:`ledger` (today's budget and
baselines from the log), :mod:`edit` (byte-preserving YAML edits), :mod:`workspace` (load
and lint a what-if copy), :mod:`plan` (a change's plan), :mod:`restore` (rollback and
watchdog-revert plans), :mod:`expiry` (temporary overrides and their expiry plans),
:mod:`applier` (stale check, atomic writes, receipt), :mod:`receipts` (the hash-chained
log), :mod:`verify` (is the log to be trusted), :mod:`impact` (decisions a change would
flip), :mod:`watchdog` (metrics since a change -> revert or not, pure) and :mod:`follow`
(what ``riskctl run`` does with all of it between batches).
"""

from __future__ import annotations

from riskctl.change.api import (
    Expired,
    ExpiryReport,
    History,
    apply,
    expire_due,
    history,
    propose,
    rollback,
    tool_schema,
)
from riskctl.change.applier import ApplyResult
from riskctl.change.checks import Refusal
from riskctl.change.direction import Direction
from riskctl.change.plan import Plan
from riskctl.change.proposal import Proposal, ProposedChange
from riskctl.change.receipts import ChainProblem

__all__ = [
    "ApplyResult",
    "ChainProblem",
    "Direction",
    "Expired",
    "ExpiryReport",
    "History",
    "Plan",
    "Proposal",
    "ProposedChange",
    "Refusal",
    "apply",
    "expire_due",
    "history",
    "propose",
    "rollback",
    "tool_schema",
]
