"""Open the configured venues for a runtime: the one way the CLI and bots get a gateway.

``open_gateway(config, runtime)`` opens every configured venue, loads its instruments,
checks that every symbol a RiskLimits document lists for that venue is one the venue
lists (ccxt spells a linear perpetual ``BTC/USDT:USDT`` and spot ``BTC/USDT``: a policy
must never silently miss or catch the other one), and closes every venue on the way out,
whatever failed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from riskctl.context import Instrument
from riskctl.errors import Diagnostic, Location
from riskctl.kinds import RiskLimits
from riskctl.runtime import StatefulGate
from riskctl.venues.ccxt_venue import CcxtVenue
from riskctl.venues.config import ConfigError, RiskctlConfig
from riskctl.venues.gateway import OrderGateway
from riskctl.venues.venue import Venue

__all__ = ["check_symbols", "open_gateway", "policy_symbols"]


def check_symbols(
    runtime: StatefulGate, venue_id: str, instruments: Mapping[str, Instrument]
) -> list[Diagnostic]:
    """A located error for each policy symbol of ``venue_id`` the venue does not list."""
    bundle = runtime.gate.bundle
    problems = []
    for document in bundle.of_kind(RiskLimits) if bundle is not None else ():
        source = bundle.source_of(document.ref).source if bundle is not None else None
        for index, account in enumerate(document.spec.venues):
            if account.venue != venue_id:
                continue
            for position, symbol in enumerate(account.symbols):
                if symbol in instruments:
                    continue
                near = sorted(s for s in instruments if s.split(":")[0] == symbol.split(":")[0])
                hint = f" (the venue lists {', '.join(near)})" if near else ""
                path: list[str | int] = ["spec", "venues", index, "symbols", position]
                where = (
                    source.location(path)
                    if source is not None
                    else Location(document.ref, 1, 1, "")
                )
                problems.append(
                    Diagnostic(
                        "venue.unknown-symbol",
                        f"{document.ref} lists {symbol} for {venue_id}, which the venue does"
                        f" not list{hint}",
                        where,
                    )
                )
    return problems


def policy_symbols(runtime: StatefulGate, venue_id: str) -> tuple[str, ...]:
    """Every symbol a RiskLimits document lists for ``venue_id``."""
    bundle = runtime.gate.bundle
    documents = bundle.of_kind(RiskLimits) if bundle is not None else ()
    return tuple(
        sorted(
            {s for d in documents for a in d.spec.venues if a.venue == venue_id for s in a.symbols}
        )
    )


@asynccontextmanager
async def open_gateway(
    config: RiskctlConfig,
    runtime: StatefulGate,
    *,
    venues: Mapping[str, Venue] | None = None,
    **gateway_options: Any,
) -> AsyncIterator[OrderGateway]:
    """A gateway over the configured venues (or the given ones: a paper venue, a test's)."""
    opened: dict[str, Venue] = dict(venues or {})
    try:
        if venues is None:
            for settings in config.venues:
                opened[settings.id] = CcxtVenue.open(settings.ccxt_config())
        instruments: dict[str, Mapping[str, Instrument]] = {}
        problems: list[Diagnostic] = []
        for venue_id, venue in opened.items():
            instruments[venue_id] = await venue.load_instruments()
            problems += check_symbols(runtime, venue_id, instruments[venue_id])
            if isinstance(venue, CcxtVenue):
                venue.symbols = policy_symbols(runtime, venue_id)
        if problems:
            raise ConfigError(problems)
        gateway = OrderGateway(
            runtime,
            opened,
            instruments=instruments,
            cancel_deadline_s=config.cancel_deadline_s,
            **gateway_options,
        )
        yield gateway
    finally:
        for venue in opened.values():
            await venue.close()
