"""The monitor context: a periodic snapshot of P&L, exposure, inventory and health."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from riskctl.context.base import ContextModel, Ms, Name, Num, StageContext
from riskctl.context.pre_trade import Account


class Pnl(ContextModel):
    """P&L in quote currency."""

    daily: Num = Field(default=Decimal(0), description="Since the UTC day began.")
    session: Num = Field(default=Decimal(0), description="Since the session began.")
    realized: Num = Field(default=Decimal(0), description="Realized today.")
    unrealized: Num = Field(default=Decimal(0), description="Unrealized now.")


class Inventory(ContextModel):
    """Inventory in the snapshot's symbol."""

    position_qty: Num = Field(default=Decimal(0), description="Signed position, base units.")
    position_notional: Num = Field(default=Decimal(0), description="|position| x mid, quote.")


class Health(ContextModel):
    """Liveness of the bot and its connections."""

    heartbeat_age_ms: Ms = Field(default=0, description="Since the strategy's last heartbeat.")
    feed_connected: bool = Field(default=True, description="Market-data feed is connected.")
    feed_age_ms: Ms = Field(default=0, description="Age of the newest market-data message.")
    venue_connected: bool = Field(default=True, description="Order session is connected.")


class MonitorContext(StageContext):
    """A periodic snapshot for one venue and symbol: P&L, drawdown, exposure, inventory, health."""

    STAGE = "monitor"
    venue: Name = Field(description="Venue id of the snapshot.")
    symbol: Name = Field(description="Symbol of the snapshot.")
    pnl: Pnl = Field(default_factory=Pnl, description="P&L.")
    account: Account = Field(description="The venue account.")
    inventory: Inventory = Field(default_factory=Inventory, description="Inventory.")
    health: Health = Field(default_factory=Health, description="Liveness.")

    SCOPE_FIELDS = ("venue", "symbol")

    def scope_key(self) -> tuple[str, str]:
        return (self.venue, self.symbol)
