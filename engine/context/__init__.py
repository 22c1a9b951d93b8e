"""One context model per pipeline stage: what arrives, and the symbol table for expressions.

A rule expression may name only fields that exist in its stage's context. Money, prices
and quantities are Decimal (JSON numbers are read as Decimal, never through float), so a
notional exactly at a limit compares the same every time.

Derived fields (``order.notional``, ``market.mid``, ``market.spread_bps``,
``order.signed_qty``, ``order.reduces_position`` ...) are computed once when the context is
validated, never by each rule; they are read-only and refused as input.
"""

from __future__ import annotations

from riskctl.context.base import ContextModel, StageContext, State
from riskctl.context.feeds import IngestContext, SignalContext
from riskctl.context.monitor import MonitorContext
from riskctl.context.pre_trade import (
    Account,
    Instrument,
    Market,
    Order,
    Position,
    PreTradeContext,
)
from riskctl.context.venue import FillContext, OrderSendContext
from riskctl.fields import STAGES

__all__ = [
    "CONTEXTS",
    "STAGES",
    "Account",
    "ContextModel",
    "FillContext",
    "IngestContext",
    "Instrument",
    "Market",
    "MonitorContext",
    "Order",
    "OrderSendContext",
    "Position",
    "PreTradeContext",
    "SignalContext",
    "StageContext",
    "State",
]

CONTEXTS: dict[str, type[StageContext]] = {
    cls.STAGE: cls
    for cls in (
        IngestContext,
        SignalContext,
        PreTradeContext,
        OrderSendContext,
        FillContext,
        MonitorContext,
    )
}
