"""The policy test file: ``kind: PolicyTest``, a list of cases and what each must decide.

A case names a stage, gives a context for it and states the expected decision: the
outcome, rules that must fire and rules that must not, and optionally actions and
modifications. Or a case gives a ``timeline``: steps at context times, run in order
through one stateful runtime, with expectations after any step on the decision and on the
state (trading state, breakers, bands, alerts, session P&L), like ``promtool test rules``.
The context stays a plain mapping here; the loader validates it against its stage's
context model so a bad context is reported at its own line and column.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from riskctl.fields import Identifier, Stage, StrictModel

__all__ = [
    "Action",
    "Case",
    "Expectation",
    "ExpectedModifications",
    "PolicyTest",
    "StepExpectation",
    "SuiteMetadata",
    "TimelineStep",
]

Action = Literal[
    "reject",
    "clip",
    "round",
    "reduce_only",
    "halt",
    "cancel_all",
    "flatten",
    "pause_symbol",
    "alert",
]
"""Every action a decision can carry (riskctl.decision.ACTIONS; a test keeps them equal)."""

RuleId = Annotated[str, Field(min_length=1, max_length=63, examples=["max_order_qty"])]


class ExpectedModifications(StrictModel):
    """Modifications the decision must carry; a field left out is not checked."""

    qty: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] | None = Field(
        default=None, description="The quantity the order must be changed to, in base units."
    )
    quote_qty: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] | None = Field(
        default=None,
        description=(
            "The quote-currency size a quote-sized order must be changed to (a clip of an"
            " order given as quote_qty stays quote-sized)."
        ),
    )
    price: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] | None = Field(
        default=None, description="The limit price the order must be moved to."
    )
    trigger_price: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] | None = Field(
        default=None, description="The stop trigger price the order must be moved to."
    )


class Expectation(StrictModel):
    """What the gate must decide for the case's context."""

    outcome: Literal["allow", "modify", "reject"] = Field(
        description="The decision's outcome: allow, modify (e.g. a clipped order) or reject."
    )
    fires: list[RuleId] = Field(
        default_factory=list,
        max_length=1000,
        description=(
            "Rule ids that must fire: custom rule ids or typed limit names such as"
            " max_order_qty. Other rules may fire too."
        ),
    )
    not_fires: list[RuleId] = Field(
        default_factory=list,
        max_length=1000,
        description="Rule ids that must not fire.",
    )
    actions: list[Action] | None = Field(
        default=None,
        max_length=20,
        description="Actions the decision must include (a subset; others may be present too).",
    )
    modifications: ExpectedModifications | None = Field(
        default=None, description="Modifications the decision must carry, e.g. {qty: 5}."
    )


BreakerStatus = Literal["closed", "open", "half_open"]
AlertStatus = Literal["inactive", "pending", "firing"]
SessionField = Literal[
    "realized_pnl", "fees", "peak_equity", "drawdown", "daily_pnl", "session_pnl"
]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Money = Annotated[Decimal, Field(allow_inf_nan=False)]


class ExpectedAlert(StrictModel):
    """An alert's status and, when it matters, its severity."""

    status: AlertStatus = Field(description="inactive, pending or firing.")
    severity: Literal["warn", "critical"] | None = Field(
        default=None, description="warn or critical; left out, not checked."
    )


class StepExpectation(Expectation):
    """What must hold after one timeline step: the decision, and the runtime's state.

    Every field is optional; a field left out is not checked. State keys are those of
    ``riskctl state show``.
    """

    outcome: Literal["allow", "modify", "reject"] | None = Field(  # type: ignore[assignment]
        default=None, description="The step's decision outcome; left out, not checked."
    )
    trading_state: Literal["ACTIVE", "REDUCING", "HALTED"] | None = Field(
        default=None, description="The trading state after the step."
    )
    breakers: dict[Name, BreakerStatus] | None = Field(
        default=None,
        max_length=1000,
        description=(
            "Breaker instance (its name, or name@venue:symbol for a per-symbol breaker) ->"
            " closed, open or half_open. A breaker that never saw a context is closed."
        ),
    )
    bands: dict[Name, Name] | None = Field(
        default=None,
        max_length=1000,
        description="Band set key (venue/symbol, * for any, e.g. */BTC/USDT) -> band name.",
    )
    alerts: (
        dict[
            Name, AlertStatus | Annotated[ExpectedAlert, Field(description="Status and severity.")]
        ]
        | None
    ) = Field(
        default=None,
        max_length=1000,
        description="Alert name -> status, or {status, severity}.",
    )
    session: dict[SessionField, Money] | None = Field(
        default=None, description="Session P&L fields, compared exactly, e.g. {daily_pnl: -100}."
    )
    effects: list[Name] | None = Field(
        default=None,
        max_length=100,
        description=(
            "Names of effects the step must emit (a subset), e.g. cancel_all, flatten, or"
            " an alert's or breaker's name."
        ),
    )


