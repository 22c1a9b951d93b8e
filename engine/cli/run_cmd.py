"""``riskctl run --policies DIR --state FILE``: decide a stream of contexts, remembering.

Reads JSON Lines on standard input, each ``{"stage": "...", "context": {...}}``, and writes
one decision per line on standard output: the JSON of ``riskctl eval`` plus
``trading_state``, ``kill_switch`` and ``effects``. Time is each context's ``now_ms``.
A malformed line gets a reject line naming the line and column, and the run goes on.
Exit 0 at the end of input; 2 when the policies or the state file cannot be opened.
Restarted on the same state file, it resumes where it stopped.

Group commit: the lines already waiting on standard input (at most ``--max-batch``, and at
most ``MAX_BATCH_MS`` of deciding) are decided one after another, each seeing the ones
before it and the operator controls posted before it, then committed in ONE transaction;
only then are their answers written and flushed. A line that arrives alone is committed
alone, so a bot that sends one order at a time sees the latency of one commit. A ``kill
-9`` can lose only decisions not yet answered; what it can leave is in
``riskctl.runtime.stateful``.

Change control (:mod:`riskctl.change.follow`): after each batch and when idle, at most once
a second, the run looks at the change log of each policy directory it serves. A new
receipt reloads the policies into the running gate (never a set that does not load or
lint), an override whose ``expires_at`` has passed is reverted, and the ChangeControl
watchdog may revert the last advisor change. Each is one JSON line on stderr.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import select
import sys
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import orjson

from riskctl.change.follow import ChangeFollower
from riskctl.cli.output import print_problems
from riskctl.cli.state_cmd import add_state_argument, open_store
from riskctl.context import CONTEXTS
from riskctl.errors import PolicyLoadError
from riskctl.gate import Gate
from riskctl.runtime.stateful import Batch, StatefulGate, Step
from riskctl.session.record import SessionRecorder
from riskctl.state.alert_sink import JsonlAlertSink

__all__ = [
    "MAX_BATCH",
    "MAX_BATCH_MS",
    "Lines",
    "Refusal",
    "json_line",
    "parse_line",
    "register",
    "run",
]

MAX_BATCH = 256  # lines committed in one transaction at most (--max-batch)
MAX_BATCH_MS = 10  # of deciding, at most, before a batch is committed and answered
_CHUNK = 1 << 16


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
        metavar="PATH",
        help="policy files or directories (default: the config's, else policies)",
    )
    add_state_argument(parser, memory=True, required=False)
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help=(
            "runtime config (YAML): with venues configured, what the gate allows is sent to"
            " the venue through the order gateway and each line carries the venue's answer"
        ),
    )
    parser.add_argument(
        "--alerts",
        type=Path,
        metavar="FILE",
        help="append every alert event (pending, firing, resolved) to FILE as JSON Lines",
    )
    parser.add_argument(
        "--record",
        type=Path,
        metavar="FILE",
        help=(
            "append the inputs as a session (JSON Lines, .gz allowed) that riskctl replay"
            " can replay: market data, signals, orders, fills"
        ),
    )
    parser.add_argument(
        "--max-batch",
        type=positive,
        default=MAX_BATCH,
        metavar="LINES",
        help=(
            "commit at most LINES waiting lines in one transaction before answering them "
            f"(default {MAX_BATCH}; 1 commits every line alone)"
        ),
    )
    parser.set_defaults(run=run)


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def run(args: argparse.Namespace) -> int:
    config = None
    if args.config is not None:
        from riskctl.venues.config import ConfigError, load_config  # noqa: PLC0415  # extra

        try:
            config = load_config(args.config)[0]  # the flags given here win below
        except ConfigError as exc:
            print_problems(exc.diagnostics)
            return 2
        args.policies = args.policies or [config.policies]
        if args.state is None and not args.memory:
            args.state, args.memory = config.state, config.memory or config.state is None
        args.alerts = args.alerts or config.alerts
    if args.state is None and not args.memory:
        print("riskctl run: one of --state FILE, --memory or --config FILE is required",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        gate = Gate.from_path(*(args.policies or [Path("policies")]))
    except PolicyLoadError as exc:
        print_problems(exc.diagnostics)
        return 2
    store = open_store(args)
    if store is None:
        return 2
    runtime = StatefulGate(gate, store)
    outputs = _open_outputs(args)
    if outputs is None:
        runtime.close()
        return 2
    sink, recorder = outputs
    follower = ChangeFollower.for_run(runtime, args.policies or [Path("policies")], report=_stderr)
    try:
        if config is not None and config.venues:
            from riskctl.venues.run_loop import serve_with_venues  # noqa: PLC0415

            return serve_with_venues(
                config,
                runtime,
                Lines.of(sys.stdin),
                sys.stdout,
                sink=sink,
                recorder=recorder,
                follower=follower,
            )
        serve(
            runtime,
            Lines.of(sys.stdin),
            sys.stdout,
            sink=sink,
            max_batch=args.max_batch,
            recorder=recorder,
            follower=follower,
        )
    finally:
        if sink is not None:
            sink.close()
        if recorder is not None:
            recorder.close()
            if recorder.skipped:
                print(f"riskctl: --record: {recorder.skipped} inputs were not recordable "
                      "(refused contexts)", file=sys.stderr)  # fmt: skip
        runtime.close()
    return 0


def _open_outputs(
    args: argparse.Namespace,
) -> tuple[JsonlAlertSink | None, SessionRecorder | None] | None:
    """The --alerts sink and the --record file, or None after saying which cannot open."""
    try:
        sink = JsonlAlertSink(args.alerts) if args.alerts else None
    except OSError as exc:
        print(f"riskctl: cannot open the alerts file {args.alerts}: {exc.strerror}",
              file=sys.stderr)  # fmt: skip
        return None
    try:
        recorder = SessionRecorder(args.record) if args.record else None
    except OSError as exc:
        if sink is not None:
            sink.close()
        print(f"riskctl: cannot open the record file {args.record}: {exc.strerror}",
              file=sys.stderr)  # fmt: skip
        return None
    return sink, recorder


def serve(
    runtime: StatefulGate,
    lines: Lines,
    out: TextIO,
    *,
    sink: JsonlAlertSink | None = None,
    max_batch: int = MAX_BATCH,
    recorder: SessionRecorder | None = None,
    follower: ChangeFollower | None = None,
) -> None:
    """Decide every input line, a batch of waiting lines per transaction; answer each batch
    once it is committed (and ``recorder`` has the batch's inputs on disk). ``follower``
    (change control: reloads, expiries, the watchdog) runs after each batch and when idle."""
    while _wait(lines, follower):
        deadline = time.perf_counter() + MAX_BATCH_MS / 1000
        with runtime.batch() as batch:
            while len(batch) < max_batch:
                waiting = lines.next_now()
                if waiting is None:
                    break
                decide_line(batch, *waiting, recorder=recorder)
                if time.perf_counter() >= deadline:
                    break
        if recorder is not None:
            recorder.flush()
        # Committed: every answer is durable before it is written. All of a batch's answers
        # go out in one write, so a crash between the commit and the answers is as short
        # as it can be (it leaves committed lines unanswered: see the module docstring).
        steps = batch.steps
        out.write("".join([_line(step) for step in steps]))
        out.flush()
        if sink is not None:  # after the commit: an alert sent is an alert kept
            for step in steps:
                sink.write_alerts(step.effects, at_ms=step.now_ms)
        if follower is not None:
            follower.after(steps)


def _wait(lines: Lines, follower: ChangeFollower | None) -> bool:
    """Block until a line waits (False at the end of input); idle, the follower ticks."""
    if follower is None:
        return lines.wait()
    while (ready := lines.wait_for(follower.every_s)) is None:
        follower.tick()
    return ready


def _stderr(event: dict[str, Any]) -> None:
    """A change-control event: one JSON line on stderr (stdout holds only decisions)."""
    sys.stderr.write(json_line(event))
    sys.stderr.flush()


def decide_line(
    batch: Batch, line: str | bytes, number: int, *, recorder: SessionRecorder | None = None
) -> None:
    """One input line into the batch: decided, or refused with the place it went wrong
    (``bytes`` is a line that is not UTF-8 text)."""
    parsed = parse_line(line, number)
    if isinstance(parsed, Refusal):
        batch.refuse("input", "input.invalid", parsed.message, parsed.where)
        return
    if recorder is not None:
        recorder.record(*parsed)
    batch.evaluate(*parsed)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an input line is not a ``{stage, context}`` object, and where."""

    message: str
    where: dict[str, int]


def parse_line(line: str | bytes, number: int) -> tuple[str, dict[str, Any]] | Refusal:
    """``(stage, context)`` of one input line, or the located reason it is not one."""
    if isinstance(line, bytes):
        return Refusal(f"line {number}: not UTF-8 text", {"line": number})
    try:
        item = json.loads(line, parse_float=Decimal)  # numbers keep their exact text
    except json.JSONDecodeError as exc:
        return Refusal(f"line {number}: {exc.msg}", {"line": number, "column": exc.colno})
    problem = _shape_problem(item)
    if problem is not None:
        return Refusal(f"line {number}: {problem}", {"line": number})
    return item["stage"], item["context"]


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


def _line(step: Step) -> str:
    return json_line(step.to_json())


def json_line(data: dict[str, Any]) -> str:
    """One output line: compact JSON (exact decimals as text), newline-terminated."""
    try:
        text = orjson.dumps(data, default=str).decode()
    except orjson.JSONEncodeError:  # an int beyond 64 bits: the json module takes any int
        text = json.dumps(data, default=str, separators=(",", ":"))
    return text + "\n"


# -- input ------------------------------------------------------------------------------

_ENDS = re.compile(rb"\r\n|\r|\n")  # universal newlines, as Python's text stdin reads them


class Lines:
    """Non-blank input lines, numbered as read, and which of them are already waiting.

    Reads the file descriptor itself (no Python buffer in between), so ``next_now`` can
    tell a line already sent from one not sent yet: it never waits for more input. Lines
    end at ``\\n``, ``\\r\\n`` or ``\\r`` as in text mode, and reach the decoder with a
    ``\\n``, so JSON error columns read as they did when stdin was read as text.
    """

    def __init__(self, fd: int | None, fallback: Iterator[str] | None = None) -> None:
        self._fd = fd
        self._fallback = fallback  # a stream without a descriptor: read one line at a time
        self._ready: deque[tuple[str | bytes, int]] = deque()
        self._buffer = b""
        self._number = 0
        self._eof = False

    @classmethod
    def of(cls, stream: TextIO) -> Lines:
        """The lines of a text stream: its descriptor when it has one."""
        try:
            return cls(stream.fileno())
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            return cls(None, iter(stream))

    def wait(self) -> bool:
        """Block until a line is waiting; False at the end of the input."""
        while not self._ready and not self._eof:
            self._read()
        return bool(self._ready)

    def wait_for(self, timeout_s: float) -> bool | None:
        """``wait``, giving up after ``timeout_s`` without input: None then (a stream
        without a descriptor cannot say, and blocks as ``wait`` does)."""
        deadline = time.monotonic() + timeout_s
        while not self._ready and not self._eof:
            if self._fd is not None:
                left = deadline - time.monotonic()
                if left <= 0 or not self._readable(left):
                    return None
            self._read()
        return bool(self._ready)

    def next_now(self) -> tuple[str | bytes, int] | None:
        """The next waiting line and its number, without waiting for input to arrive."""
        if not self._ready and not self._eof and self._readable():
            self._read()
        return self._ready.popleft() if self._ready else None

    def _readable(self, timeout_s: float = 0) -> bool:
        if self._fd is None:
            return False  # a plain stream cannot say: one line per batch
        try:
            found, _, _ = select.select([self._fd], [], [], timeout_s)
        except (OSError, ValueError):
            return False
        return bool(found)

    def _read(self) -> None:
        if self._fd is None:
            self._read_fallback()
            return
        chunk = os.read(self._fd, _CHUNK)
        if not chunk:
            self._eof = True
        self._split(self._buffer + chunk)

    def _read_fallback(self) -> None:
        assert self._fallback is not None
        line = next(self._fallback, None)
        if line is None:
            self._eof = True
            return
        self._number += 1
        if line.strip():
            self._ready.append((line, self._number))

    def _split(self, data: bytes) -> None:
        start = 0
        for end in _ENDS.finditer(data):
            if end.group() == b"\r" and end.end() == len(data) and not self._eof:
                break  # a \r last in the chunk may be the first half of \r\n
            self._add(data[start : end.start()] + b"\n")
            start = end.end()
        self._buffer = data[start:]
        if self._eof and self._buffer:
            self._add(self._buffer)  # the last line, without a line end
            self._buffer = b""

    def _add(self, line: bytes) -> None:
        self._number += 1
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            self._ready.append((line, self._number))  # refused as it stands
            return
        if text.strip():
            self._ready.append((text, self._number))
