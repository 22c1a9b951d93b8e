"""Differential test: our grids against ccxt's own price_to_precision / amount_to_precision.

Real ccxt exchange objects are built offline (``ccxt.binance()``, ``ccxt.bitfinex()``) and
given recorded market structures with ``set_markets``; nothing here touches the network.
Their markets go through ``riskctl.venues.instruments.instrument_from_market`` and the resulting
grids are compared with ccxt over hypothesis-generated prices and quantities.

ccxt's semantics (ccxt/base/exchange.py and ccxt/base/decimal_to_precision.py, ccxt 4.x):

* ``price_to_precision`` calls ``decimal_to_precision(price, ROUND, market.precision.price,
  precisionMode)``. ROUND goes to the *nearest* grid point: in TICK_SIZE mode
  ``missing = price % tick`` and the price moves up when ``missing >= tick / 2`` (half up),
  else down; in DECIMAL_PLACES mode it is ``quantize`` with ROUND_HALF_UP (ccxt sets that
  rounding on the thread's decimal context); in SIGNIFICANT_DIGITS mode the nearest value
  with that many significant digits. A result of "0" raises InvalidOrder, so prices below
  half a tick are not generated. A price on the grid comes back unchanged (as a string
  without padding zeros), so ``on_grid(p) <=> Decimal(price_to_precision(p)) == p``, and an
  off-grid price comes back as one of its two grid neighbours: our snap down or snap up.
* ``amount_to_precision`` calls ``decimal_to_precision(amount, TRUNCATE, ...)``: TRUNCATE
  cuts toward zero, which for a positive quantity is our ``snap(..., up=False)``. A result
  of "0" raises InvalidOrder, so quantities below one step are not generated.
* bitfinex overrides both: ``amount_to_precision`` always uses DECIMAL_PLACES (its
  precision.amount of 8 means 8 decimals, not 8 significant digits, whatever precisionMode
  says), and ``price_to_precision`` rounds to 5 significant digits and then truncates to 8
  decimals.
* ``decimal_to_precision`` changes the calling thread's decimal context (rounding
  ROUND_HALF_UP, Underflow trapped), so every ccxt call here runs in a local context.

Values are handed to ccxt as strings (exact) or floats, as its API accepts both.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from typing import Any

import ccxt
import pytest
from ccxt.base import decimal_to_precision as ccxt_precision
from hypothesis import assume, example, given
from hypothesis import strategies as st

from riskctl.context import Instrument
from riskctl.grid import on_grid, snap
from riskctl.venues import instruments as venue_instruments
from riskctl.venues.instruments import instrument_from_market

D = Decimal


def market(symbol: str, market_id: str, price: Any, amount: Any, **limits: Any) -> dict[str, Any]:
    """A market as ccxt's load_markets() returns it (the fields set_markets and *_to_precision
    read), with the venue's precision values as recorded."""
    base, quote = symbol.split("/")
    return {
        "id": market_id,
        "symbol": symbol,
        "base": base,
        "quote": quote,
        "baseId": base,
        "quoteId": quote,
        "type": "spot",
        "spot": True,
        "margin": False,
        "swap": False,
        "future": False,
        "option": False,
        "contract": False,
        "active": True,
        "precision": {"price": price, "amount": amount},
        "limits": {
            "leverage": {"min": None, "max": None},
            "amount": {"min": limits.get("min_qty"), "max": limits.get("max_qty")},
            "price": {"min": None, "max": None},
            "cost": {"min": limits.get("min_cost"), "max": None},
        },
        "info": {},
    }


