"""The Binance spot endpoints: parameters in, Binance's JSON out.

Every handler is synchronous and runs under the mock's lock. Response shapes follow
Binance's spot REST documentation field for field, as far as ccxt 4.5.90 reads them
(``parse_order``, ``parse_trade``, ``parse_balance``, ``parse_ticker``, ``parse_market``),
numbers as strings with eight decimals.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from riskctl.venues.mock_exchange import errors, requestlog
from riskctl.venues.mock_exchange.errors import BinanceError
from riskctl.venues.mock_exchange.faults import FaultPlan, PartialCancel
from riskctl.venues.mock_exchange.markets import exchange_info, fmt
from riskctl.venues.mock_exchange.matching import MatchingEngine, NewOrder, Order, Trade
from riskctl.venues.mock_exchange.requestlog import Endpoint

__all__ = ["ROUTES", "Call", "Route"]

_DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    """What a handler may use: the request's parameters and the mock's state."""

    params: Mapping[str, str]
    engine: MatchingEngine
    plan: FaultPlan
    now: float
    now_ms: int


@dataclass(frozen=True, slots=True)
class Route:
    handler: Callable[[Call], Any]
    signed: bool


# -- parameters --------------------------------------------------------------------------


def _text(call: Call, name: str) -> str:
    value = call.params.get(name)
    if not value:
        raise errors.mandatory(name)
    return value


def _decimal(call: Call, name: str) -> Decimal | None:
    raw = call.params.get(name)
    if raw is None:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value <= 0:
        raise BinanceError(
            status=400,
            code=-1100,
            msg=f"Illegal characters found in parameter '{name}'; "
            "legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
        )
    return value


def _int(call: Call, name: str) -> int | None:
    raw = call.params.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise errors.mandatory(name) from None


def _symbol(call: Call) -> str:
    return call.engine.spec(_text(call, "symbol")).symbol


def _which(call: Call) -> tuple[int | None, str | None]:
    order_id, client_id = _int(call, "orderId"), call.params.get("origClientOrderId")
    if order_id is None and not client_id:
        raise BinanceError(
            status=400,
            code=-1102,
            msg="Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
        )
    return order_id, client_id


# -- shapes ------------------------------------------------------------------------------


def order_json(order: Order) -> dict[str, Any]:
    """An order as GET order, openOrders and allOrders list it."""
    return {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        "price": fmt(order.price),
        "origQty": fmt(order.orig_qty),
        "executedQty": fmt(order.executed_qty),
        "cummulativeQuoteQty": fmt(order.cum_quote),
        "status": order.status,
        "timeInForce": order.time_in_force,
        "type": order.type,
        "side": order.side,
        "stopPrice": fmt(Decimal(0)),
        "icebergQty": fmt(Decimal(0)),
        "time": order.time_ms,
        "updateTime": order.update_ms,
        "isWorking": True,
        "workingTime": order.time_ms,
        "origQuoteOrderQty": fmt(order.orig_quote_qty),
        "selfTradePreventionMode": "EXPIRE_MAKER",
    }


def _result_json(order: Order, *, now_ms: int) -> dict[str, Any]:
    shown = order_json(order)
    for key in ("stopPrice", "icebergQty", "time", "updateTime", "isWorking"):
        del shown[key]
    return {**shown, "transactTime": now_ms}


def trade_json(trade: Trade) -> dict[str, Any]:
    return {
        "symbol": trade.symbol,
        "id": trade.trade_id,
        "orderId": trade.order_id,
        "orderListId": -1,
        "price": fmt(trade.price),
        "qty": fmt(trade.qty),
        "quoteQty": fmt(trade.quote_qty),
        "commission": fmt(trade.commission),
        "commissionAsset": trade.commission_asset,
        "time": trade.time_ms,
        "isBuyer": trade.is_buyer,
        "isMaker": trade.is_maker,
        "isBestMatch": True,
    }


def _cancel_json(order: Order, call: Call) -> dict[str, Any]:
    shown = _result_json(order, now_ms=call.now_ms)
    # Binance names the cancel itself: clientOrderId is the cancel's id (newClientOrderId or
    # a random one), the order's own id moves to origClientOrderId.
    cancel_id = call.params.get("newClientOrderId") or uuid.uuid4().hex[:22]
    del shown["workingTime"]
    return {**shown, "origClientOrderId": order.client_order_id, "clientOrderId": cancel_id}


# -- market data -------------------------------------------------------------------------


def _ping(_: Call) -> Any:
    return {}


def _time(call: Call) -> Any:
    return {"serverTime": call.now_ms}


def _exchange_info(call: Call) -> Any:
    specs = list(call.engine.specs.values())
    if "symbol" in call.params:
        specs = [call.engine.spec(call.params["symbol"])]
    return exchange_info(specs, server_ms=call.now_ms)


def _levels(call: Call, symbol: str) -> tuple[list[list[str]], list[list[str]]]:
    """The standing quote plus the account's own resting orders, best first."""
    top = call.engine.tops[symbol]
    bids, asks = {top.bid: top.qty}, {top.ask: top.qty}
    for order in call.engine.open_orders(symbol):
        side = bids if order.side == "BUY" else asks
        side[order.price] = side.get(order.price, Decimal(0)) + order.remaining
    limit = _int(call, "limit") or 100

    def shown(levels: dict[Decimal, Decimal], *, descending: bool) -> list[list[str]]:
        ordered = sorted(levels.items(), reverse=descending)[:limit]
        return [[fmt(price), fmt(qty)] for price, qty in ordered]

    return shown(bids, descending=True), shown(asks, descending=False)