class TimelineStep(StrictModel):
    """One evaluation at a context time, and what must hold after it."""

    at_ms: Annotated[int, Field(ge=0)] = Field(
        description="The context time of the step: sets the context's now_ms."
    )
    stage: Stage = Field(description="Pipeline stage to evaluate the context at.")
    context: dict[str, Any] = Field(
        description=(
            "The stage's context as the bot sends it; the runtime completes the fields it"
            " owns (P&L, positions, order counts, feed memory) from the earlier steps."
        )
    )
    expect: StepExpectation | None = Field(
        default=None, description="What must hold after this step; left out, nothing."
    )

    @field_validator("context")
    @classmethod
    def _now_is_at(cls, context: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        at_ms = info.data.get("at_ms")
        if "now_ms" in context and at_ms is not None and context["now_ms"] != at_ms:
            raise ValueError(
                f"the context's now_ms {context['now_ms']!r} differs from the step's at_ms"
                f" {at_ms}; give now_ms only through at_ms"
            )
        return context


_FORMS = (("timeline",), ("stage", "context", "expect"))


def _one_form_schema(schema: dict[str, Any]) -> None:
    """The schema says what the model does: one of the two forms, never null (None in the
    model only marks the form a case does not use)."""
    for name in (n for form in _FORMS for n in form):
        prop = schema["properties"][name]
        prop.pop("default", None)
        branches = prop.pop("anyOf", None)
        if branches is not None:
            prop.update(next(b for b in branches if b != {"type": "null"}))
    schema["oneOf"] = [{"required": list(form)} for form in _FORMS]


class Case(StrictModel):
    """One context for one stage and the decision it must get, or a timeline of steps."""

    model_config = ConfigDict(json_schema_extra=_one_form_schema)

    name: str = Field(
        min_length=1, max_length=200, description="What the case shows; unique in the file."
    )
    description: str | None = Field(
        default=None, max_length=2000, description="Why the case matters, for reviewers."
    )
    stage: Stage | None = Field(
        default=None, description="Pipeline stage to evaluate the context at."
    )
    context: dict[str, Any] | None = Field(
        default=None,
        description=(
            "The stage's context, as the engine would pass it to the gate; see"
            " schemas/context-<stage>.schema.json. Derived fields are computed, never given."
        ),
    )
    expect: Expectation | None = Field(
        default=None, description="The decision the gate must reach."
    )
    timeline: list[TimelineStep] | None = Field(
        default=None,
        min_length=1,
        max_length=10_000,
        description=(
            "Instead of stage, context and expect: steps run in order through one fresh"
            " stateful runtime (riskctl run), each checked after it runs."
        ),
    )

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        single = (self.stage, self.context, self.expect)
        if self.timeline is not None:
            if any(part is not None for part in single):
                raise ValueError(
                    "a case gives either a timeline or stage, context and expect, not both"
                )
        elif any(part is None for part in single):
            raise ValueError("a case gives stage, context and expect (or a timeline instead)")
        return self


class SuiteMetadata(StrictModel):
    """Names the test file in reports."""

    name: Identifier = Field(description="Test suite name, shown in reports and JUnit XML.")
    description: str | None = Field(
        default=None, max_length=2000, description="What this file tests."
    )


class PolicyTest(StrictModel):
    """A policy test file: cases evaluated against a policy bundle by ``riskctl test``."""

    api_version: Literal["riskctl/v1"] = Field(
        alias="apiVersion", description="Schema version of the document format: riskctl/v1."
    )
    kind: Literal["PolicyTest"] = Field(description="Always PolicyTest.")
    metadata: SuiteMetadata = Field(description="The suite's name and description.")
    cases: list[Case] = Field(
        max_length=10_000,
        description="The cases, run in order; a file without cases fails the run.",
    )