# binance spot, precisionMode TICK_SIZE: PRICE_FILTER tickSize and LOT_SIZE stepSize as
# floats, the way ccxt parses them.
TICK_MARKETS = [
    market("BTC/USDT", "BTCUSDT", 0.01, 1e-05, min_qty=1e-05, max_qty=9000.0, min_cost=5.0),
    market("SHIB/USDT", "SHIBUSDT", 1e-08, 1.0, min_qty=1.0, max_qty=92233720368.0, min_cost=5.0),
    market("ETC/USDT", "ETCUSDT", 0.05, 0.001, min_qty=0.001, max_qty=9000.0),
    market("MKR/USDT", "MKRUSDT", 0.5, 1.0, min_qty=1.0, max_qty=10000.0),
]
# the same venue class switched to DECIMAL_PLACES, precisions as whole counts of decimals
PLACES_MARKETS = [
    market("BTC/USDT", "BTCUSDT", 2, 5),
    market("SHIB/USDT", "SHIBUSDT", 8, 0),
    market("ETH/USDT", "ETHUSDT", 1, 3),
]
# bitfinex, precisionMode SIGNIFICANT_DIGITS
SIG_MARKETS = [market("BTC/USD", "tBTCUSD", 5, 8, min_qty=4e-05, max_qty=2000.0)]


def ccxt_call(function: Callable[..., Any], *args: Any) -> Any:
    with decimal.localcontext():
        return function(*args)


@cache
def exchanges() -> dict[str, Any]:
    with decimal.localcontext():
        tick = ccxt.binance()
        tick.set_markets(TICK_MARKETS)
        places = ccxt.binance()
        places.precisionMode = ccxt_precision.DECIMAL_PLACES
        places.set_markets(PLACES_MARKETS)
        sig = ccxt.bitfinex()
        sig.set_markets(SIG_MARKETS)
    assert tick.precisionMode == ccxt_precision.TICK_SIZE
    assert sig.precisionMode == ccxt_precision.SIGNIFICANT_DIGITS
    return {"tick": tick, "places": places, "sig": sig}


def instrument(kind: str, symbol: str) -> Instrument:
    exchange = exchanges()[kind]
    return instrument_from_market(
        exchange.markets[symbol], venue=exchange.id, precision_mode=exchange.precisionMode
    )


def price_oracle(kind: str, symbol: str, price: Any) -> Decimal:
    exchange = exchanges()[kind]
    return D(ccxt_call(exchange.price_to_precision, symbol, price))


def amount_oracle(kind: str, symbol: str, qty: Any) -> Decimal:
    exchange = exchanges()[kind]
    return D(ccxt_call(exchange.amount_to_precision, symbol, qty))


GRID_SYMBOLS = [("tick", m["symbol"]) for m in TICK_MARKETS] + [
    ("places", m["symbol"]) for m in PLACES_MARKETS
]


@st.composite
def near_grid(draw: st.DrawFn, increment: Decimal) -> Decimal:
    """k x increment, or that plus an offset of a fraction of the increment; at least one
    increment, written with or without trailing zeros."""
    k = draw(st.integers(min_value=1, max_value=10**9))
    places = draw(st.integers(min_value=0, max_value=4))
    numerator = draw(st.integers(min_value=0, max_value=10**places))
    value = (k + D(numerator).scaleb(-places)) * increment
    zeros = draw(st.integers(min_value=0, max_value=3))
    exponent = min(value.as_tuple().exponent, 0)  # type: ignore[type-var]
    return value.quantize(D(1).scaleb(exponent - zeros))


kinds_and_symbols = st.sampled_from(GRID_SYMBOLS)


# -- constants ------------------------------------------------------------------------------


def test_precision_mode_constants_when_compared_with_ccxt_then_equal() -> None:
    assert venue_instruments.TICK_SIZE == ccxt_precision.TICK_SIZE == ccxt.TICK_SIZE
    assert venue_instruments.DECIMAL_PLACES == ccxt_precision.DECIMAL_PLACES
    assert venue_instruments.DECIMAL_PLACES == ccxt.DECIMAL_PLACES
    assert venue_instruments.SIGNIFICANT_DIGITS == ccxt_precision.SIGNIFICANT_DIGITS
    assert venue_instruments.SIGNIFICANT_DIGITS == ccxt.SIGNIFICANT_DIGITS


