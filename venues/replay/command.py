"""``riskctl replay SESSION --policies DIR``: what would these policies have done that day?

Runs the session through the stateful runtime (in-memory store) and the paper venue,
deterministically for ``--seed``, and prints a summary; ``--compare OTHER`` replays it
again under other policies and says what differs; ``--report FILE.html`` writes the charts.
Exit 0 when it ran (malformed lines are reported with their line numbers and skipped), 2
for bad input (unreadable session or policies, a bad strategy; with ``--strict``, the
first malformed line).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO

from riskctl.cli.output import print_json, print_problems

__all__ = ["register"]


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "replay",
        help="replay a recorded session under the policies, with a paper venue",
        description="Replay a session (JSON Lines, .gz allowed) through every stage.",
    )
    parser.add_argument("session", type=Path, metavar="SESSION", help="session file")
    parser.add_argument(
        "--policies", type=Path, default=Path("policies"), metavar="DIR", help="policy directory"
    )
    parser.add_argument(
        "--strategy", metavar="FILE.py[:NAME]", help="a strategy that quotes from the market data"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for the strategy and retries")
    parser.add_argument("--report", type=Path, metavar="FILE.html", help="write the HTML report")
    parser.add_argument(
        "--compare", type=Path, metavar="OTHER_DIR", help="replay again under other policies"
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default text)"
    )
    parser.add_argument(
        "--strict", action="store_true", help="stop with exit 2 at the first malformed line"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from riskctl.errors import PolicyLoadError  # noqa: PLC0415
    from riskctl.session import SessionError  # noqa: PLC0415

    if not args.session.is_file():
        print(f"riskctl: {args.session}: no such session file", file=sys.stderr)
        return 2
    try:
        first = replay_once(args, args.policies)
        other = replay_once(args, args.compare) if args.compare is not None else None
    except PolicyLoadError as exc:
        print_problems(exc.diagnostics)
        return 2
    except SessionError as exc:
        print(f"riskctl: {exc}", file=sys.stderr)
        return 2
    except StrategyError as exc:
        print(f"riskctl: {exc}", file=sys.stderr)
        return 2
    summary = first.summary()
    for problem in first.problems:
        print(f"riskctl: {problem}", file=sys.stderr)
    if first.problem_count > len(first.problems):
        print(
            f"riskctl: ... {first.problem_count - len(first.problems)} more malformed lines",
            file=sys.stderr,
        )
    compared = compare(first, other) if other is not None else None
    if args.report is not None and not _write_report(first, args):
        return 2
    if args.format == "json":
        out: dict[str, Any] = {"summary": summary}
        if compared is not None:
            out["compare"] = compared
        print_json(out)
    else:
        print_summary(summary, sys.stdout)
        if compared is not None:
            print_compare(compared, sys.stdout)
        if args.report is not None:
            print(f"report: {args.report}")
    return 0


def _write_report(collector: Any, args: argparse.Namespace) -> bool:
    """Write ``--report``; False after saying why it could not be written."""
    from riskctl.venues.replay.report import ReportError, write_report  # noqa: PLC0415

    title = f"Replay of {args.session.name}"
    try:
        write_report(collector.report_data(title, str(args.session)), args.report)
    except ReportError as exc:  # plotly missing, or data the report refuses: say so
        print(f"riskctl: {exc}", file=sys.stderr)
        return False
    except OSError as exc:
        print(f"riskctl: cannot write {args.report}: {exc.strerror}", file=sys.stderr)
        return False
    return True


class StrategyError(Exception):
    """The --strategy argument does not name a loadable strategy."""


def load_strategy(spec: str, seed: int) -> Any:
    """``FILE.py`` (its ``STRATEGY``) or ``FILE.py:NAME``, called with ``seed=``."""
    path_text, _, name = spec.partition(":")
    path = Path(path_text)
    if not path.is_file():
        raise StrategyError(f"--strategy {spec}: no such file {path}")
    module_spec = importlib.util.spec_from_file_location(f"riskctl_strategy_{path.stem}", path)
    if module_spec is None or module_spec.loader is None:
        raise StrategyError(f"--strategy {spec}: {path} is not a Python module")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_spec.name] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001  # a user's module: report, do not trace
        raise StrategyError(f"--strategy {spec}: {type(exc).__name__}: {exc}") from None
    factory = getattr(module, name or "STRATEGY", None)
    if factory is None:
        raise StrategyError(f"--strategy {spec}: {path} defines no {name or 'STRATEGY'}")
    strategy = factory(seed=seed)
    for needed in ("name", "on_book", "on_fill"):
        if not hasattr(strategy, needed):
            raise StrategyError(f"--strategy {spec}: the strategy has no {needed}")
    return strategy


def replay_once(args: argparse.Namespace, policies: Path) -> Any:
    from riskctl.gate import Gate  # noqa: PLC0415
    from riskctl.kinds import RiskLimits  # noqa: PLC0415
    from riskctl.runtime import StatefulGate  # noqa: PLC0415
    from riskctl.session import read_session  # noqa: PLC0415
    from riskctl.state import MemoryStore  # noqa: PLC0415
    from riskctl.venues.replay.driver import Replay, ReplayOptions  # noqa: PLC0415

    gate = Gate.from_path(policies)
    runtime = StatefulGate(gate, MemoryStore(), audit=False)  # a what-if: nobody reads its log
    bundle = gate.bundle
    venues = {
        account.venue
        for document in (bundle.of_kind(RiskLimits) if bundle is not None else ())
        for account in document.spec.venues
    }
    strategy = load_strategy(args.strategy, args.seed) if args.strategy else None
    replay = Replay(runtime, venues, strategy=strategy, options=ReplayOptions(seed=args.seed))
    items = read_session(args.session, strict=args.strict)
    collector = replay.run(_progress(items, args.session) if sys.stderr.isatty() else items)
    collector.finish()
    return collector


def _progress(items: Iterator[Any], path: Path) -> Iterator[Any]:
    """A one-line progress count on the terminal (none when stderr is not one)."""
    started = time.perf_counter()
    for n, item in enumerate(items, start=1):
        if n % 20_000 == 0:
            rate = n / max(time.perf_counter() - started, 1e-9)
            print(f"\r{path.name}: {n:,} events ({rate:,.0f}/s)", end="", file=sys.stderr)
        yield item
    print("\r" + " " * 60 + "\r", end="", file=sys.stderr)


def compare(first: Any, other: Any) -> dict[str, Any]:
    """What differs between two replays of one session under two policy sets."""
    flipped = [
        (cid, outcome, other.outcomes_by_order.get(cid))
        for cid, outcome in first.outcomes_by_order.items()
        if other.outcomes_by_order.get(cid, outcome) != outcome
    ]
    shown = []
    for cid, outcome, then in flipped[:10]:
        facts = first.order_facts.get(cid, {})
        rules = other.order_facts.get(cid, {}).get("rules", [])
        shown.append({
            "client_order_id": cid, "first": outcome, "other": then,
            "ts_ms": facts.get("ts_ms"), "scope": facts.get("scope"), "side": facts.get("side"),
            "qty": facts.get("qty"), "price": facts.get("price"),
            "first_rules": facts.get("rules", []), "other_rules": rules,
        })  # fmt: skip
    a, b = first.summary(), other.summary()
    return {
        "decisions_flipped": len(flipped),
        "first_flips": shown,
        "pnl": {"first": a["pnl"]["session_pnl"], "other": b["pnl"]["session_pnl"]},
        "max_drawdown": {"first": a["pnl"]["max_drawdown"], "other": b["pnl"]["max_drawdown"]},
        "time_halted_ms": {"first": a["time_halted_ms"], "other": b["time_halted_ms"]},
        "decisions": {"first": a["decisions"], "other": b["decisions"]},
    }


def _ms(ms: int | None) -> str:
    if ms is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000)) + "Z"


def print_summary(summary: dict[str, Any], out: TextIO) -> None:
    w = out.write
    w(f"session: {summary['events']:,} events, {_ms(summary['start_ms'])} .. ")
    w(f"{_ms(summary['end_ms'])}; malformed lines: {summary['malformed_lines']}\n\n")
    w("decisions (allow / modify / reject):\n")
    for stage, counts in summary["decisions"].items():
        w(
            f"  {stage:<11} {counts.get('allow', 0):>8,} {counts.get('modify', 0):>8,}"
            f" {counts.get('reject', 0):>8,}\n"
        )
    w(f"orders: {json.dumps(summary['orders'])}\n\n")
    w("top rules by hits:\n")
    for rule in summary["top_rules"]:
        w(f"  {rule['hits']:>8,}  {rule['rule_id']}\n")
    w(f"\nbreakers: {summary['breaker_trips']} trips ({', '.join(summary['breakers_tripped'])})")
    w(f", {summary['breaker_resets']} resets\n")
    w(f"bands: {summary['band_transitions']} transitions\n")
    w(f"alerts: {summary['alerts_fired']} fired, {summary['alerts_resolved']} resolved")
    w(f" ({', '.join(summary['alerts'])})\n")
    w("trading state:\n")
    for change in summary["trading_state"][:20]:
        w(f"  {_ms(change['ts_ms'])}  {change['name']}: {change['status']}\n")
    halted_s = summary["time_halted_ms"] / 1000
    w(f"  final: {summary['final_trading_state']}; halted for {halted_s:,.1f} s\n")
    pnl = summary["pnl"]
    session, realized, fees, drawdown = (
        _money(pnl[k]) for k in ("session_pnl", "realized_pnl", "fees", "max_drawdown")
    )
    w(f"P&L: session {session} (realized {realized}, fees {fees}); max drawdown {drawdown}\n")
    w("max position against its limit:\n")
    for scope, item in summary["max_position"].items():
        w(f"  {scope:<20} {item['max_abs_qty']:>14} of {item['max_position_qty']}\n")


def print_compare(compared: dict[str, Any], out: TextIO) -> None:
    w = out.write
    w(f"\ncompared: {compared['decisions_flipped']} order decisions flipped\n")
    for flip in compared["first_flips"]:
        order = f"{flip['side']} {flip['qty']} {flip['scope']} @ {flip['price'] or 'market'}"
        rules = ", ".join(flip["other_rules"] or flip["first_rules"]) or "-"
        w(f"  {_ms(flip['ts_ms'])}  {flip['client_order_id']} ({order}): {flip['first']} ->")
        w(f" {flip['other']}  [{rules}]\n")
    for key in ("pnl", "max_drawdown", "time_halted_ms"):
        w(f"  {key}: {compared[key]['first']} -> {compared[key]['other']}\n")


def _money(text: str) -> str:
    """A P&L figure for a person: rounded half-even to 8 decimal places (an average cost
    carries 28 significant digits); ``--format json`` keeps the exact value."""
    try:
        number = Decimal(text).quantize(_CENT_MILLIONTH, rounding=ROUND_HALF_EVEN)
    except InvalidOperation:  # not finite, or too many digits to round: shown as it is
        return text
    shown = format(number.normalize(), "f")
    return "0" if shown in ("0", "-0") else shown


_CENT_MILLIONTH = Decimal("1e-8")
