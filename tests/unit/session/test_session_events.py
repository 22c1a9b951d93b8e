"""The session format's models and canonical text: exact round trips, strict types, shapes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError
from sessionkit import GOOD_EVENTS, HEADER, T0

from riskctl import session
from riskctl.session import (
    EVENT_TYPES,
    OrderEvent,
    SessionProblem,
    TradeEvent,
    VenueEvent,
    dump_event,
    parse_line,
    read_header,
    read_session,
    write_session,
)

D = Decimal


def test_the_public_api_is_exactly_the_documented_names() -> None:
    assert session.__all__ == [
        "EVENT_TYPES", "MAX_LINE_BYTES", "BalanceEvent", "BookEvent", "FillEvent", "OrderEvent",
        "PositionEvent", "SessionError", "SessionEvent", "SessionHeader", "SessionLine",
        "SessionProblem", "SignalEvent", "TradeEvent", "VenueEvent", "dump_event",
        "open_session_writer", "parse_line", "read_header", "read_session",
        "session_line_schema", "write_event", "write_session",
    ]  # fmt: skip


def test_every_event_type_has_a_good_example() -> None:
    assert {event.type for event in GOOD_EVENTS} == set(EVENT_TYPES)


@pytest.mark.parametrize("event", GOOD_EVENTS, ids=lambda e: f"{e.type}-{e.recv_ms - T0}")
def test_when_a_good_event_is_dumped_and_parsed_then_it_is_equal_with_its_exact_digits(
    event: object,
) -> None:
    text = dump_event(event)  # type: ignore[arg-type]
    back = parse_line(text, line=1, path="x")

    assert back == event
    assert dump_event(back) == text  # type: ignore[arg-type]
    for name, value in type(event).model_fields.items():  # type: ignore[attr-defined]
        if isinstance(getattr(event, name), Decimal):
            assert str(getattr(back, name)) == str(getattr(event, name)), name
        del value


def test_when_written_to_a_file_then_the_events_read_back_in_order_with_the_header(
    tmp_path: Path,
) -> None:
    for name in ("s.jsonl", "s.jsonl.gz"):
        path = tmp_path / name
        assert write_session(path, [HEADER, *GOOD_EVENTS]) == len(GOOD_EVENTS) + 1

        assert list(read_session(path)) == GOOD_EVENTS
        assert read_header(path) == HEADER


def test_the_canonical_text_is_type_first_in_field_order_decimals_as_strings() -> None:
    text = dump_event(GOOD_EVENTS[0])

    assert text == (
        '{"type":"trade","venue":"binance","symbol":"BTC/USDT","id":"4200000001",'
        '"price":"60000.10","qty":"0.1","side":"sell","trade_type":"MARKET",'
        f'"ts_ms":{T0},"recv_ms":{T0 + 7}}}'
    )


def test_when_an_optional_field_holds_its_default_then_it_is_left_out() -> None:
    cancel = json.loads(dump_event(GOOD_EVENTS[10]))
    venue = json.loads(dump_event(GOOD_EVENTS[13]))

    assert set(cancel) == {"type", "venue", "symbol", "action", "client_order_id", "strategy",
                           "recv_ms"}  # fmt: skip
    assert "count" not in venue
    assert '"locked":"0.0"' in dump_event(GOOD_EVENTS[4])  # a required zero is written
    assert json.loads(dump_event(HEADER))["version"] == 1  # the version always is


@pytest.mark.parametrize(
    ("text", "exact"),
    [
        ('"price":0.1', "0.1"),
        ('"price":0.1000000000000000000000000000001', "0.1000000000000000000000000000001"),
        ('"price":6.0E+4', "6.0E+4"),
        ('"price":"60000.10"', "60000.10"),
        ('"price":60000', "60000"),
    ],
)
def test_when_a_price_is_a_json_number_or_string_then_it_is_read_through_its_text(
    text: str, exact: str
) -> None:
    line = (
        '{"type":"trade","venue":"binance","symbol":"BTC/USDT","id":"1",'
        f'{text},"qty":"1","side":"buy","recv_ms":1}}'
    )
    event = parse_line(line, line=1, path="x")

    assert isinstance(event, TradeEvent)
    assert str(event.price) == exact


def trade(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "type": "trade", "venue": "binance", "symbol": "BTC/USDT", "id": "1",
        "price": D("1"), "qty": D("1"), "side": "buy", "recv_ms": 1,
    }  # fmt: skip
    fields.update(changes)
    return fields


@pytest.mark.parametrize(
    "changes",
    [
        {"price": 0.1},  # a float: not exact
        {"price": "0.1"},  # from Python, a Decimal
        {"price": D("0")},
        {"price": D("NaN")},
        {"qty": D("-1")},
        {"recv_ms": True},
        {"recv_ms": 1.0},
        {"recv_ms": -1},
        {"side": "BUY"},
        {"symbol": "BTCUSDT"},
        {"venue": "Binance"},
        {"id": 1},
        {"extra": 1},
        {"price": D("1e-33")},  # more places than a context holds
    ],
)
def test_when_a_field_is_not_exact_or_out_of_bounds_then_the_model_refuses_it(
    changes: dict[str, object],
) -> None:
    with pytest.raises(ValidationError):
        TradeEvent.model_validate(trade(**changes))


def order(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "type": "order", "venue": "binance", "symbol": "BTC/USDT", "action": "new",
        "client_order_id": "c1", "strategy": "s", "side": "buy", "order_type": "limit",
        "qty": D("1"), "price": D("100"), "recv_ms": 1,
    }  # fmt: skip
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not None}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"price": None}, "price"),
        ({"order_type": "market"}, "price"),
        ({"qty": None}, "qty"),
        ({"side": None}, "side"),
        ({"order_type": None}, "order_type"),
        ({"action": "amend", "qty": None}, "qty"),
        ({"action": "cancel"}, "side"),
        ({"leg_timeout_ms": 100}, "leg_timeout_ms"),
        ({"time_in_force": "FOK"}, "time_in_force"),
    ],
)
def test_when_an_order_action_lacks_or_has_a_field_it_must_not_then_the_error_names_it(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        OrderEvent.model_validate(order(**changes))

    error = caught.value.errors()[0]
    assert (error["loc"][0] if error["loc"] else error["ctx"]["field"]) == field


def test_a_latency_event_needs_its_latency_and_a_count_is_at_least_one() -> None:
    base = {"type": "venue", "venue": "binance", "recv_ms": 1}
    with pytest.raises(ValidationError):
        VenueEvent.model_validate({**base, "event": "latency"})
    with pytest.raises(ValidationError):
        VenueEvent.model_validate({**base, "event": "error", "count": 0})

    assert VenueEvent.model_validate({**base, "event": "error"}).count == 1


def test_a_header_end_before_its_start_is_refused_at_end_ms() -> None:
    line = '{"type":"session","name":"x","start_ms":10,"end_ms":5}'
    problems = parse_line(line, line=1, path="s.jsonl")

    assert problems == [
        SessionProblem(
            "session.invalid-field", "end_ms: 5 is before start_ms 10", 1, 53,
            "s.jsonl", "end_ms",
        )
    ]  # fmt: skip
