"""Hardened cancel-all: what a kill switch needs when the exchange answers 500.

1. Ask the venue what is open (the orders to cancel: *requested*).
2. Bulk cancel; a failure or a partial success is not the end.
3. Until nothing is open or the deadline passes: read open orders again, cancel each one
   still open with its own request (retried within the same deadline).
4. Confirm each requested order's final status from the venue (``fetch_order``): only an
   order the venue reports closed is *confirmed*; local state is never marked canceled on
   assumption. What is still open at the deadline is reported by id so an alert names it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from riskctl.venues.errors import VenueError, VenueErrorKind
from riskctl.venues.records import VenueOrder
from riskctl.venues.retry import Backoff
from riskctl.venues.venue import Venue

__all__ = ["CancelAllReport", "cancel_all"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CancelAllReport:
    """Requested, confirmed closed (canceled, or filled before the cancel), still open."""

    venue: str
    symbol: str | None
    requested: tuple[str, ...]
    confirmed: tuple[VenueOrder, ...]
    still_open: tuple[str, ...]
    bulk_error: VenueError | None = None
    rounds: int = 0
    listing_error: VenueError | None = None  # the venue's open orders could not be read

    @property
    def complete(self) -> bool:
        """Nothing open, as the venue itself last listed it (never assumed from silence)."""
        return not self.still_open and self.listing_error is None

    def to_json(self) -> dict[str, Any]:
        return {
            "venue": self.venue,
            "symbol": self.symbol,
            "requested": list(self.requested),
            "confirmed_canceled": [
                o.client_order_id or o.id for o in self.confirmed if o.status == "canceled"
            ],
            "confirmed_filled": [
                o.client_order_id or o.id for o in self.confirmed if o.status == "filled"
            ],
            "still_open": list(self.still_open),
            "bulk_error": None if self.bulk_error is None else self.bulk_error.to_dict(),
            "listing_error": None if self.listing_error is None else self.listing_error.to_dict(),
            "complete": self.complete,
            "rounds": self.rounds,
        }


def _key(order: VenueOrder) -> str:
    return order.client_order_id or order.id


async def cancel_all(
    venue: Venue,
    symbol: str | None,
    *,
    deadline_s: float,
    backoff: Backoff,
    rng: random.Random,
    clock: Callable[[], float],
    classify: Callable[[BaseException], VenueError],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> CancelAllReport:
    """Cancel every open order of ``venue`` (one symbol, or all) and confirm it."""
    deadline = clock() + deadline_s

    async def attempt(call: Callable[[], Awaitable[T]]) -> T | VenueError:
        try:
            return await call()
        except Exception as exc:  # noqa: BLE001  # every failure is classified, none escapes
            return classify(exc)

    seen: dict[str, VenueOrder] = {}
    first = await attempt(lambda: venue.fetch_open_orders(symbol))
    if not isinstance(first, VenueError):
        seen.update((_key(o), o) for o in first)
    bulk = await attempt(lambda: venue.cancel_all(symbol))
    rounds, still = 0, []
    listing_error: VenueError | None = None
    while True:
        rounds += 1
        listed = await attempt(lambda: venue.fetch_open_orders(symbol))
        listing_error = listed if isinstance(listed, VenueError) else None
        if isinstance(listed, VenueError):
            still = list(seen.values())  # unknown is open until the venue says otherwise
        else:
            still = [o for o in listed if o.is_open]
            seen.update((_key(o), o) for o in still)
            if not still:
                break
        if clock() >= deadline:
            break
        for order in still:
            cancel = await attempt(partial(venue.cancel_order, order.symbol, _key(order)))
            if isinstance(cancel, VenueError) and cancel.kind is VenueErrorKind.AUTH:
                deadline = clock()  # no key, no cancel: report now, do not spin
        wait = min(backoff.delay(rounds, rng), max(0.0, deadline - clock()))
        if wait > 0:
            await sleep(wait)
    confirmed, unconfirmed = await _confirm(venue, seen, {_key(o) for o in still}, attempt)
    return CancelAllReport(
        venue=venue.venue_id,
        symbol=symbol,
        requested=tuple(seen),
        confirmed=tuple(confirmed),
        still_open=tuple(sorted(unconfirmed)),
        bulk_error=bulk if isinstance(bulk, VenueError) else None,
        rounds=rounds,
        listing_error=listing_error,
    )


async def _confirm(
    venue: Venue,
    seen: dict[str, VenueOrder],
    open_ids: set[str],
    attempt: Callable[[Callable[[], Awaitable[VenueOrder | None]]], Awaitable[Any]],
) -> tuple[list[VenueOrder], set[str]]:
    """Each requested order's final status from the venue; what it does not confirm closed
    stays in the unconfirmed set (never assumed canceled)."""
    confirmed = []
    for key, order in seen.items():
        if key in open_ids:
            continue
        final = await attempt(partial(venue.fetch_order, order.symbol, _key(order)))
        if isinstance(final, VenueOrder) and not final.is_open:
            confirmed.append(final)
        else:
            open_ids.add(key)
    return confirmed, open_ids