def test_markets_when_converted_then_grids_are_what_the_venue_reported() -> None:
    assert instrument("tick", "BTC/USDT").price_increment == D("0.01")
    assert instrument("tick", "BTC/USDT").qty_increment == D("0.00001")
    assert instrument("tick", "SHIB/USDT").price_increment == D("0.00000001")
    assert instrument("tick", "ETC/USDT").price_increment == D("0.05")
    assert instrument("tick", "MKR/USDT").price_increment == D("0.5")
    assert instrument("places", "SHIB/USDT").price_increment == D("0.00000001")
    assert instrument("places", "SHIB/USDT").qty_increment == D("1")
    assert instrument("sig", "BTC/USD").price_sig_digits == 5


def test_oracle_when_called_then_our_decimal_context_is_left_alone() -> None:
    before = decimal.getcontext().copy()

    price_oracle("tick", "BTC/USDT", "100.017")

    after = decimal.getcontext()
    assert (after.rounding, after.traps) == (before.rounding, before.traps)


# -- tick sizes and decimal places: prices ------------------------------------------------


@given(kinds_and_symbols, st.data())
@example(("tick", "BTC/USDT"), None)
def test_price_when_ccxt_rounds_to_nearest_then_unchanged_exactly_when_on_our_grid(
    kind_symbol: tuple[str, str], data: Any
) -> None:
    kind, symbol = kind_symbol
    spec = instrument(kind, symbol)
    assert spec.price_increment is not None
    price = D("172.0600") if data is None else data.draw(near_grid(spec.price_increment))

    rounded = price_oracle(kind, symbol, str(price))
    ours = on_grid(price, increment=spec.price_increment, significant=spec.price_sig_digits)

    assert ours == (rounded == price), (price, rounded)
    down = snap(price, increment=spec.price_increment, significant=None, up=False)
    up = snap(price, increment=spec.price_increment, significant=None, up=True)
    assert rounded in (down, up)


@given(kinds_and_symbols, st.data())
def test_price_when_given_to_ccxt_as_float_then_same_answer_as_our_decimal(
    kind_symbol: tuple[str, str], data: Any
) -> None:
    kind, symbol = kind_symbol
    spec = instrument(kind, symbol)
    assert spec.price_increment is not None
    exact = data.draw(near_grid(spec.price_increment))
    as_float = float(exact)
    ours = D(repr(as_float))  # what a bot sends: the float's shortest repr
    assume(ours >= spec.price_increment)

    rounded = price_oracle(kind, symbol, as_float)

    assert on_grid(ours, increment=spec.price_increment, significant=None) == (rounded == ours)


# -- tick sizes and decimal places: quantities ---------------------------------------------


@given(kinds_and_symbols, st.data())
@example(("tick", "BTC/USDT"), None)
def test_qty_when_ccxt_truncates_then_equals_our_snap_down(
    kind_symbol: tuple[str, str], data: Any
) -> None:
    kind, symbol = kind_symbol
    spec = instrument(kind, symbol)
    assert spec.qty_increment is not None
    qty = D("0.1234567") if data is None else data.draw(near_grid(spec.qty_increment))

    truncated = amount_oracle(kind, symbol, str(qty))
    ours = snap(qty, increment=spec.qty_increment, significant=spec.qty_sig_digits, up=False)

    assert ours == truncated, (qty, truncated)
    assert on_grid(qty, increment=spec.qty_increment, significant=None) == (truncated == qty)


# -- significant digits (bitfinex) -----------------------------------------------------------


@st.composite
def sig_prices(draw: st.DrawFn) -> Decimal:
    """Positive prices of 1..9 significant digits in [0.0001, 1000000): where 5 significant
    digits never need more than bitfinex's 8 decimals."""
    digits = draw(st.integers(min_value=1, max_value=9))
    mantissa = draw(st.integers(min_value=10 ** (digits - 1), max_value=10**digits - 1))
    exponent = draw(st.integers(min_value=-3 - digits, max_value=6 - digits))
    return D(mantissa).scaleb(exponent)


