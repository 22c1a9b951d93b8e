"""Operator commands over configured venues: ``config show``, ``cancel-all``, ``reconcile``.

Registered by ``riskctl.cli.main`` when the venues extra is installed. Nothing heavy is
imported until a command runs (ccxt, pydantic-settings), so ``riskctl lint`` stays fast
and works without the extra. Exit 0 done and clean, 1 done with findings (orders still
open, mismatches), 2 bad input or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riskctl.cli.output import print_json, print_problems

if TYPE_CHECKING:
    from riskctl.runtime import StatefulGate
    from riskctl.venues.config import RiskctlConfig

__all__ = ["register"]


def register(verbs: Any) -> None:
    from riskctl.venues.replay import command as replay  # noqa: PLC0415  # light: no ccxt

    replay.register(verbs)
    config = verbs.add_parser(
        "config",
        help="show the effective runtime configuration",
        description="Runtime configuration: venues, state store, sinks (not policies).",
    )
    config_verbs = config.add_subparsers(
        dest="config_verb", required=True, metavar="VERB", help="what to do"
    )
    show = config_verbs.add_parser(
        "show", help="print every effective value", description="Print the configuration."
    )
    _add_config(show, required=False)
    show.add_argument("--sources", action="store_true", help="say which source gave each value")
    show.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default text)"
    )
    show.set_defaults(run=_show)

    instruments = verbs.add_parser(
        "instruments",
        help="write the venue's instrument rules into an Instruments document",
        description="Instrument data (tick, step, minimums, order types) from a venue.",
    )
    instrument_verbs = instruments.add_subparsers(
        dest="instruments_verb", required=True, metavar="VERB", help="what to do"
    )
    pull = instrument_verbs.add_parser(
        "pull",
        help="fetch load_markets() and write or update an Instruments file (comments kept)",
        description="Write or update an Instruments document from the venue's markets.",
    )
    _add_config(pull, required=True)
    pull.add_argument("--venue", required=True, metavar="ID", help="configured venue id")
    pull.add_argument(
        "--symbols", nargs="+", metavar="SYMBOL", help="default: what the policies list there"
    )
    pull.add_argument("--out", type=Path, metavar="FILE", help="default: POLICIES/instruments.yaml")
    pull.set_defaults(run=_pull)

    for name, helptext, run in (
        ("cancel-all", "cancel every open order on a venue, confirmed", _cancel_all),
        ("reconcile", "compare our orders with the venue's and settle what it can", _reconcile),
    ):
        parser = verbs.add_parser(name, help=helptext, description=helptext + ".")
        _add_config(parser, required=True)
        parser.add_argument("--venue", required=True, metavar="ID", help="configured venue id")
        if name == "cancel-all":
            parser.add_argument("--symbol", metavar="SYMBOL", help="only this symbol")
        parser.add_argument(
            "--format",
            choices=("text", "json"),
            default="text",
            help="output format (default text)",
        )
        parser.set_defaults(run=run)


def _add_config(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument(
        "--config", type=Path, required=required, metavar="FILE", help="runtime config (YAML)"
    )
    parser.add_argument("--state", type=Path, metavar="FILE", help="state file (overrides)")
    parser.add_argument("--policies", type=Path, metavar="DIR", help="policies (overrides)")


def load(args: argparse.Namespace) -> tuple[RiskctlConfig, dict[str, str]] | None:
    """The effective config from ``--config`` and the flags; None after printing why not."""
    from riskctl.venues.config import ConfigError, load_config  # noqa: PLC0415

    flags = {"state": getattr(args, "state", None), "policies": getattr(args, "policies", None)}
    try:
        return load_config(args.config, flags)
    except ConfigError as exc:
        print_problems(exc.diagnostics)
        return None


def _show(args: argparse.Namespace) -> int:
    loaded = load(args)
    if loaded is None:
        return 2
    config, sources = loaded
    shown = config.shown(sources)
    if args.format == "json":
        print_json(shown if args.sources else {k: v["value"] for k, v in shown.items()})
        return 0
    for name, item in shown.items():
        value = json.dumps(item["value"], default=str)
        print(f"{name} = {value}" + (f"    # {item['source']}" if args.sources else ""))
    return 0


def _runtime(config: RiskctlConfig) -> StatefulGate | None:
    from riskctl.errors import PolicyLoadError  # noqa: PLC0415
    from riskctl.gate import Gate  # noqa: PLC0415
    from riskctl.runtime import StatefulGate  # noqa: PLC0415
    from riskctl.state.errors import StoreError  # noqa: PLC0415
    from riskctl.state.memory_store import MemoryStore  # noqa: PLC0415
    from riskctl.state.sqlite_store import SqliteStore  # noqa: PLC0415

    try:
        gate = Gate.from_path(config.policies)
    except PolicyLoadError as exc:
        print_problems(exc.diagnostics)
        return None
    if config.state is None or config.memory:
        return StatefulGate(gate, MemoryStore())
    try:
        return StatefulGate(gate, SqliteStore(config.state))
    except StoreError as exc:
        print_problems([exc.diagnostic])
        return None


def _with_gateway(args: argparse.Namespace, act: Callable[[Any, int], Any]) -> int:
    from riskctl.venues.config import ConfigError  # noqa: PLC0415
    from riskctl.venues.errors import VenueError  # noqa: PLC0415
    from riskctl.venues.session import open_gateway  # noqa: PLC0415

    loaded = load(args)
    if loaded is None:
        return 2
    config = loaded[0]
    try:
        config.venue(args.venue)
    except ConfigError as exc:
        print_problems(exc.diagnostics)
        return 2
    runtime = _runtime(config)
    if runtime is None:
        return 2
    only = config.model_copy(update={"venues": [config.venue(args.venue)]})

    async def main() -> int:
        async with open_gateway(only, runtime) as gateway:
            report = await act(gateway, time.time_ns() // 1_000_000)
        data = report.to_json()
        if args.format == "json":
            print_json(data)
        else:
            for key, value in data.items():
                print(f"{key}: {json.dumps(value, default=str)}")
        clean = report.complete if hasattr(report, "complete") else report.clean
        return 0 if clean else 1

    try:
        return asyncio.run(main())
    except ConfigError as exc:
        print_problems(exc.diagnostics)
        return 2
    except VenueError as exc:
        print(f"riskctl: {exc}", file=sys.stderr)
        return 2
    finally:
        runtime.close()


def _pull(args: argparse.Namespace) -> int:
    from riskctl.errors import PolicyLoadError  # noqa: PLC0415
    from riskctl.kinds import RiskLimits  # noqa: PLC0415
    from riskctl.venues.ccxt_venue import CcxtVenue  # noqa: PLC0415
    from riskctl.venues.config import ConfigError  # noqa: PLC0415
    from riskctl.venues.errors import VenueError  # noqa: PLC0415
    from riskctl.venues.instruments_file import pull_into  # noqa: PLC0415

    loaded = load(args)
    if loaded is None:
        return 2
    config = loaded[0]
    runtime = _runtime(config)
    if runtime is None:
        return 2
    bundle = runtime.gate.bundle
    runtime.close()
    symbols = args.symbols or sorted(
        {
            symbol
            for document in (bundle.of_kind(RiskLimits) if bundle is not None else ())
            for account in document.spec.venues
            if account.venue == args.venue
            for symbol in account.symbols
        }
    )
    out = args.out or config.policies / "instruments.yaml"

    async def fetch() -> Any:
        venue = CcxtVenue.open(config.venue(args.venue).ccxt_config())
        try:
            return await venue.load_instruments()
        finally:
            await venue.close()

    try:
        listed = asyncio.run(fetch())
        changed, added = pull_into(out, args.venue, listed, symbols)
    except (ConfigError, PolicyLoadError) as exc:
        print_problems(exc.diagnostics)
        return 2
    except VenueError as exc:
        print(f"riskctl: {exc}", file=sys.stderr)
        return 2
    except KeyError as exc:
        print(f"riskctl: {exc.args[0]}", file=sys.stderr)
        return 2
    print(f"{out}: {changed} updated, {added} added, for {args.venue} {' '.join(symbols)}")
    return 0


def _cancel_all(args: argparse.Namespace) -> int:
    return _with_gateway(
        args, lambda gateway, now: gateway.cancel_all(args.venue, args.symbol, now_ms=now)
    )


def _reconcile(args: argparse.Namespace) -> int:
    from riskctl.venues.reconcile import reconcile  # noqa: PLC0415

    return _with_gateway(args, lambda gateway, now: reconcile(gateway, args.venue, now_ms=now))
