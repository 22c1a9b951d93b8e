"""``riskctl run --policies DIR --state FILE``: decide a stream of contexts, remembering.

Reads JSON Lines on standard input, each ``{"stage": "...", "context": {...}}``, and writes
one decision per line on standard output, flushed per line: the JSON of ``riskctl eval``
plus ``trading_state``, ``kill_switch`` and ``effects``. Time is each context's ``now_ms``.
A malformed line gets a reject line naming the line and column, and the run goes on.
Exit 0 at the end of input; 2 when the policies or the state file cannot be opened.
Restarted on the same state file, it resumes where it stopped.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import orjson

from riskctl.cli.output import print_problems
from riskctl.cli.state_cmd import add_state_argument, open_store
from riskctl.context import CONTEXTS
from riskctl.errors import PolicyLoadError
from riskctl.gate import Gate
from riskctl.runtime import StatefulGate, Step
from riskctl.state.alert_sink import JsonlAlertSink

__all__ = ["register", "run"]


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "run",
        help="decide a JSON Lines stream of contexts with durable state",
        description=(
            "Read {stage, context} JSON Lines on stdin; write one decision per line on stdout."
        ),
    )
    parser.add_argument(
        "--policies",
        type=Path,
        nargs="+",
        default=[Path("policies")],
        metavar="PATH",
        help="policy files or directories (default: policies)",
    )
    add_state_argument(parser, memory=True)
    parser.add_argument(
        "--alerts",
        type=Path,
        metavar="FILE",
        help="append every alert event (pending, firing, resolved) to FILE as JSON Lines",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        gate = Gate.from_path(*args.policies)
    except PolicyLoadError as exc:
        print_problems(exc.diagnostics)
        return 2
    store = open_store(args)
    if store is None:
        return 2
    runtime = StatefulGate(gate, store)
    try:
        sink = JsonlAlertSink(args.alerts) if args.alerts else None
    except OSError as exc:
        runtime.close()
        print(
            f"riskctl: cannot open the alerts file {args.alerts}: {exc.strerror}", file=sys.stderr
        )
        return 2
    try:
        for number, line in enumerate(sys.stdin, start=1):
            if line.strip():
                step = decide_line(runtime, line, number)
                if sink is not None:  # after the commit: an alert sent is an alert kept
                    sink.write_alerts(step.effects, at_ms=runtime.now_ms)
                _write(step, sys.stdout)
    finally:
        if sink is not None:
            sink.close()
        runtime.close()
    return 0


def decide_line(runtime: StatefulGate, line: str, number: int) -> Step:
    """One input line's step: decided, or refused with the place it went wrong."""
    try:
        item = json.loads(line, parse_float=Decimal)  # numbers keep their exact text
    except json.JSONDecodeError as exc:
        where = {"line": number, "column": exc.colno}
        return runtime.refuse("input", "input.invalid", f"line {number}: {exc.msg}", where)
    problem = _shape_problem(item)
    if problem is not None:
        return runtime.refuse(
            "input", "input.invalid", f"line {number}: {problem}", {"line": number}
        )
    return runtime.evaluate(item["stage"], item["context"])


def _shape_problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return 'a line must be a JSON object {"stage": ..., "context": {...}}'
    unknown = sorted(set(item) - {"stage", "context"})
    if unknown:
        return f"unknown keys {', '.join(unknown)}; a line holds stage and context"
    stage = item.get("stage")
    if stage not in CONTEXTS:
        return f"stage must be one of {', '.join(CONTEXTS)}, not {stage!r}"
    if not isinstance(item.get("context"), dict):
        return "context must be a JSON object"
    return None


def _write(step: Step, out: TextIO) -> None:
    data = step.to_json()
    try:
        text = orjson.dumps(data, default=str).decode()
    except orjson.JSONEncodeError:  # an int beyond 64 bits: the json module takes any int
        text = json.dumps(data, default=str, separators=(",", ":"))
    out.write(text + "\n")
    out.flush()
