"""Reconciliation: the runtime's orders and positions against what the venue reports.

Run on start, on reconnect and periodically (``riskctl reconcile`` for operators). For
each order the runtime holds open that the venue does not list as open, the venue's own
record decides: canceled, rejected or expired closes it locally; filled brings its fills
in through the ``fill`` stage; unknown to the venue is a mismatch. An order open at the
venue that the runtime does not know is an orphan: a mismatch, never silently adopted.
Mismatches are returned for the caller to alert on; nothing is assumed either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from riskctl.venues.errors import VenueError

if TYPE_CHECKING:
    from riskctl.venues.gateway import OrderGateway

__all__ = ["Mismatch", "ReconcileReport", "reconcile"]


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One disagreement between the runtime and the venue."""

    kind: str  # orphan_at_venue | unknown_at_venue | venue_unreachable
    client_order_id: str | None
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "client_order_id": self.client_order_id, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    venue: str
    local_open: tuple[str, ...]
    venue_open: tuple[str, ...]
    learned: tuple[tuple[str, str], ...]  # (client order id, status the venue reported)
    fills_applied: int
    mismatches: tuple[Mismatch, ...]

    @property
    def clean(self) -> bool:
        return not self.mismatches

    def to_json(self) -> dict[str, Any]:
        return {
            "venue": self.venue,
            "local_open": list(self.local_open),
            "venue_open": list(self.venue_open),
            "learned": [{"client_order_id": c, "status": s} for c, s in self.learned],
            "fills_applied": self.fills_applied,
            "mismatches": [m.to_json() for m in self.mismatches],
            "clean": self.clean,
        }


async def reconcile(gateway: OrderGateway, venue_id: str, *, now_ms: int) -> ReconcileReport:
    """Compare and repair what the venue's own records settle; report the rest."""
    venue = gateway.venues[venue_id]
    runtime = gateway.runtime
    held = runtime.describe().get("open_orders", {}).get(venue_id, [])
    symbol_of = {o["client_order_id"]: o["symbol"] for o in held}
    local = tuple(symbol_of)
    try:
        listed = await venue.fetch_open_orders()
    except VenueError as error:
        unreachable = Mismatch("venue_unreachable", None, error.message)
        return ReconcileReport(venue_id, local, (), (), 0, (unreachable,))
    at_venue = {o.client_order_id or o.id: o for o in listed}
    learned: list[tuple[str, str]] = []
    mismatches: list[Mismatch] = []
    fills = 0
    for cid in local:
        if cid in at_venue:
            continue
        try:
            found = await venue.fetch_order(symbol_of[cid], cid)
        except VenueError as error:
            mismatches.append(Mismatch("venue_unreachable", cid, error.message))
            continue
        if found is None:
            mismatches.append(Mismatch("unknown_at_venue", cid, "open here, unknown there"))
            continue
        if found.filled_qty > 0:
            fills += len(await gateway.collect_fills(venue, found.symbol, found, now_ms))
        runtime.order_update(venue_id, cid, found.status, now_ms=now_ms, reason="reconcile")
        learned.append((cid, found.status))
    for key, order in sorted(at_venue.items()):
        if key not in local:
            detail = f"{order.side} {order.qty} {order.symbol} open at the venue, unknown here"
            mismatches.append(Mismatch("orphan_at_venue", key, detail))
    return ReconcileReport(
        venue_id, local, tuple(sorted(at_venue)), tuple(learned), fills, tuple(mismatches)
    )
