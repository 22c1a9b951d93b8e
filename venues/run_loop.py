"""``riskctl run --config FILE`` with venues: the JSON Lines runner in front of the gateway.

Each input line is decided as without venues, except that a ``pre_trade`` line goes
through the order gateway: allowed, it is sent to its venue, and the output line carries
the venue's answer under ``venue`` (``status`` sent | rejected | venue_rejected | failed,
the venue's ``order`` with its id, the ``error`` with its class, ``fills``) and the
``order_send`` decision under ``order_send``. A cancel line (``order.action: cancel``) is
sent as a cancel. Actions any decision asks for (``cancel_all`` from a kill or a breaker,
``flatten``) are carried out on the venues before the next line. On start each venue is
reconciled; between lines, fills of resting orders are polled every ``poll_fills_s``.
Lines are decided one at a time (each durable before its order is sent), not batched.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any, TextIO

from riskctl.change.follow import ChangeFollower
from riskctl.cli.output import print_problems
from riskctl.cli.run_cmd import Lines, Refusal, json_line, parse_line
from riskctl.runtime import StatefulGate
from riskctl.runtime.stateful import Step
from riskctl.session.record import SessionRecorder
from riskctl.state.alert_sink import JsonlAlertSink
from riskctl.venues.config import ConfigError, RiskctlConfig
from riskctl.venues.errors import VenueError
from riskctl.venues.gateway import OrderGateway
from riskctl.venues.reconcile import reconcile
from riskctl.venues.session import open_gateway

__all__ = ["serve_with_venues"]

POLL_FILLS_S = 1.0


def serve_with_venues(
    config: RiskctlConfig,
    runtime: StatefulGate,
    lines: Lines,
    out: TextIO,
    *,
    sink: JsonlAlertSink | None = None,
    recorder: SessionRecorder | None = None,
    follower: ChangeFollower | None = None,
) -> int:
    """Serve the stream through the configured venues; the exit code. ``follower`` (change
    control: reloads, expiries, the watchdog) runs after each line and when idle."""
    try:
        return asyncio.run(
            _serve(config, runtime, lines, out, sink=sink, recorder=recorder, follower=follower)
        )
    except ConfigError as exc:
        print_problems(exc.diagnostics)
        return 2
    except VenueError as exc:
        print(f"riskctl: {exc}", file=sys.stderr)
        return 2


async def _serve(
    config: RiskctlConfig,
    runtime: StatefulGate,
    lines: Lines,
    out: TextIO,
    *,
    sink: JsonlAlertSink | None,
    recorder: SessionRecorder | None,
    follower: ChangeFollower | None = None,
) -> int:
    async with open_gateway(config, runtime) as gateway:
        for venue_id in gateway.venues:
            report = await reconcile(gateway, venue_id, now_ms=_wall_ms())
            if not report.clean:
                print(f"riskctl: reconcile {venue_id}: {report.to_json()}", file=sys.stderr)
        polled = time.monotonic()
        while (ready := lines.wait_for(POLL_FILLS_S)) is not False:
            if ready is None:  # idle: a kill posted meanwhile, fills of resting orders
                await _idle(gateway, runtime, sink)
                if follower is not None:
                    follower.tick()
                polled = time.monotonic()
                continue
            waiting = lines.next_now()
            if waiting is None:
                continue
            data, steps = await _one(gateway, runtime, *waiting, recorder=recorder)
            if recorder is not None:
                recorder.flush()
            out.write(json_line(data))
            out.flush()
            if sink is not None:
                sink.write_alerts(
                    tuple(e for step in steps for e in step.effects), at_ms=runtime.now_ms
                )
            if follower is not None:
                follower.after(steps)
            if time.monotonic() - polled >= POLL_FILLS_S:
                await _poll(gateway)
                polled = time.monotonic()
    return 0


async def _one(
    gateway: OrderGateway,
    runtime: StatefulGate,
    line: str | bytes,
    number: int,
    *,
    recorder: SessionRecorder | None = None,
) -> tuple[dict[str, Any], tuple[Step, ...]]:
    """One line decided (and sent): its answer, and the steps it made."""
    parsed = parse_line(line, number)
    if isinstance(parsed, Refusal):
        step = runtime.refuse("input", "input.invalid", parsed.message, parsed.where)
        return step.to_json(), (step,)
    stage, context = parsed
    if recorder is not None:
        recorder.record(stage, context)
    if stage != "pre_trade":
        step = runtime.evaluate(stage, context)
        reports = await gateway.carry_out(step, runtime.now_ms)
        data = step.to_json()
        venue: dict[str, Any] = {}
        if reports:
            venue["cancel_all"] = [r.to_json() for r in reports]
        _add_exits(venue, gateway)
        if venue:
            data["venue"] = venue
        return data, (step,)
    result = await gateway.submit(context)
    data = result.steps[0].to_json()
    if len(result.steps) > 1:
        data["order_send"] = result.steps[1].to_json()
    data["venue"] = result.venue_json()
    _add_exits(data["venue"], gateway)
    return data, result.steps


def _add_exits(venue: dict[str, Any], gateway: OrderGateway) -> None:
    """The runtime's own exits a flatten sent while this line was carried out: each with
    its decision and the venue's answer, under ``venue.exits``."""
    exits = [
        {"decision": result.steps[0].to_json(), **result.venue_json()}
        for _order, result in gateway.take_exits()
    ]
    if exits:
        venue["exits"] = exits


async def _idle(gateway: OrderGateway, runtime: StatefulGate, sink: JsonlAlertSink | None) -> None:
    """No input for a while: carry out operator controls posted since the last line (a
    ``riskctl kill`` cancels every order now, not at the bot's next order), then poll fills.
    What it did goes to stderr and the alerts file: stdout keeps one line per input line."""
    step = runtime.poll_controls(now_ms=_wall_ms())
    if step is not None:
        reports = await gateway.carry_out(step, runtime.now_ms)
        for report in reports:
            print(f"riskctl: {report.venue}: cancel-all: {report.to_json()}", file=sys.stderr)
        if sink is not None:
            sink.write_alerts(step.effects, at_ms=step.now_ms)
    await _poll(gateway)
    for order, result in gateway.take_exits():  # a flatten the polled fills asked for
        shown = {"order": order, "decision": result.steps[0].to_json(), **result.venue_json()}
        print(f"riskctl: exit: {json_line(shown)}", file=sys.stderr, end="")


async def _poll(gateway: OrderGateway) -> None:
    """Fills of orders still open, for every venue and symbol with one."""
    held = gateway.runtime.describe().get("open_orders", {})
    for venue_id, orders in held.items():
        if venue_id not in gateway.venues:
            continue
        for symbol in sorted({o["symbol"] for o in orders}):
            try:
                await gateway.poll_fills(venue_id, symbol)
            except VenueError as exc:
                print(f"riskctl: polling fills on {venue_id}: {exc}", file=sys.stderr)


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000
