"""Fixes the gate may apply instead of rejecting: clip a quantity, move onto a grid.

Each fix returns the order fields to change, or None when no order would pass (the rule
then rejects). Quantities always round down and stay on the step grid; a price moves
toward the passive side (buys down, sells up), so a fix never makes an order more
aggressive than the one the strategy asked for.

The fields returned are the exact order that passes: ``{**order, **fields}`` evaluated
again is allowed as it stands. A quote-sized order stays quote-sized (a qty beside its
quote_qty would be refused): a clip sets ``quote_qty`` to the clipped quantity times the
valuation price, which converts back to exactly that quantity.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_FLOOR, Decimal, localcontext

from riskctl.context import PreTradeContext
from riskctl.context.pre_trade import DEFAULT_STEP
from riskctl.grid import snap
from riskctl.rulespec import RuleSpec, fix_action

__all__ = ["ACTION_OF", "modification"]

Fix = Callable[[RuleSpec, PreTradeContext], dict[str, Decimal] | None]


def modification(spec: RuleSpec, ctx: PreTradeContext) -> dict[str, Decimal] | None:
    """The order fields ``spec``'s fix changes, or None when the rule must reject."""
    fix = _FIXES.get(spec.modify or "")
    return fix(spec, ctx) if fix is not None else None


def _qty(ctx: PreTradeContext, allowed: Decimal) -> dict[str, Decimal] | None:
    qty = ctx.order.qty
    assert qty is not None  # derived for quote-sized orders before any rule runs
    allowed = min(allowed, qty)
    instrument = ctx.instrument
    if instrument is not None:
        allowed = snap(
            allowed,
            increment=instrument.qty_increment,
            significant=instrument.qty_sig_digits,
            up=False,
        )
    if allowed <= 0:
        return None
    if ctx.order.quote_qty is None:
        return {"qty": allowed}
    price = ctx.order.valuation_price
    assert price is not None  # a quote-sized order was converted at it
    return {"quote_qty": allowed * price}


def _fit(ctx: PreTradeContext, limit: Decimal, price: Decimal) -> Decimal:
    """limit / price rounded down, so the clipped notional never exceeds the limit.

    Without a step grid to land on, onto DEFAULT_STEP (as a quote-sized order converts),
    never a 50-digit quotient.
    """
    with localcontext() as exact:
        exact.rounding = ROUND_FLOOR
        fitted = limit / price
    instrument = ctx.instrument
    if instrument is None or (
        instrument.qty_increment is None and instrument.qty_sig_digits is None
    ):
        fitted = snap(fitted, increment=DEFAULT_STEP, significant=None, up=False)
    return fitted


def _clip_to_limit(spec: RuleSpec, ctx: PreTradeContext) -> dict[str, Decimal] | None:
    return _qty(ctx, Decimal(spec.limit or 0))


def _clip_to_position(spec: RuleSpec, ctx: PreTradeContext) -> dict[str, Decimal] | None:
    # |position + side * qty| <= limit  =>  qty <= limit - side * position
    side = 1 if ctx.order.side == "buy" else -1
    return _qty(ctx, Decimal(spec.limit or 0) - side * ctx.position.qty)


def _clip_to_max_qty(spec: RuleSpec, ctx: PreTradeContext) -> dict[str, Decimal] | None:
    instrument = ctx.instrument
    if instrument is None or instrument.max_qty is None:
        return None
    return _qty(ctx, instrument.max_qty)


def _clip_to_max_notional(spec: RuleSpec, ctx: PreTradeContext) -> dict[str, Decimal] | None:
    instrument, price = ctx.instrument, ctx.order.valuation_price
    if instrument is None or instrument.max_notional is None or price is None:
        return None
    return _qty(ctx, _fit(ctx, instrument.max_notional, price))


def _clip_to_notional_limit(spec: RuleSpec, ctx: PreTradeContext) -> dict[str, Decimal] | None:
    price = ctx.order.valuation_price
    if price is None:
        return None
    return _qty(ctx, _fit(ctx, Decimal(spec.limit or 0), price))


def _round_qty(spec: RuleSpec, ctx: PreTradeContext) -> dict[str, Decimal] | None:
    assert ctx.order.qty is not None
    return _qty(ctx, ctx.order.qty)


def _round_price(spec: RuleSpec, ctx: PreTradeContext) -> dict[str, Decimal] | None:
    instrument, price = ctx.instrument, ctx.order.price
    if instrument is None or price is None:
        return None
    moved = snap(
        price,
        increment=instrument.price_increment,
        significant=instrument.price_sig_digits,
        up=ctx.order.side == "sell",
    )
    return {"price": moved} if moved > 0 else None


def _round_float_noise(spec: RuleSpec, ctx: PreTradeContext) -> dict[str, Decimal] | None:
    """Each noisy field to the exact grid point it is noise of (riskctl.grid.grid_value)."""
    order, instrument = ctx.order, ctx.instrument
    if instrument is None:
        return None
    fields = {
        name: value
        for name, value in order.grid_values(instrument).items()
        if value is not None and value != getattr(order, name)
    }
    if order.quote_qty is not None:
        fields.pop("qty", None)  # converted onto the step; never noise, never sent
    return fields or None


_FIXES: dict[str, Fix] = {
    "clip_to_limit": _clip_to_limit,
    "clip_to_position": _clip_to_position,
    "clip_to_max_qty": _clip_to_max_qty,
    "clip_to_max_notional": _clip_to_max_notional,
    "clip_to_notional_limit": _clip_to_notional_limit,
    "round_float_noise": _round_float_noise,
    "round_qty": _round_qty,
    "round_price": _round_price,
}

# The action a hit reports when its fix applies.
ACTION_OF = {name: fix_action(name) for name in _FIXES}
