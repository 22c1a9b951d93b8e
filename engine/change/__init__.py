"""Change control: proposals, plans, apply, the receipt log and rollback (issue 19).

Layers: :mod:`proposal` (the input model and the agent's tool definition),
:mod:`direction` (which way a change moves risk), :mod:`selector` (paths and selectors),
:mod:`checks` (the ChangeControl bounds, pure), :mod:`ledger` (today's budget and
baselines from the log), :mod:`edit` (byte-preserving YAML edits), :mod:`workspace` (load
and lint a what-if copy), :mod:`plan`, :mod:`rollback`, :mod:`apply`, :mod:`receipts` (the
hash-chained log) and :mod:`impact` (decisions a change would flip).
"""

from __future__ import annotations

from riskctl.change.apply import ApplyResult, apply_plan
from riskctl.change.checks import Refusal, check_value, step_bound
from riskctl.change.direction import Direction, direction_of
from riskctl.change.plan import Plan, plan_change
from riskctl.change.proposal import Proposal, ProposedChange, load_proposal, tool_definition
from riskctl.change.receipts import read_receipts, verify_chain
from riskctl.change.rollback import plan_rollback

__all__ = [
    "ApplyResult",
    "Direction",
    "Plan",
    "Proposal",
    "ProposedChange",
    "Refusal",
    "apply_plan",
    "check_value",
    "direction_of",
    "load_proposal",
    "plan_change",
    "plan_rollback",
    "read_receipts",
    "step_bound",
    "tool_definition",
    "verify_chain",
]
