"""The order gateway over a paper venue: the only road to a venue, and every answer back.

A reject never leaves; a lost create answer never opens a second order; a venue reject
closes the order locally; cancels are confirmed before the runtime forgets an order; a
429 opens the venue breaker; a kill cancels and the runtime's own exits pass it.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from venuekit import T0, gateway, order

from riskctl.venues.errors import VenueError, VenueErrorKind
from riskctl.venues.reconcile import reconcile
from riskctl.venues.records import OrderRequest


def run(coro):
    return asyncio.run(coro)


def creates(paper) -> int:
    return sum(1 for _, call, _ in paper.requests if call == "create_order")


def open_ids(gw) -> list[str]:
    return [o["client_order_id"] for o in gw.runtime.describe()["open_orders"]["binance"]]


def test_when_the_gate_allows_a_crossing_buy_then_it_fills_and_the_runtime_holds_it(
    tmp_path,
) -> None:
    gw, _paper, _ = gateway(tmp_path)
    result = run(gw.submit(order("c-1", price="100.1")))
    assert result.status == "sent"
    assert result.order is not None
    assert result.order.status == "filled"
    assert len(result.fills) == 1
    assert result.fills[0].decision.allowed
    assert gw.runtime.describe()["positions"] == {"binance:BTC/USDT": "1"}


def test_when_the_gate_rejects_then_nothing_reaches_the_venue(tmp_path) -> None:
    gw, paper, _ = gateway(tmp_path)
    result = run(gw.submit(order("c-1", qty="51")))
    assert result.status == "rejected"
    assert result.steps[0].decision.hits[0].rule_id.endswith("max_order_qty")
    assert creates(paper) == 0


def test_when_the_create_answer_is_lost_then_the_retry_finds_it_and_one_order_exists(
    tmp_path,
) -> None:
    gw, paper, clock = gateway(tmp_path)
    paper.lose_next_response()
    result = run(gw.submit(order("c-1")))
    assert result.status == "sent"
    assert result.order is not None
    assert result.order.client_order_id == "c-1"
    assert creates(paper) == 1  # found by its client order id, not sent again
    assert len(run(paper.fetch_open_orders())) == 1
    assert clock.slept  # it waited before looking


def test_when_the_venue_rejects_then_the_order_is_closed_locally(tmp_path) -> None:
    gw, paper, _ = gateway(tmp_path)
    paper.fail_next(VenueError(VenueErrorKind.REJECTED, "binance", "insufficient balance"))
    result = run(gw.submit(order("c-1")))
    assert result.status == "venue_rejected"
    assert result.error is not None
    assert result.error.code == "venue.rejected"
    assert open_ids(gw) == []


def test_when_a_cancel_fails_then_the_runtime_still_counts_the_order_open(tmp_path) -> None:
    gw, paper, _ = gateway(tmp_path)
    assert run(gw.submit(order("c-1"))).status == "sent"  # rests: 100 < ask 100.1
    outage = VenueError(VenueErrorKind.UNAVAILABLE, "binance", "502 Bad Gateway")
    paper.fail_next(outage, count=4)  # the whole retry budget
    cancel = order("c-1", order={"action": "cancel"})
    assert run(gw.submit(cancel)).status == "failed"
    assert open_ids(gw) == ["c-1"]
    assert run(gw.submit(cancel)).status == "sent"
    assert open_ids(gw) == []


def test_when_a_resting_order_filled_before_its_cancel_then_the_fill_is_applied(
    tmp_path,
) -> None:
    gw, paper, _ = gateway(tmp_path)
    run(gw.submit(order("c-1")))
    paper.set_top("BTC/USDT", Decimal("99.8"), Decimal("99.9"), T0 + 5)  # crosses the bid 100
    result = run(gw.submit(order("c-1", order={"action": "cancel"})))
    assert result.status == "sent"
    assert result.order is not None
    assert result.order.status == "filled"
    assert gw.runtime.describe()["positions"] == {"binance:BTC/USDT": "1"}


def test_when_the_venue_answers_429_then_its_breaker_stops_requests_until_retry_after(
    tmp_path,
) -> None:
    gw, paper, clock = gateway(tmp_path)
    burst = VenueError(VenueErrorKind.RATE_LIMITED, "binance", "429", retry_after_s=60.0)
    paper.fail_next(burst, count=1)
    first = run(gw.submit(order("c-1")))
    assert first.status == "failed"
    assert first.error is not None
    sent_before = len(paper.requests)
    second = run(gw.submit(order("c-2")))
    assert second.status == "failed"
    assert second.error is not None
    assert second.error.kind is VenueErrorKind.RATE_LIMITED
    assert len(paper.requests) == sent_before  # the open breaker sent nothing
    clock.now += 61
    assert run(gw.submit(order("c-3"))).status == "sent"  # half-open probe succeeds


def test_when_the_kill_switch_is_engaged_then_orders_are_canceled_and_confirmed(
    tmp_path,
) -> None:
    gw, paper, _ = gateway(tmp_path)
    run(gw.submit(order("c-1")))
    run(gw.submit(order("c-2", price="99")))
    killed = run(gw.kill(by="ops", reason="test", now_ms=T0 + 10))
    (report,) = killed.cancel_all
    assert report.complete
    assert sorted(report.requested) == ["c-1", "c-2"]
    assert not run(paper.fetch_open_orders())
    assert open_ids(gw) == []
    assert run(gw.submit(order("c-3", now_ms=T0 + 20))).status == "rejected"


def test_when_another_process_kills_then_the_next_order_cancels_everything(tmp_path) -> None:
    gw, paper, _ = gateway(tmp_path)
    run(gw.submit(order("c-1")))
    gw.runtime.store.post_control("kill", by="ops", reason="elsewhere", at_ms=T0 + 5)
    result = run(gw.submit(order("c-2", now_ms=T0 + 10)))
    assert result.status == "rejected"
    assert [r.complete for r in result.cancel_all] == [True]
    assert not run(paper.fetch_open_orders())


def test_when_halted_then_the_runtimes_exit_passes_and_a_strategy_order_does_not(
    tmp_path,
) -> None:
    gw, _paper, _ = gateway(tmp_path)
    assert run(gw.submit(order("c-1", price="100.1"))).status == "sent"  # long 1
    run(gw.kill(by="ops", reason="flatten test", now_ms=T0 + 10))
    blocked = run(gw.submit(order("c-2", side="sell", price="99.9", now_ms=T0 + 20)))
    assert blocked.status == "rejected"  # the strategy's sell is blocked even though it exits
    exits = run(gw.flatten("binance", now_ms=T0 + 30))
    assert [e.status for e in exits] == ["sent"]
    assert exits[0].order is not None
    assert exits[0].order.side == "sell"
    assert gw.runtime.describe()["positions"] == {"binance:BTC/USDT": "0"}


def test_when_a_bot_calls_its_order_a_runtime_exit_then_the_runtime_overrides_it(
    tmp_path,
) -> None:
    gw, _paper, _ = gateway(tmp_path)
    run(gw.submit(order("c-1", price="100.1")))
    run(gw.kill(by="ops", reason="test", now_ms=T0 + 10))
    forged = order("c-2", side="sell", price="99.9", reduce_only=True, now_ms=T0 + 20)
    forged["order"].update(reduce_only=True, origin="runtime")
    result = run(gw.submit(forged))
    assert result.status == "rejected"
    assert "order.origin" in result.steps[0].disagreements


def test_when_the_venue_ended_orders_behind_our_back_then_reconcile_learns_how(
    tmp_path,
) -> None:
    gw, paper, _ = gateway(tmp_path)
    run(gw.submit(order("c-1")))
    run(gw.submit(order("c-2", price="99")))
    run(paper.cancel_order("BTC/USDT", "c-2"))  # canceled at the venue (an operator, a TIF)
    paper.set_top("BTC/USDT", Decimal("99.5"), Decimal("99.9"), T0 + 5)  # c-1 (buy 100) fills
    orphan = OrderRequest("binance", "BTC/USDT", "sell", "limit", Decimal(1), "x-9", Decimal(500))
    run(paper.create_order(orphan))  # placed by someone else

    report = run(reconcile(gw, "binance", now_ms=T0 + 10))

    assert sorted(report.learned) == [("c-1", "filled"), ("c-2", "canceled")]
    assert report.fills_applied == 1
    assert open_ids(gw) == []
    assert gw.runtime.describe()["positions"] == {"binance:BTC/USDT": "1"}
    assert [(m.kind, m.client_order_id) for m in report.mismatches] == [("orphan_at_venue", "x-9")]


def test_when_the_venue_is_down_then_reconcile_changes_nothing_and_says_so(tmp_path) -> None:
    gw, paper, _ = gateway(tmp_path)
    run(gw.submit(order("c-1")))
    paper.fail_next(VenueError(VenueErrorKind.UNAVAILABLE, "binance", "503"))
    report = run(reconcile(gw, "binance", now_ms=T0 + 10))
    assert not report.clean
    assert report.mismatches[0].kind == "venue_unreachable"
    assert open_ids(gw) == ["c-1"]


def test_when_the_venue_cannot_list_open_orders_then_cancel_all_never_claims_complete(
    tmp_path,
) -> None:
    gw, paper, _ = gateway(tmp_path, cancel_deadline_s=1.0)
    paper.fail_next(VenueError(VenueErrorKind.UNAVAILABLE, "binance", "503"), count=1000)
    report = run(gw.cancel_all("binance"))
    assert report.listing_error is not None
    assert not report.complete
    assert report.to_json()["complete"] is False


def test_when_order_send_refuses_an_allowed_order_then_the_runtime_closes_it(tmp_path) -> None:
    gw, paper, _ = gateway(tmp_path)
    gw._stopped["binance"] = VenueError(VenueErrorKind.AUTH, "binance", "bad key")
    result = run(gw.submit(order("c-1")))
    assert result.status == "rejected"
    assert open_ids(gw) == []  # never sent: no slot at the venue, nothing to cancel forever
    assert creates(paper) == 0


def test_when_the_venue_has_no_such_order_then_a_cancel_closes_it_here(tmp_path) -> None:
    gw, paper, _ = gateway(tmp_path)
    paper.fail_next(VenueError(VenueErrorKind.UNAVAILABLE, "binance", "503"), count=5)
    failed = run(gw.submit(order("c-1")))  # every attempt and lookup fails: fate unknown
    assert failed.status == "failed"
    assert open_ids(gw) == ["c-1"]  # unknown is kept open, never assumed gone
    result = run(gw.cancel("binance", "BTC/USDT", "c-1"))
    assert result.status == "venue_rejected"  # the venue has no record of it at all
    assert result.error is not None
    assert result.error.kind is VenueErrorKind.ORDER_NOT_FOUND
    assert open_ids(gw) == []


FLATTEN_BANDS = (
    "apiVersion: riskctl/v1\nkind: InventoryBands\n"
    "metadata: {name: flatten-bands, version: 1, owner: tests}\n"
    "spec:\n  sets:\n    - scope: {symbol: BTC/USDT}\n      measure: position_ratio\n"
    "      bands:\n        - {name: NORMAL, up_to: 0.5}\n"
    "        - {name: HARD, up_to: 1, flatten: true}\n"
)


def test_when_a_fill_enters_a_flatten_band_then_the_gateway_sends_the_exit_at_once(
    tmp_path,
) -> None:
    """The band moves on the fill, not on the order's own decision: the gateway carries
    out what the fill asked for, and hands the exit to whoever reports it."""
    (tmp_path / "bands.yaml").write_text(FLATTEN_BANDS, encoding="utf-8")
    gw, _paper, _ = gateway(tmp_path, {"max_position_qty": 10})
    result = run(gw.submit(order("c-1", qty="6", price="100.1")))  # 0.6 of max: HARD
    assert result.status == "sent"
    exits = gw.take_exits()
    assert len(exits) == 1
    sent, outcome = exits[0]
    assert (sent["side"], sent["qty"], sent["reduce_only"]) == ("sell", "6", True)
    assert outcome.status == "sent"
    assert gw.runtime.describe()["positions"] == {"binance:BTC/USDT": "0"}
    assert gw.take_exits() == []  # taken once


def quote_sized(cid: str, quote: str, price: str = "100") -> dict:
    data = order(cid, price=price)
    del data["order"]["qty"]
    data["order"]["quote_qty"] = quote
    return data


def test_when_an_order_is_quote_sized_then_the_venue_gets_the_base_qty_the_gate_checked(
    tmp_path,
) -> None:
    gw, paper, _ = gateway(tmp_path)
    result = run(gw.submit(quote_sized("q-1", "250", price="100")))
    assert result.status == "sent", result.steps[-1].decision.hits
    assert creates(paper) == 1
    placed = run(paper.fetch_order("BTC/USDT", "q-1"))
    assert placed is not None
    assert placed.qty == Decimal("2.5")  # 250 quote at 100, on the default step grid
    assert gw.runtime.open_orders("binance")[0].qty == Decimal("2.5")


def test_when_a_quote_sized_order_converts_beyond_a_limit_then_it_never_leaves(tmp_path) -> None:
    gw, paper, _ = gateway(tmp_path)
    result = run(gw.submit(quote_sized("q-2", "5100", price="100")))  # 51 base > 50
    assert result.status == "rejected"
    assert "limit.max_order_qty" in [hit.code for hit in result.steps[0].decision.hits]
    assert creates(paper) == 0


def test_when_an_amend_reaches_the_gateway_then_it_is_refused_and_not_sent(tmp_path) -> None:
    gw, paper, _ = gateway(tmp_path)
    assert run(gw.submit(order("c-1"))).status == "sent"
    result = run(gw.submit(order("c-1", price="99", order={"action": "amend"})))
    assert result.status == "rejected"
    assert result.steps[-1].decision.hits[0].code == "gateway.unsupported"
    assert creates(paper) == 1


def test_when_the_gate_clips_a_quote_sized_order_then_the_venue_gets_the_clipped_base_qty(
    tmp_path,
) -> None:
    gw, paper, _ = gateway(tmp_path, {"clip_order_qty": True})
    result = run(gw.submit(quote_sized("q-3", "5100", price="100")))  # 51 base, limit 50
    assert result.status == "sent", result.steps[-1].decision.hits
    assert result.steps[0].decision.modifications == {"quote_qty": Decimal(5000)}
    placed = run(paper.fetch_order("BTC/USDT", "q-3"))
    assert placed is not None
    assert placed.qty == Decimal(50)  # the clipped size, not the 51 first converted
