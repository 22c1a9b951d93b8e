"""The async ccxt adapter: one exchange instance per account, behind riskctl's own limiter.

ccxt is imported when a venue is opened, not when ``riskctl`` is imported. ccxt's own
request spacing is routed into our limiter: ccxt computes each endpoint's cost from its
API tables and awaits ``exchange.throttle(cost)`` before every request; we replace that
method with the limiter's ``acquire`` (the lane, cancel or order or query, is set by the
method being called), so there is exactly one limiter and it weighs requests the way the
venue does. ccxt's retries stay off: retrying is the gateway's job, with idempotent ids.

Every ccxt exception becomes a ``VenueError`` here (``riskctl.venues.errors.translate``)
with the API key and secret scrubbed from its message.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import partial
from typing import Any, Literal, TypeVar

from riskctl.context import Instrument
from riskctl.venues.base_url import loopback_base, point_urls_at
from riskctl.venues.errors import VenueError, VenueErrorKind, translate
from riskctl.venues.instruments import instrument_from_market
from riskctl.venues.limiter import VenueLimiter
from riskctl.venues.records import (
    OrderRequest,
    Top,
    VenueOrder,
    VenueTrade,
    decimal_or_none,
    status_of,
)

__all__ = ["CcxtVenue", "CcxtVenueConfig"]

T = TypeVar("T")
Lane = Literal["cancel", "order", "query"]
_LANE: contextvars.ContextVar[Lane] = contextvars.ContextVar("riskctl_venue_lane", default="query")
ZERO = Decimal(0)


@dataclass(frozen=True)
class CcxtVenueConfig:
    """How to open one account: exchange id, credentials, limiter and URL settings."""

    venue_id: str
    exchange: str
    api_key: str | None = field(default=None, repr=False)
    secret: str | None = field(default=None, repr=False)
    sandbox: bool = False
    base_url: str | None = None  # http://127.0.0.1:PORT only (a mock exchange)
    rate_per_s: float | None = None  # ccxt cost units per second; None: 1000 / rateLimit
    burst: float | None = None
    headroom_pct: float = 10.0
    order_rate: tuple[int, float] | None = None  # at most N order requests per window_s
    timeout_ms: int = 10_000
    options: Mapping[str, Any] = field(default_factory=dict)


class CcxtVenue:
    """One account at one venue through ccxt.async_support."""

    def __init__(self, config: CcxtVenueConfig, exchange: Any, limiter: VenueLimiter) -> None:
        self.config = config
        self.exchange = exchange
        self.limiter = limiter
        self._secrets = tuple(s for s in (config.api_key, config.secret) if s)
        # The symbols "all" means for calls a venue serves per symbol (binance's open orders
        # and cancel-all): the ones the policies trade here, set by open_gateway.
        self.symbols: tuple[str, ...] = ()

    @classmethod
    def open(cls, config: CcxtVenueConfig) -> CcxtVenue:
        """Build the ccxt exchange (nothing is fetched yet; ``load_instruments`` does that)."""
        base = loopback_base(config.base_url) if config.base_url is not None else None
        try:
            import ccxt.async_support as ccxt_async  # noqa: PLC0415  # heavy: only when used
        except ImportError as exc:  # pragma: no cover - the venues extra is not installed
            raise RuntimeError(
                "talking to venues needs ccxt: pip install 'riskctl[venues]'"
            ) from exc
        exchange_class = getattr(ccxt_async, config.exchange, None)
        if exchange_class is None:
            raise ValueError(f"ccxt has no exchange {config.exchange!r}")
        settings: dict[str, Any] = {
            "enableRateLimit": True,  # its throttle is ours (below)
            "timeout": config.timeout_ms,
            "options": dict(config.options),
        }
        if config.api_key:
            settings["apiKey"] = config.api_key
        if config.secret:
            settings["secret"] = config.secret
        if base is not None:
            settings["timeout_on_exit"] = 0  # plain HTTP on loopback: no TLS shutdown to await
        exchange = exchange_class(settings)
        if config.sandbox:
            exchange.set_sandbox_mode(True)
        if base is not None:
            exchange.urls["api"] = point_urls_at(exchange.urls["api"], base)
        rate = config.rate_per_s or 1000.0 / float(exchange.rateLimit or 1000)
        limiter = VenueLimiter(
            rate_per_s=rate,
            burst=config.burst or max(rate, 1.0),
            headroom_pct=config.headroom_pct,
            order_rate=config.order_rate,
        )
        venue = cls(config, exchange, limiter)

        async def throttle(cost: Any = None) -> None:
            await limiter.acquire(float(cost or 1), lane=_LANE.get())

        exchange.throttle = throttle
        return venue

    @property
    def venue_id(self) -> str:
        return self.config.venue_id

    def rate_limit_headroom_pct(self) -> float:
        return self.limiter.headroom_pct()

    async def _call(self, lane: Lane, call: Callable[[], Awaitable[T]]) -> T:
        token = _LANE.set(lane)
        try:
            return await call()
        except Exception as exc:  # noqa: BLE001  # every failure leaves as a VenueError
            headers = getattr(self.exchange, "last_response_headers", None) or {}
            raise translate(
                exc, venue=self.venue_id, headers=headers, secrets=self._secrets
            ) from None
        finally:
            _LANE.reset(token)

    # -- Venue -------------------------------------------------------------------------------

    async def load_instruments(self) -> Mapping[str, Instrument]:
        markets = await self._call("query", self.exchange.load_markets)
        mode = int(self.exchange.precisionMode)
        has = dict(self.exchange.has)
        return {
            symbol: instrument_from_market(
                market, venue=self.venue_id, precision_mode=mode, has=has
            )
            for symbol, market in markets.items()
        }

    async def fetch_top(self, symbol: str) -> Top:
        book = await self._call("query", lambda: self.exchange.fetch_order_book(symbol, 5))
        bids, asks = book.get("bids") or [], book.get("asks") or []
        return Top(
            symbol,
            decimal_or_none(bids[0][0]) if bids else None,
            decimal_or_none(asks[0][0]) if asks else None,
            book.get("timestamp"),
        )

    async def fetch_balances(self) -> Mapping[str, Decimal]:
        balance = await self._call("query", self.exchange.fetch_balance)
        free = balance.get("free") or {}
        return {code: Decimal(str(v)) for code, v in free.items() if v is not None}

    async def create_order(self, request: OrderRequest) -> VenueOrder:
        params: dict[str, Any] = {"clientOrderId": request.client_order_id}
        if request.reduce_only:
            params["reduceOnly"] = True
        if request.type == "limit" and request.time_in_force != "GTC":
            params["timeInForce"] = request.time_in_force
        order = await self._call(
            "order",
            lambda: self.exchange.create_order(
                request.symbol,
                request.type,
                request.side,
                str(request.qty),
                None if request.price is None else str(request.price),
                params,
            ),
        )
        return _order_of(order, request.client_order_id)

    async def cancel_order(self, symbol: str, client_order_id: str) -> VenueOrder:
        params = {"clientOrderId": client_order_id}
        order = await self._call("cancel", lambda: self.exchange.cancel_order("", symbol, params))
        # ccxt reports the cancel request's own id as clientOrderId: the order is ours
        return replace(_order_of(order, client_order_id), client_order_id=client_order_id)

    async def cancel_all(self, symbol: str | None = None) -> list[VenueOrder]:
        out = []
        for one in self._each(symbol):
            try:
                orders = await self._call("cancel", partial(self.exchange.cancel_all_orders, one))
            except VenueError as error:
                if error.kind is VenueErrorKind.ORDER_NOT_FOUND:
                    continue  # binance answers -2011 when nothing was open: nothing to cancel
                raise
            out += [_order_of(o, None) for o in orders or [] if isinstance(o, Mapping)]
        return out

    async def fetch_open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        out = []
        for one in self._each(symbol):
            orders = await self._call("query", partial(self.exchange.fetch_open_orders, one))
            out += [_order_of(o, None) for o in orders]
        return out

    def _each(self, symbol: str | None) -> tuple[str | None, ...]:
        """One symbol, or every symbol traded here (a venue-wide call where there are none)."""
        if symbol is not None:
            return (symbol,)
        return self.symbols or (None,)

    async def fetch_order(self, symbol: str, client_order_id: str) -> VenueOrder | None:
        params = {"clientOrderId": client_order_id}
        try:
            order = await self._call("query", lambda: self.exchange.fetch_order("", symbol, params))
        except VenueError as error:
            if error.kind is VenueErrorKind.ORDER_NOT_FOUND:
                return None
            raise
        return _order_of(order, client_order_id)

    async def fetch_trades(self, symbol: str, since_ms: int | None = None) -> list[VenueTrade]:
        trades = await self._call("query", lambda: self.exchange.fetch_my_trades(symbol, since_ms))
        return [_trade_of(t) for t in trades]

    async def close(self) -> None:
        await self.exchange.close()


def _order_of(order: Mapping[str, Any], client_order_id: str | None) -> VenueOrder:
    info = order.get("info")
    # After a cancel ccxt's clientOrderId is the cancel's id; binance keeps the order's own
    # in info.origClientOrderId.
    original = info.get("origClientOrderId") if isinstance(info, Mapping) else None
    return VenueOrder(
        id=str(order.get("id")),
        client_order_id=original or order.get("clientOrderId") or client_order_id,
        symbol=str(order.get("symbol")),
        side=str(order.get("side")),
        type=str(order.get("type")),
        qty=decimal_or_none(order.get("amount")) or ZERO,
        price=decimal_or_none(order.get("price")),
        filled_qty=decimal_or_none(order.get("filled")) or ZERO,
        status=status_of(order.get("status")),
        ts_ms=order.get("timestamp"),
    )


def _trade_of(trade: Mapping[str, Any]) -> VenueTrade:
    price = decimal_or_none(trade.get("price")) or ZERO
    symbol = str(trade.get("symbol"))
    return VenueTrade(
        id=str(trade.get("id")),
        order_id=str(trade.get("order")),
        client_order_id=None,  # venues rarely echo it on trades; the gateway maps order ids
        symbol=symbol,
        side="buy" if trade.get("side") == "buy" else "sell",
        qty=decimal_or_none(trade.get("amount")) or ZERO,
        price=price,
        fee=_quote_fee(trade.get("fee"), symbol, price),
        ts_ms=int(trade.get("timestamp") or 0),
    )


def _quote_fee(fee: Any, symbol: str, price: Decimal) -> Decimal:
    """The fee in the quote currency: a base-currency fee is valued at the trade price."""
    if not isinstance(fee, Mapping) or fee.get("cost") is None:
        return ZERO
    cost = Decimal(str(fee["cost"]))
    base = symbol.partition("/")[0]
    currency = fee.get("currency")
    if currency == base:
        return cost * price
    return cost  # quote currency (or a third currency, kept as reported)
