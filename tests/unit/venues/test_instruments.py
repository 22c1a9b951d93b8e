"""riskctl.venues.instruments.instrument_from_market: ccxt markets -> Instrument, in every mode.

The market structures below are shaped like ccxt's ``load_markets()`` output (floats where
ccxt gives floats, None where a venue reports nothing), recorded into the test: no network.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from riskctl.context import Instrument, PreTradeContext
from riskctl.venues.instruments import (
    DECIMAL_PLACES,
    SIGNIFICANT_DIGITS,
    TICK_SIZE,
    instrument_from_market,
    order_types_from,
)

D = Decimal

# binance spot, precisionMode TICK_SIZE: precision values are the increments themselves.
BINANCE_BTC_USDT: dict[str, Any] = {
    "id": "BTCUSDT",
    "symbol": "BTC/USDT",
    "base": "BTC",
    "quote": "USDT",
    "type": "spot",
    "spot": True,
    "margin": True,
    "swap": False,
    "future": False,
    "option": False,
    "active": True,
    "contract": False,
    "precision": {"amount": 1e-05, "price": 0.01, "cost": None, "base": 1e-08, "quote": 1e-08},
    "limits": {
        "leverage": {"min": None, "max": None},
        "amount": {"min": 1e-05, "max": 9000.0},
        "price": {"min": 0.01, "max": 1000000.0},
        "cost": {"min": 5.0, "max": 9000000.0},
        "market": {"min": 0.0, "max": 107.0},
    },
    "info": {"symbol": "BTCUSDT"},
}

# binance USD-M perpetual, TICK_SIZE, with a tick of 0.1 and a step of 0.001.
BINANCE_BTC_PERP: dict[str, Any] = {
    "id": "BTCUSDT",
    "symbol": "BTC/USDT:USDT",
    "base": "BTC",
    "quote": "USDT",
    "settle": "USDT",
    "type": "swap",
    "spot": False,
    "swap": True,
    "contract": True,
    "linear": True,
    "precision": {"amount": 0.001, "price": 0.1},
    "limits": {
        "amount": {"min": 0.001, "max": 1000.0},
        "price": {"min": 556.8, "max": 4529764.0},
        "cost": {"min": 100.0, "max": None},
    },
}

# A DECIMAL_PLACES venue: precision values count decimals.
DECIMAL_ETH_USDT: dict[str, Any] = {
    "id": "ETHUSDT",
    "symbol": "ETH/USDT",
    "base": "ETH",
    "quote": "USDT",
    "type": "spot",
    "spot": True,
    "precision": {"amount": 4, "price": 2},
    "limits": {
        "amount": {"min": 0.0001, "max": 10000.0},
        "price": {"min": None, "max": None},
        "cost": {"min": 1.0, "max": None},
    },
}

# bitfinex, precisionMode SIGNIFICANT_DIGITS: precision values count significant digits.
BITFINEX_BTC_USD: dict[str, Any] = {
    "id": "tBTCUSD",
    "symbol": "BTC/USD",
    "base": "BTC",
    "quote": "USD",
    "type": "spot",
    "spot": True,
    "margin": True,
    "precision": {"amount": 8, "price": 5},
    "limits": {
        "leverage": {"min": None, "max": None},
        "amount": {"min": 4e-05, "max": 2000.0},
        "price": {"min": 1e-08, "max": None},
        "cost": {"min": None, "max": None},
    },
}


def test_tick_size_when_binance_spot_market_then_increments_are_exact_decimals() -> None:
    instrument = instrument_from_market(BINANCE_BTC_USDT, venue="binance", precision_mode=TICK_SIZE)

    assert isinstance(instrument, Instrument)
    assert instrument.venue == "binance"
    assert instrument.symbol == "BTC/USDT"
    assert instrument.type == "spot"
    assert instrument.price_increment == D("0.01")
    assert str(instrument.price_increment) == "0.01"
    assert instrument.qty_increment == D("0.00001")
    assert (instrument.price_precision, instrument.qty_precision) == (2, 5)
    assert (instrument.price_sig_digits, instrument.qty_sig_digits) == (None, None)
    assert instrument.min_qty == D("0.00001")
    assert instrument.max_qty == D("9000")
    assert instrument.min_notional == D("5")
    assert instrument.max_notional == D("9000000")
    assert instrument.order_types == ("limit", "market")
    assert instrument.market_age_ms == 0


def test_tick_size_when_swap_market_then_type_and_missing_max_cost_carry_over() -> None:
    instrument = instrument_from_market(
        BINANCE_BTC_PERP, venue="binanceusdm", precision_mode=TICK_SIZE, market_age_ms=1234
    )

    assert instrument.type == "swap"
    assert instrument.price_increment == D("0.1")
    assert instrument.qty_increment == D("0.001")
    assert (instrument.price_precision, instrument.qty_precision) == (1, 3)
    assert instrument.min_notional == D("100")
    assert instrument.max_notional is None
    assert instrument.market_age_ms == 1234


@pytest.mark.parametrize(
    ("tick", "increment", "places"),
    [
        (0.01, "0.01", 2),
        (0.05, "0.05", 2),
        (0.5, "0.5", 1),
        (1e-08, "0.00000001", 8),
        ("1e-8", "0.00000001", 8),
        (1.0, "1", 0),
        (1, "1", 0),
        (10, "10", 0),
        (0.1, "0.1", 1),  # float 0.1 is 0.1000000000000000055...; read through str()
        ("0.000010", "0.00001", 5),  # trailing zeros do not add places
    ],
)
def test_tick_size_when_increment_is_float_or_string_then_decimal_is_exact(
    tick: Any, increment: str, places: int
) -> None:
    market = copy.deepcopy(BINANCE_BTC_USDT)
    market["precision"] = {"price": tick, "amount": tick}

    instrument = instrument_from_market(market, venue="binance", precision_mode=TICK_SIZE)

    assert instrument.price_increment == D(increment)
    assert instrument.qty_increment == D(increment)
    assert instrument.price_precision == places
    assert instrument.qty_precision == places


def test_float_when_value_is_0_1_then_decimal_is_exactly_one_tenth() -> None:
    market = copy.deepcopy(BINANCE_BTC_USDT)
    market["precision"]["price"] = 0.1
    market["limits"]["amount"]["min"] = 0.1
    market["limits"]["cost"]["min"] = 0.1

    instrument = instrument_from_market(market, venue="binance", precision_mode=TICK_SIZE)

    assert instrument.price_increment == D("0.1")
    assert instrument.price_increment != D(0.1)  # not the binary float's expansion
    assert instrument.min_qty == D("0.1")
    assert instrument.min_notional == D("0.1")


def test_string_numbers_when_venue_reports_strings_then_parsed_as_decimals() -> None:
    market = copy.deepcopy(BINANCE_BTC_USDT)
    market["precision"] = {"price": "0.01", "amount": "0.00001"}
    market["limits"] = {
        "amount": {"min": "0.00001", "max": "9000.00000000"},
        "cost": {"min": "5", "max": "9000000"},
    }

    instrument = instrument_from_market(market, venue="binance", precision_mode=TICK_SIZE)

    assert instrument.price_increment == D("0.01")
    assert instrument.qty_increment == D("0.00001")
    assert instrument.min_qty == D("0.00001")
    assert instrument.max_qty == D("9000")
    assert instrument.min_notional == D("5")
    assert instrument.max_notional == D("9000000")


@pytest.mark.parametrize("empty", [None, 0, 0.0, "0", -1, "", "n/a", float("nan"), True])
def test_limits_when_none_zero_negative_or_unparseable_then_none(empty: Any) -> None:
    market = copy.deepcopy(BINANCE_BTC_USDT)
    market["limits"] = {
        "amount": {"min": empty, "max": empty},
        "cost": {"min": empty, "max": empty},
    }

    instrument = instrument_from_market(market, venue="binance", precision_mode=TICK_SIZE)

    assert instrument.min_qty is None
    assert instrument.max_qty is None
    assert instrument.min_notional is None
    assert instrument.max_notional is None


def test_limits_when_sections_are_missing_or_none_then_none() -> None:
    market = {"symbol": "BTC/USDT", "precision": None, "limits": {"amount": None}}

    instrument = instrument_from_market(market, venue="binance", precision_mode=TICK_SIZE)

    assert instrument.min_qty is None
    assert instrument.max_notional is None
    assert instrument.price_increment is None
    assert instrument.qty_increment is None
    assert instrument.type == "spot"


@pytest.mark.parametrize("tick", [None, 0, 0.0, -0.01])
def test_tick_size_when_precision_is_missing_or_not_positive_then_no_grid(tick: Any) -> None:
    market = copy.deepcopy(BINANCE_BTC_USDT)
    market["precision"] = {"price": tick, "amount": tick}

    instrument = instrument_from_market(market, venue="binance", precision_mode=TICK_SIZE)

    assert instrument.price_increment is None
    assert instrument.qty_increment is None
    assert instrument.price_precision is None


def test_decimal_places_when_market_counts_decimals_then_increments_are_powers_of_ten() -> None:
    instrument = instrument_from_market(
        DECIMAL_ETH_USDT, venue="somevenue", precision_mode=DECIMAL_PLACES
    )

    assert instrument.price_increment == D("0.01")
    assert instrument.qty_increment == D("0.0001")
    assert (instrument.price_precision, instrument.qty_precision) == (2, 4)
    assert (instrument.price_sig_digits, instrument.qty_sig_digits) == (None, None)
    assert instrument.min_qty == D("0.0001")
    assert instrument.max_qty == D("10000")
    assert instrument.min_notional == D("1")
    assert instrument.max_notional is None


@pytest.mark.parametrize(
    ("places", "increment", "reported"),
    [(8, "0.00000001", 8), (2.0, "0.01", 2), ("3", "0.001", 3), (0, "1", 0), (-1, "10", 0)],
)
def test_decimal_places_when_zero_or_negative_then_whole_or_tens_grid(
    places: Any, increment: str, reported: int
) -> None:
    market = copy.deepcopy(DECIMAL_ETH_USDT)
    market["precision"] = {"price": places, "amount": places}

    instrument = instrument_from_market(market, venue="somevenue", precision_mode=DECIMAL_PLACES)

    assert instrument.price_increment == D(increment)
    assert instrument.qty_increment == D(increment)
    assert instrument.price_precision == reported


def test_significant_digits_when_bitfinex_market_then_its_ccxt_overrides_are_followed() -> None:
    # ccxt's bitfinex class reads amounts as decimal places and caps prices at 8 decimals.
    instrument = instrument_from_market(
        BITFINEX_BTC_USD, venue="bitfinex", precision_mode=SIGNIFICANT_DIGITS
    )

    assert instrument.price_sig_digits == 5
    assert instrument.price_increment == D("0.00000001")
    assert instrument.qty_sig_digits is None
    assert instrument.qty_increment == D("0.00000001")
    assert (instrument.price_precision, instrument.qty_precision) == (None, 8)


def test_significant_digits_when_venue_has_no_override_then_digit_counts_and_no_increments() -> (
    None
):
    instrument = instrument_from_market(
        BITFINEX_BTC_USD, venue="sigvenue", precision_mode=SIGNIFICANT_DIGITS
    )

    assert (instrument.price_sig_digits, instrument.qty_sig_digits) == (5, 8)
    assert (instrument.price_increment, instrument.qty_increment) == (None, None)
    assert instrument.min_qty == D("0.00004")
    assert instrument.max_qty == D("2000")
    assert instrument.min_notional is None


@pytest.mark.parametrize(
    ("market_type", "expected"),
    [
        ("spot", "spot"),
        ("margin", "spot"),
        ("swap", "swap"),
        ("future", "future"),
        ("option", "option"),
        ("index", "spot"),
    ],
)
def test_type_when_ccxt_market_type_given_then_mapped(market_type: str, expected: str) -> None:
    market = copy.deepcopy(BINANCE_BTC_USDT)
    market["type"] = market_type

    instrument = instrument_from_market(market, venue="binance", precision_mode=TICK_SIZE)

    assert instrument.type == expected


def test_precision_mode_when_unknown_then_value_error() -> None:
    with pytest.raises(ValueError, match="precisionMode"):
        instrument_from_market(BINANCE_BTC_USDT, venue="binance", precision_mode=99)


def test_min_above_max_when_venue_reports_nonsense_then_refused() -> None:
    market = copy.deepcopy(BINANCE_BTC_USDT)
    market["limits"]["amount"] = {"min": 10, "max": 1}

    with pytest.raises(ValueError, match="min_qty"):
        instrument_from_market(market, venue="binance", precision_mode=TICK_SIZE)


def test_instrument_when_converted_then_it_drives_the_context_grid_checks() -> None:
    instrument = instrument_from_market(BINANCE_BTC_USDT, venue="binance", precision_mode=TICK_SIZE)
    data = {
        "now_ms": 1,
        "order": {
            "venue": "binance",
            "symbol": "BTC/USDT",
            "side": "buy",
            "qty": "0.123456",
            "price": "50000.015",
            "client_order_id": "c",
            "strategy": "s",
        },
        "market": {"bid": "50000", "ask": "50000.01", "age_ms": 0},
        "account": {"equity": "1", "available_balance": "1", "balance_age_ms": 0},
        "instrument": instrument.model_dump(),
    }

    ctx = PreTradeContext.model_validate(data)

    assert ctx.order.price_on_grid is False
    assert ctx.order.qty_on_grid is False
    assert ctx.order.type_supported is True


def test_order_types_when_ccxt_creates_stops_natively_then_the_instrument_lists_them() -> None:
    okx = instrument_from_market(
        BINANCE_BTC_USDT, venue="okx", precision_mode=TICK_SIZE, has=ccxt.okx().has
    )
    binance = instrument_from_market(
        BINANCE_BTC_USDT, venue="binance", precision_mode=TICK_SIZE, has=ccxt.binance().has
    )

    assert okx.order_types == ("limit", "market", "stop_market", "stop_limit")
    # ccxt 4.x: binance creates stop-limit orders but has no createStopMarketOrder
    assert binance.order_types == ("limit", "market", "stop_limit")


def test_order_types_when_ccxt_only_emulates_a_type_then_it_is_not_listed() -> None:
    has = {
        "createLimitOrder": True,
        "createMarketOrder": "emulated",
        "createStopMarketOrder": None,
        "createStopLimitOrder": False,
    }

    assert order_types_from(has) == ("limit",)
    assert order_types_from({}) == ()
    # a venue that says nothing keeps the default rather than an empty, invalid list
    instrument = instrument_from_market(
        BINANCE_BTC_USDT, venue="binance", precision_mode=TICK_SIZE, has={}
    )
    assert instrument.order_types == ("limit", "market")
