"""The ChangeControl checks of one proposed value: pure functions, refusals as data.

Every refusal is a :class:`Refusal` with a stable ``code``, the ``path`` it is about
(``KIND/NAME:dotted.path``), a message in full words and, where a number bounds the
change, ``limit`` and ``allowed_range`` (``[low, high]``, either end null when open), so
an agent can correct the value and propose again.

Bounds (all the ``allow`` entries that match a path must hold, so the strictest wins):

* ``min`` / ``max``: the new value;
* step: ``|to - current| <= step bound of current``;
* drift: ``|to - baseline| <= step bound of baseline``, where the baseline is the value
  before the first change applied to that field on the current UTC day (the current value
  when none was). However many in-bounds steps a day brings, the field never ends more
  than one step's bound from where the day began.

The step bound of a reference value ``r`` is the smaller of ``max_step_abs`` and
``|r| * max_step_pct / 100`` (of those that are set; none set: no step bound).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from riskctl.change.selector import FieldPath, matches, show_path
from riskctl.kinds.change_control import ChangeBound, ChangeControlSpec

__all__ = ["Refusal", "allowed_range", "check_value", "step_bound"]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why one change (or the whole proposal) is refused."""

    code: str
    path: str
    message: str
    limit: Decimal | int | None = None
    allowed_range: tuple[Decimal | None, Decimal | None] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "path": self.path, "message": self.message}
        if self.limit is not None:
            data["limit"] = _text(self.limit)
        if self.allowed_range is not None:
            data["allowed_range"] = [_text(v) for v in self.allowed_range]
        return data

    def format(self) -> str:
        return f"{self.path}: {self.code}: {self.message}"


def _text(value: Decimal | int | None) -> str | None:
    if value is None:
        return None
    return format(Decimal(value).normalize(), "f") if isinstance(value, Decimal) else str(value)


def step_bound(bound: ChangeBound, reference: Decimal) -> Decimal | None:
    """The largest move allowed from ``reference`` by ``bound`` (None: unbounded)."""
    candidates = []
    if bound.max_step_abs is not None:
        candidates.append(bound.max_step_abs)
    if bound.max_step_pct is not None:
        candidates.append(abs(reference) * Decimal(bound.max_step_pct) / 100)
    return min(candidates) if candidates else None


def check_value(
    spec: ChangeControlSpec,
    *,
    policy: str,
    path: FieldPath,
    current: Any,
    to: Any,
    baseline: Any,
) -> list[Refusal]:
    """Refusals of setting ``policy:path`` from ``current`` to ``to`` (empty: allowed)."""
    where = f"{policy}:{show_path(path)}"
    protected = [s for s in spec.protected if matches(s, policy, path)]
    if protected:
        return [Refusal("change.protected", where, f"{where} is protected by {protected[0]!r}")]
    bounds = [b for b in spec.allow if matches(b.path, policy, path)]
    if not bounds:
        return [Refusal("change.not-allowed", where, f"no allow entry covers {where}")]
    refusals: list[Refusal] = []
    for bound in bounds:
        refusals.extend(_check_bound(bound, where, current=current, to=to, baseline=baseline))
    return refusals


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    return Decimal(value)


def _check_bound(
    bound: ChangeBound, where: str, *, current: Any, to: Any, baseline: Any
) -> Iterator[Refusal]:
    new, old, base = _number(to), _number(current), _number(baseline)
    if new is None or old is None or base is None:
        if any(v is not None for v in (bound.min, bound.max, bound.max_step_abs)) or (
            bound.max_step_pct is not None
        ):
            yield Refusal(
                "change.not-a-number",
                where,
                f"{where} has numeric bounds in {bound.path!r}; {to!r} and {current!r} must "
                "both be numbers",
            )
        return
    span = allowed_range(bound, current=old, baseline=base)
    if bound.min is not None and new < bound.min:
        yield Refusal(
            "change.below-min", where, f"{where} would be {new}; it must be >= {bound.min}",
            limit=bound.min, allowed_range=span,
        )  # fmt: skip
    if bound.max is not None and new > bound.max:
        yield Refusal(
            "change.above-max", where, f"{where} would be {new}; it must be <= {bound.max}",
            limit=bound.max, allowed_range=span,
        )  # fmt: skip
    checks = [("change.step-too-large", "the current value", old)]
    if base != old:
        checks.append(("change.drift-too-large", "the day's baseline", base))
    for code, what, reference in checks:
        limit = step_bound(bound, reference)
        if limit is None or abs(new - reference) <= limit:
            continue
        yield Refusal(
            code,
            where,
            f"{where} would move {abs(new - reference).normalize():f} from {what} "
            f"{reference.normalize():f}; one step may move at most {limit.normalize():f}",
            limit=limit,
            allowed_range=span,
        )


def allowed_range(
    bound: ChangeBound, *, current: Decimal, baseline: Decimal
) -> tuple[Decimal | None, Decimal | None]:
    """Every value ``bound`` allows now: min/max, the step from current, the drift from
    the baseline, intersected (an end is None when open)."""
    low, high = bound.min, bound.max
    for reference in (current, baseline):
        limit = step_bound(bound, reference)
        if limit is None:
            continue
        low = reference - limit if low is None else max(low, reference - limit)
        high = reference + limit if high is None else min(high, reference + limit)
    return low, high