def _depth(call: Call) -> Any:
    symbol = _symbol(call)
    bids, asks = _levels(call, symbol)
    return {"lastUpdateId": call.now_ms, "bids": bids, "asks": asks}


def _book_ticker_of(call: Call, symbol: str) -> dict[str, Any]:
    bids, asks = _levels(call, symbol)
    return {
        "symbol": symbol,
        "bidPrice": bids[0][0],
        "bidQty": bids[0][1],
        "askPrice": asks[0][0],
        "askQty": asks[0][1],
    }


def _book_ticker(call: Call) -> Any:
    if "symbol" in call.params:
        return _book_ticker_of(call, _symbol(call))
    return [_book_ticker_of(call, symbol) for symbol in call.engine.specs]


def _ticker_of(call: Call, symbol: str) -> dict[str, Any]:
    engine = call.engine
    trades = engine.trades[symbol]
    opened, last = engine.open_price[symbol], engine.last_price[symbol]
    prices = [opened, last, *(t.price for t in trades)]
    volume = sum((t.qty for t in trades), Decimal(0))
    quote_volume = sum((t.quote_qty for t in trades), Decimal(0))
    change = last - opened
    return {
        **_book_ticker_of(call, symbol),
        "priceChange": fmt(change),
        "priceChangePercent": f"{change / opened * 100:.3f}",
        "weightedAvgPrice": fmt(quote_volume / volume if volume else last),
        "prevClosePrice": fmt(opened),
        "lastPrice": fmt(last),
        "lastQty": fmt(trades[-1].qty if trades else Decimal(0)),
        "openPrice": fmt(opened),
        "highPrice": fmt(max(prices)),
        "lowPrice": fmt(min(prices)),
        "volume": fmt(volume),
        "quoteVolume": fmt(quote_volume),
        "openTime": call.now_ms - _DAY_MS,
        "closeTime": call.now_ms,
        "firstId": trades[0].trade_id if trades else -1,
        "lastId": trades[-1].trade_id if trades else -1,
        "count": len(trades),
    }


def _ticker_24hr(call: Call) -> Any:
    if "symbol" in call.params:
        return _ticker_of(call, _symbol(call))
    return [_ticker_of(call, symbol) for symbol in call.engine.specs]


# -- trading -----------------------------------------------------------------------------


def _new_order(call: Call) -> NewOrder:
    symbol, side, kind = _symbol(call), _text(call, "side"), _text(call, "type")
    if side not in ("BUY", "SELL"):
        raise BinanceError(status=400, code=-1117, msg="Invalid side.")
    if kind not in ("LIMIT", "LIMIT_MAKER", "MARKET"):
        raise BinanceError(status=400, code=-1116, msg="Invalid orderType.")
    price, qty = _decimal(call, "price"), _decimal(call, "quantity")
    quote_qty = _decimal(call, "quoteOrderQty")
    tif = call.params.get("timeInForce")
    if kind != "MARKET" and price is None:
        raise errors.mandatory("price")
    if kind == "LIMIT" and tif not in ("GTC", "IOC", "FOK"):
        raise errors.mandatory("timeInForce")
    if qty is None and (kind != "MARKET" or quote_qty is None):
        raise errors.mandatory("quantity")
    client_id = call.params.get("newClientOrderId") or uuid.uuid4().hex[:22]
    return NewOrder(
        symbol=symbol,
        side=cast(Any, side),
        type=cast(Any, kind),
        client_order_id=client_id,
        qty=qty,
        quote_qty=quote_qty if qty is None else None,
        price=price,
        time_in_force=tif if kind == "LIMIT" else None,
    )