@given(sig_prices())
@example(D("12345"))
@example(D("12345.6"))
@example(D("0.00012345"))
def test_sig_price_when_bitfinex_rounds_to_nearest_then_unchanged_exactly_when_on_our_grid(
    price: Decimal,
) -> None:
    spec = instrument("sig", "BTC/USD")
    assume(price >= D("0.0001"))

    rounded = price_oracle("sig", "BTC/USD", str(price))
    ours = on_grid(price, increment=None, significant=spec.price_sig_digits)

    assert ours == (rounded == price), (price, rounded)
    down = snap(price, increment=None, significant=spec.price_sig_digits, up=False)
    up = snap(price, increment=None, significant=spec.price_sig_digits, up=True)
    assert rounded in (down, up)


@given(st.integers(min_value=10**7, max_value=10**8 - 1), st.integers(0, 4))
def test_sig_qty_when_between_0_1_and_1_then_bitfinex_truncation_equals_our_snap_down(
    mantissa: int, extra: int
) -> None:
    # In [0.1, 1) eight significant digits and eight decimals are the same grid.
    qty = D(mantissa * 10**extra + (10**extra - 1 if extra else 0)).scaleb(-8 - extra)
    spec = instrument("sig", "BTC/USD")

    truncated = amount_oracle("sig", "BTC/USD", str(qty))

    ours = snap(qty, increment=spec.qty_increment, significant=spec.qty_sig_digits, up=False)
    assert ours == truncated


@given(
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=1, max_value=10**14),
    st.integers(min_value=-14, max_value=6),
)
def test_sig_qty_when_ccxt_truncates_significant_digits_then_equals_our_snap_down(
    digits: int, mantissa: int, exponent: int
) -> None:
    # The base class's amount_to_precision for SIGNIFICANT_DIGITS venues, called directly.
    qty = D(mantissa).scaleb(exponent)

    truncated = ccxt_call(
        ccxt_precision.decimal_to_precision,
        str(qty),
        ccxt_precision.TRUNCATE,
        digits,
        ccxt_precision.SIGNIFICANT_DIGITS,
    )

    assert snap(qty, increment=None, significant=digits, up=False) == D(truncated)


@pytest.mark.parametrize("qty", ["1234.56789123", "0.012345678"])
def test_bitfinex_qty_when_converted_then_our_grid_is_bitfinex_eight_decimals(qty: str) -> None:
    # bitfinex's precision.amount is 8 decimal places (ccxt's bitfinex.amount_to_precision
    # uses DECIMAL_PLACES), while instrument_from_market reads it as 8 significant digits:
    # 1234.56789123 is a valid bitfinex amount that we would refuse or cut to 1234.5678,
    # and 0.012345678 is one we would pass while ccxt sends 0.01234567.
    spec = instrument("sig", "BTC/USD")

    truncated = amount_oracle("sig", "BTC/USD", qty)
    ours = snap(D(qty), increment=spec.qty_increment, significant=spec.qty_sig_digits, up=False)

    assert ours == truncated


@pytest.mark.parametrize("price", ["0.000012345"])
def test_bitfinex_price_when_more_than_8_decimals_then_not_on_our_grid(price: str) -> None:
    # bitfinex prices have at most 5 significant digits AND at most 8 decimals: ccxt sends
    # 0.00001234 for 0.000012345. A price the venue would cut must not pass as on-grid.
    spec = instrument("sig", "BTC/USD")

    rounded = price_oracle("sig", "BTC/USD", price)
    ours = on_grid(D(price), increment=spec.price_increment, significant=spec.price_sig_digits)

    assert rounded != D(price)
    assert ours is False
