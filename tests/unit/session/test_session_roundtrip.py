"""Property: any event dumps to one canonical line and reads back equal, digit for digit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from riskctl.session import EVENT_TYPES, SessionProblem, dump_event, parse_line


# Decimals as a venue sends them: up to 32 places, up to 1e15, any exponent spelling.
def decimals(*, min_value: int = 0, positive: bool = True) -> st.SearchStrategy[Decimal]:
    digits = st.integers(min_value=1 if positive else min_value, max_value=10**15)
    places = st.integers(min_value=0, max_value=15)
    return st.builds(lambda d, p: Decimal(d).scaleb(-p), digits, places)


signed = st.one_of(decimals(), decimals().map(lambda d: -d), st.just(Decimal("0.000")))
ms = st.integers(min_value=0, max_value=10**16)
names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)
venues = st.sampled_from(["binance", "okx", "kraken", "bybit-2"])
symbols = st.sampled_from(["BTC/USDT", "ETH/USDT", "BTC/USDT:USDT", "1000PEPE/USDT"])
sides = st.sampled_from(["buy", "sell"])


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


common = {"venue": venues, "recv_ms": ms}
EVENTS: dict[str, st.SearchStrategy[Any]] = {
    "trade": st.fixed_dictionaries(
        {**common, "symbol": symbols, "id": names, "price": decimals(), "qty": decimals(),
         "side": sides},
        optional={"trade_type": st.sampled_from(["MARKET", "INSURANCE_FUND", "ADL", "NA"]),
                  "ts_ms": ms},
    ),
    "book": st.fixed_dictionaries(
        {**common, "symbol": symbols},
        optional={"bid": decimals(), "ask": decimals(), "bid_qty": decimals(min_value=0),
                  "ask_qty": decimals(min_value=0), "seq": st.integers(0, 2**63 - 1),
                  "ts_ms": ms},
    ),
    "balance": st.fixed_dictionaries(
        {**common, "asset": st.sampled_from(["USDT", "BTC", "ETH"]), "free": decimals(),
         "locked": st.just(Decimal(0)) | decimals()},
    ),
    "position": st.fixed_dictionaries({**common, "symbol": symbols, "qty": signed}),
    "signal": st.fixed_dictionaries(
        {**common, "strategy": names, "symbol": symbols, "side": sides, "qty": decimals()},
        optional={"price": decimals()},
    ),
    "order": st.one_of(
        st.fixed_dictionaries(
            {**common, "symbol": symbols, "action": st.sampled_from(["new", "amend"]),
             "client_order_id": names, "strategy": names, "side": sides,
             "order_type": st.just("limit"), "qty": decimals(), "price": decimals()},
            optional={"time_in_force": st.sampled_from(["GTC", "IOC", "PO"]),
                      "reduce_only": st.booleans(), "group": names,
                      "leg_timeout_ms": st.integers(1, 60_000)},
        ).filter(lambda o: "leg_timeout_ms" not in o or "group" in o),
        st.fixed_dictionaries(
            {**common, "symbol": symbols, "action": st.just("new"), "client_order_id": names,
             "strategy": names, "side": sides, "order_type": st.just("market"),
             "qty": decimals()},
        ),
        st.fixed_dictionaries(
            {**common, "symbol": symbols, "action": st.just("cancel"), "client_order_id": names,
             "strategy": names},
        ),
    ),
    "venue": st.fixed_dictionaries(
        {**common, "event": st.sampled_from(["rate_limited", "error", "outage_start",
                                             "outage_end"])},
        optional={"retry_after_s": decimals(min_value=0), "http_status": st.integers(100, 599),
                  "error_class": names, "latency_ms": ms, "count": st.integers(1, 1000)},
    ),
    "fill": st.fixed_dictionaries(
        {**common, "symbol": symbols, "client_order_id": names, "trade_id": names,
         "side": sides, "qty": decimals(), "price": decimals(), "fee": signed, "ts_ms": ms},
    ),
}  # fmt: skip


@st.composite
def events(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(sorted(EVENTS)))
    fields = draw(EVENTS[kind])
    return EVENT_TYPES[kind].model_validate({"type": kind, **fields})


@given(events())
def test_any_event_round_trips_through_its_canonical_line_exactly(event: Any) -> None:
    text = dump_event(event)
    back = parse_line(text, line=1, path="p")

    assert not isinstance(back, list), back
    assert back == event
    assert dump_event(back) == text
    assert "\n" not in text
    for name in type(event).model_fields:
        value = getattr(event, name)
        if isinstance(value, Decimal):
            assert getattr(back, name).as_tuple() == value.as_tuple()  # the very digits


@given(events())
def test_a_canonical_line_with_its_decimals_as_json_numbers_reads_the_same(event: Any) -> None:
    # What another writer may produce: numbers, not strings. Still exact.
    text = dump_event(event)
    for name in type(event).model_fields:
        value = getattr(event, name)
        if isinstance(value, Decimal):
            text = text.replace(f'"{name}":"{value}"', f'"{name}":{value}')

    back = parse_line(text, line=1, path="p")

    assert back == event, back
    assert not isinstance(back, SessionProblem)


@given(st.text(max_size=80))
def test_any_text_parses_to_an_event_or_located_problems_never_an_exception(text: str) -> None:
    result = parse_line(text, line=3, path="p")

    if isinstance(result, list):
        assert result
        assert all(p.line == 3 and 1 <= p.column <= len(text) + 2 for p in result)
    else:
        assert result.type in {"session", *EVENT_TYPES}
