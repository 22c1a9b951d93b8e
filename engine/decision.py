"""Decisions: what the gate answers at every stage, and how answers combine.

A decision is data: the stage, an outcome, the actions to take, every rule hit with the
values it saw, the bundle's hash and versions, and how long evaluation took. Outcomes are
ordered ``allow < modify < reject``; :func:`combine` keeps the most restrictive, unions the
actions and takes the smaller of two clipped quantities, so it is associative, commutative
on outcomes and monotone: adding a hit can never make a decision more permissive.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from riskctl.money import engine_context

__all__ = [
    "ACTIONS",
    "BundleRef",
    "Decision",
    "DecisionBuilder",
    "Hits",
    "Outcome",
    "RuleHit",
    "combine",
    "combine_all",
]


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


# RuleHit and Decision are plain slotted dataclasses, not frozen ones: a frozen
# dataclass's __init__ costs about 0.9 µs against 0.2 µs, on every decision and every hit
# in the hot path. Treat both as read-only values; the gate never reuses one it returned.


@dataclass(slots=True)
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

# A hit recorded cheaply on the hot path: make(rule, context) builds the RuleHit. The rule
# object carries rule_id and mode, like the RuleHit it becomes.
PendingHit = tuple[Callable[[Any, Any], RuleHit], Any, Any]


class Hits(Sequence[RuleHit]):
    """A decision's hits, each built from its rule and context when the hits are first read.

    Reading the values a hit reports (every field its rule read) costs more than deciding;
    a bot that only reads the outcome never pays it. Contexts are frozen, so a hit built
    late reports exactly what the rule saw. Behaves as a tuple of RuleHit (indexing,
    iteration, ``len``, equality with any sequence of hits).
    """

    __slots__ = ("_built", "_entries")

    def __init__(self, entries: Sequence[RuleHit | PendingHit]) -> None:
        self._entries = entries
        self._built: tuple[RuleHit, ...] | None = None

    def _all(self) -> tuple[RuleHit, ...]:
        built = self._built
        if built is None:
            built = self._built = tuple(
                entry if isinstance(entry, RuleHit) else entry[0](entry[1], entry[2])
                for entry in self._entries
            )
        return built

    def __getitem__(self, index: Any) -> Any:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[RuleHit]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return self._all() == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal to tuples, which hash differently

    def __repr__(self) -> str:
        return repr(self._all())

    def enforced(self, rule_id: str) -> bool:
        """True when ``rule_id`` fired in enforce mode (without building any hit)."""
        # a RuleHit, or the rule of a pending hit: both carry rule_id and mode
        fired = (entry if isinstance(entry, RuleHit) else entry[1] for entry in self._entries)
        return any(hit.rule_id == rule_id and hit.mode == "enforce" for hit in fired)


@dataclass(slots=True)
class Decision:
    """The gate's answer for one stage evaluation.

    Attribute names are the keys of :meth:`to_json`: ``outcome``, ``allowed``, ``actions``,
    ``modifications``, ``hits``, ``bundle`` (``hash``, ``versions``) and ``eval_us``.
    """

    stage: str
    outcome: Outcome
    actions: tuple[str, ...] = ()
    hits: Sequence[RuleHit] = ()
    modifications: Mapping[str, Decimal] = field(default_factory=dict)
    bundle: BundleRef = _NO_BUNDLE
    eval_us: float = 0.0

    @property
    def allowed(self) -> bool:
        """True for allow and modify (send the modified order); False for reject."""
        return self.outcome is not Outcome.REJECT

    def enforced(self, rule_id: str) -> bool:
        """True when ``rule_id`` fired in enforce mode (reads no hit values)."""
        hits = self.hits
        if isinstance(hits, Hits):
            return hits.enforced(rule_id)
        return any(hit.rule_id == rule_id and hit.mode == "enforce" for hit in hits)

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
_RANK = {action: rank for rank, action in enumerate(ACTIONS)}


def sorted_actions(actions: Iterable[str]) -> tuple[str, ...]:
    """Each action once, in the canonical order (any unknown action after, by name)."""
    return tuple(sorted(set(actions), key=lambda a: (_RANK.get(a, len(ACTIONS)), a)))


class DecisionBuilder:
    """Accumulates parts of a decision in one pass and builds the Decision once.

    The one place the combining rules live: the most restrictive outcome wins, actions
    are unioned, the smaller of two values for a modified field is kept, and a reject
    drops every modification and fix action (a rejected order is not sent, clipped or not).
    """

    __slots__ = ("_actions", "_hits", "_modifications", "_outcome", "stage")

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self._outcome = Outcome.ALLOW
        self._actions: list[str] = []
        self._hits: list[RuleHit | PendingHit] = []
        self._modifications: dict[str, Decimal] = {}

    def add(
        self,
        outcome: Outcome,
        actions: Sequence[str],
        hits: Sequence[RuleHit | PendingHit],
        modifications: Mapping[str, Decimal] | None = None,
    ) -> None:
        self._outcome = max(self._outcome, outcome)
        self._actions += actions
        # another decision's hits join unbuilt, so combining never reads values
        self._hits += hits._entries if isinstance(hits, Hits) else hits
        if modifications:
            mine = self._modifications
            for key, value in modifications.items():
                mine[key] = min(value, mine[key]) if key in mine else value

    def build(self, bundle: BundleRef = _NO_BUNDLE, eval_us: float = 0.0) -> Decision:
        actions, modifications = self._actions, self._modifications
        if self._outcome is Outcome.REJECT:
            modifications = {}
            actions = [a for a in actions if a not in _FIX_ACTIONS]
        return Decision(
            self.stage,
            self._outcome,
            tuple(actions) if len(actions) <= 1 else sorted_actions(actions),
            Hits(self._hits) if self._hits else (),
            modifications,
            bundle,
            eval_us,
        )


def combine(first: Decision, second: Decision) -> Decision:
    """The most restrictive of two decisions for the same stage; hits from both, in order."""
    return combine_all((first, second))


def combine_all(decisions: Sequence[Decision]) -> Decision:
    """``combine`` over many decisions in one pass."""
    builder = DecisionBuilder(decisions[0].stage)
    for decision in decisions:
        builder.add(decision.outcome, decision.actions, decision.hits, decision.modifications)
    return builder.build(
        next((d.bundle for d in decisions if d.bundle.hash), _NO_BUNDLE),
        sum(d.eval_us for d in decisions),
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