def _create_order(call: Call) -> Any:
    order, trades = call.engine.place(_new_order(call), now_ms=call.now_ms)
    kind = call.params.get("newOrderRespType", "FULL")
    if kind == "ACK":
        return {
            "symbol": order.symbol,
            "orderId": order.order_id,
            "orderListId": -1,
            "clientOrderId": order.client_order_id,
            "transactTime": call.now_ms,
        }
    shown = _result_json(order, now_ms=call.now_ms)
    if kind == "RESULT":
        return shown
    fills = [
        {
            "price": fmt(t.price),
            "qty": fmt(t.qty),
            "commission": fmt(t.commission),
            "commissionAsset": t.commission_asset,
            "tradeId": t.trade_id,
        }
        for t in trades
    ]
    return {**shown, "fills": fills}


def _get_order(call: Call) -> Any:
    order_id, client_id = _which(call)
    order = call.engine.find(_symbol(call), order_id=order_id, client_id=client_id)
    if order is None:
        raise errors.order_does_not_exist()
    return order_json(order)


def _cancel_order(call: Call) -> Any:
    order_id, client_id = _which(call)
    order = call.engine.cancel(
        _symbol(call), order_id=order_id, client_id=client_id, now_ms=call.now_ms
    )
    return _cancel_json(order, call)


def _open_orders(call: Call) -> Any:
    symbol = _symbol(call) if "symbol" in call.params else None
    return [order_json(order) for order in call.engine.open_orders(symbol)]


def _cancel_all(call: Call) -> Any:
    symbol = _symbol(call)
    partial = call.plan.take(PartialCancel, requestlog.CANCEL_ALL, now=call.now)
    leave_open = partial.leave_open if partial is not None else 0
    before = call.engine.open_orders(symbol)
    cancelled = call.engine.cancel_all(symbol, now_ms=call.now_ms, leave_open=leave_open)
    if partial is not None and partial.claim_all:
        kept = {o.order_id for o in cancelled}
        cancelled += [replace(o, status="CANCELED") for o in before if o.order_id not in kept]
    return [_cancel_json(order, call) for order in cancelled]


def _window(call: Call, items: list[Any], *, time_of: Callable[[Any], int]) -> list[Any]:
    start, end = _int(call, "startTime"), _int(call, "endTime")
    chosen = [
        i
        for i in items
        if (start is None or time_of(i) >= start) and (end is None or time_of(i) <= end)
    ]
    limit = min(_int(call, "limit") or 500, 1000)
    return chosen[:limit] if start is not None else chosen[-limit:]


def _all_orders(call: Call) -> Any:
    symbol, from_id = _symbol(call), _int(call, "orderId")
    orders = [
        o for o in call.engine.orders[symbol].values() if from_id is None or o.order_id >= from_id
    ]
    return [order_json(o) for o in _window(call, orders, time_of=lambda o: o.time_ms)]


def _my_trades(call: Call) -> Any:
    symbol, order_id, from_id = _symbol(call), _int(call, "orderId"), _int(call, "fromId")
    trades = [
        t
        for t in call.engine.trades[symbol]
        if (order_id is None or t.order_id == order_id)
        and (from_id is None or t.trade_id >= from_id)
    ]
    return [trade_json(t) for t in _window(call, trades, time_of=lambda t: t.time_ms)]


def _account(call: Call) -> Any:
    engine = call.engine
    fee = {
        "maker": fmt(engine.maker_fee),
        "taker": fmt(engine.taker_fee),
        "buyer": fmt(Decimal(0)),
        "seller": fmt(Decimal(0)),
    }
    return {
        "makerCommission": int(engine.maker_fee * 10_000),
        "takerCommission": int(engine.taker_fee * 10_000),
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": fee,
        "canTrade": True,
        "canWithdraw": True,
        "canDeposit": True,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": call.now_ms,
        "accountType": "SPOT",
        "balances": [
            {"asset": asset, "free": fmt(b.free), "locked": fmt(b.locked)}
            for asset, b in sorted(engine.balances.items())
        ],
        "permissions": ["SPOT"],
        "uid": 1,
    }


ROUTES: dict[Endpoint, Route] = {
    requestlog.PING: Route(_ping, signed=False),
    requestlog.TIME: Route(_time, signed=False),
    requestlog.EXCHANGE_INFO: Route(_exchange_info, signed=False),
    requestlog.DEPTH: Route(_depth, signed=False),
    requestlog.BOOK_TICKER: Route(_book_ticker, signed=False),
    requestlog.TICKER_24HR: Route(_ticker_24hr, signed=False),
    requestlog.CREATE_ORDER: Route(_create_order, signed=True),
    requestlog.GET_ORDER: Route(_get_order, signed=True),
    requestlog.CANCEL_ORDER: Route(_cancel_order, signed=True),
    requestlog.OPEN_ORDERS: Route(_open_orders, signed=True),
    requestlog.CANCEL_ALL: Route(_cancel_all, signed=True),
    requestlog.ALL_ORDERS: Route(_all_orders, signed=True),
    requestlog.MY_TRADES: Route(_my_trades, signed=True),
    requestlog.ACCOUNT: Route(_account, signed=True),
}
