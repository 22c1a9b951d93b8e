"""The proposal an advisor (a person or an LLM agent) hands to ``riskctl propose``.

A proposal is YAML or JSON (JSON is read as YAML 1.2, so both give line:col locations and
exact decimals). It sets existing values only: a change names one scalar of one document
and the value it should take. ``from`` is optimistic concurrency: when given, the current
value must equal it, or the change is refused as stale.

``expires_at`` is an ISO 8601 time with a zone (``2026-12-07T18:00:00Z``). A proposal
whose ``expires_at`` has passed is refused; one applied before it is a temporary override
that :mod:`riskctl.change.expiry` reverts when it passes.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import AwareDatetime, Field, Strict, ValidationError

from riskctl.errors import Diagnostic
from riskctl.fields import StrictModel
from riskctl.validation import diagnostics_from
from riskctl.yamlio import parse_yaml, read_text

__all__ = [
    "Proposal",
    "ProposedChange",
    "Value",
    "load_proposal",
    "proposal_schema",
    "tool_definition",
]

Value = Annotated[
    Annotated[bool, Strict()] | Annotated[Decimal, Field(allow_inf_nan=False)] | str,
    Field(union_mode="left_to_right"),
]
"""A value a change may set: true/false, a decimal (a number, or a string that spells one,
so ``"4.5"`` from an agent is the decimal 4.5), or else a string."""

POLICY_REF = r"^[A-Za-z]+/[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$"
FIELD_PATH = r"^[a-z_][a-z0-9_]*(\[[0-9]+\])*(\.[a-z_][a-z0-9_]*(\[[0-9]+\])*)*$"
TOOL_NAME = "propose_risk_change"


class ProposedChange(StrictModel):
    """One value to change."""

    policy: str = Field(
        pattern=POLICY_REF,
        description="The document, as KIND/NAME: `RiskLimits/btc-eth-mm`.",
        examples=["RiskLimits/btc-eth-mm"],
    )
    path: str = Field(
        pattern=FIELD_PATH,
        max_length=300,
        description="The field inside the document, dotted, lists by index: "
        "`spec.scoped[0].max_order_qty`. Only existing values can be changed.",
        examples=["spec.defaults.price_collar_bps"],
    )
    from_: Value | None = Field(
        default=None,
        alias="from",
        description="The value the field holds now, as you read it; when given and the file "
        "holds something else, the change is refused as stale (change.stale).",
    )
    to: Value = Field(description="The value to set. Numbers are exact decimals.")


class Proposal(StrictModel):
    """A set of changes to policy values, with who proposes them and why."""

    author: str = Field(
        min_length=1, max_length=100, description="Who proposes: a person or an agent's name."
    )
    rationale: str = Field(
        min_length=1, max_length=4000, description="Why, in words a reviewer reads."
    )
    expires_at: AwareDatetime | None = Field(
        default=None,
        description="ISO 8601 time with a zone: the change is a temporary override, reverted "
        "when this time passes (riskctl run, riskctl apply --expire-due); a proposal past it is "
        "refused (change.expired).",
    )
    changes: list[ProposedChange] = Field(
        min_length=1, max_length=50, description="The values to change, applied together."
    )

    def expired(self, now: dt.datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        for change, model in zip(data["changes"], self.changes, strict=True):
            change["to"] = _json_value(model.to)
            if model.from_ is not None:
                change["from"] = _json_value(model.from_)
        return data


def _json_value(value: Any) -> Any:
    """Decimals as strings (exact); the proposal reads them back as the same Decimal."""
    return format(value, "f") if isinstance(value, Decimal) else value


def load_proposal(path: Path) -> tuple[Proposal | None, list[Diagnostic], str]:
    """Read and validate a proposal file ('-': stdin); every problem located (file:line:col).

    Returns the proposal (None when refused), the problems and the text read.
    """
    if str(path) == "-":
        text, shown = sys.stdin.read(), "<stdin>"
    else:
        shown = str(path)
        text, problem = read_text(path, shown)
        if problem is not None:
            return None, [problem], ""
    source, problems = parse_yaml(text, shown, empty=_EMPTY)
    if source is None:
        return None, problems, text
    try:
        return Proposal.model_validate(source.data), [], text
    except ValidationError as exc:
        located = diagnostics_from(
            exc,
            locate=lambda p, k: source.location(p, at_key=k),
            model=Proposal,
            namespace="proposal",
        )
        return None, located, text


_EMPTY = "the proposal is empty: the file holds no JSON or YAML document"


def proposal_schema() -> dict[str, Any]:
    """The proposal's JSON schema, as pydantic writes it (schemagen finishes it for editors)."""
    return Proposal.model_json_schema(by_alias=True, mode="validation")


def tool_definition(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON tool (function) definition for an LLM agent; ``parameters`` is the schema."""
    parameters = {k: v for k, v in schema.items() if k not in ("$schema", "$id")}
    return {
        "name": TOOL_NAME,
        "description": (
            "Propose changes to riskctl policy values (risk limits, collars, band skews). "
            "riskctl checks each change against the ChangeControl policy (allowed paths, "
            "min/max, step size, daily budget, cumulative drift, approval) and answers with a "
            "plan, or with refusals: objects with code, path, message and, where relevant, "
            "limit and allowed_range. Correct the proposal from them and propose again. "
            "Numbers are exact decimals; give `from` (the value you read) to avoid stale edits."
        ),
        "parameters": json.loads(json.dumps(parameters)),
    }
