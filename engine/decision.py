"""Decisions: what the gate answers at every stage, and how answers combine.

A decision is data: the stage, an outcome, the actions to take, every rule hit with the
values it saw, the bundle's hash and versions, and how long evaluation took. Outcomes are
ordered ``allow < modify < reject``; :func:`combine` keeps the most restrictive, unions the
actions and takes the smaller of two clipped quantities, so it is associative, commutative
on outcomes and monotone: adding a hit can never make a decision more permissive.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from riskctl.money import engine_context

__all__ = ["ACTIONS", "BundleRef", "Decision", "Outcome", "RuleHit", "combine", "combine_all"]


class Outcome(enum.IntEnum):
    """Ordered by restrictiveness; the larger wins when decisions combine."""

    ALLOW = 0
    MODIFY = 1
    REJECT = 2

    def __str__(self) -> str:
        return self.name.lower()


# Canonical order for reporting actions.
ACTIONS = (
    "reject",
    "clip",
    "round",
    "reduce_only",
    "halt",
    "cancel_all",
    "flatten",
    "pause_symbol",
    "alert",
)


@dataclass(frozen=True, slots=True)
class RuleHit:
    """One rule that fired (or failed), what it saw, and its mode: ``enforce`` or ``audit``.

    An audit hit records what the rule would have done; it never changes the outcome.
    """

    rule_id: str
    policy: str
    code: str
    severity: str
    action: str
    message: str
    values: Mapping[str, Any] = field(default_factory=dict)
    mode: str = "enforce"

    def to_json(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "policy": self.policy,
            "code": self.code,
            "severity": self.severity,
            "action": self.action,
            "mode": self.mode,
            "message": self.message,
            "values": {k: _json_value(v) for k, v in self.values.items()},
        }


@dataclass(frozen=True, slots=True)
class BundleRef:
    """Which policies decided: the bundle's content hash and each document's version."""

    hash: str = ""
    versions: Mapping[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"hash": self.hash, "versions": dict(self.versions)}


_NO_BUNDLE = BundleRef()


@dataclass(frozen=True, slots=True)
class Decision:
    """The gate's answer for one stage evaluation.

    Attribute names are the keys of :meth:`to_json`: ``outcome``, ``allowed``, ``actions``,
    ``modifications``, ``hits``, ``bundle`` (``hash``, ``versions``) and ``eval_us``.
    """

    stage: str
    outcome: Outcome
    actions: tuple[str, ...] = ()
    hits: tuple[RuleHit, ...] = ()
    modifications: Mapping[str, Decimal] = field(default_factory=dict)
    bundle: BundleRef = _NO_BUNDLE
    eval_us: float = 0.0

    @property
    def allowed(self) -> bool:
        """True for allow and modify (send the modified order); False for reject."""
        return self.outcome is not Outcome.REJECT

    def to_json(self) -> dict[str, Any]:
        """The decision as JSON-ready data, as ``riskctl eval`` prints it.

        Decimals become strings (computed values shown to 12 places), outcomes and modes
        lower-case words, ``eval_us`` microseconds to three decimals.
        """
        return {
            "stage": self.stage,
            "outcome": str(self.outcome),
            "allowed": self.allowed,
            "actions": list(self.actions),
            "modifications": {k: _json_value(v) for k, v in self.modifications.items()},
            "hits": [hit.to_json() for hit in self.hits],
            "bundle": self.bundle.to_json(),
            "eval_us": round(self.eval_us, 3),
        }


_FIX_ACTIONS = frozenset({"clip", "round"})
_SHOWN = Decimal("1e-12")  # places shown for a computed value; the decision used it in full


def sorted_actions(actions: Iterable[str]) -> tuple[str, ...]:
    unique = set(actions)
    return tuple(a for a in ACTIONS if a in unique) + tuple(sorted(unique - set(ACTIONS)))


def combine(first: Decision, second: Decision) -> Decision:
    """The most restrictive of two decisions for the same stage; hits from both, in order."""
    return combine_all((first, second))


def combine_all(decisions: Sequence[Decision]) -> Decision:
    """``combine`` over many decisions in one pass (the gate's path when several rules fire)."""
    first = decisions[0]
    modifications: dict[str, Decimal] = {}
    outcome = Outcome.ALLOW
    actions: list[str] = []
    hits: list[RuleHit] = []
    for decision in decisions:
        for key, value in decision.modifications.items():
            modifications[key] = min(value, modifications[key]) if key in modifications else value
        outcome = max(outcome, decision.outcome)
        actions += decision.actions
        hits += decision.hits
    if outcome is Outcome.REJECT:  # a rejected order is not sent, clipped or not
        modifications = {}
        actions = [a for a in actions if a not in _FIX_ACTIONS]
    return Decision(
        stage=first.stage,
        outcome=outcome,
        actions=sorted_actions(actions),
        hits=tuple(hits),
        modifications=modifications,
        bundle=next((d.bundle for d in decisions if d.bundle.hash), _NO_BUNDLE),
        eval_us=sum(d.eval_us for d in decisions),
    )


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        if value.as_tuple().exponent < -12:  # type: ignore[operator]  # finite: an int
            # Under the engine's context, whatever the caller's thread holds (a value of
            # 17 integer digits and 13 decimals does not fit the default precision).
            value = value.quantize(_SHOWN, rounding=ROUND_HALF_EVEN, context=engine_context())
        return format(value, "f")
    if isinstance(value, bool | int | str) or value is None:
        return value
    return str(value)
