"""Positions whose exit is dust: below the venue's minimum, so no exit order can close them.

The gate refuses such an exit (sending it in a loop only earns rejects), raises an alert
once per position size, and reports the position as unclosable until it grows. Kept in
memory here; the state store persists it.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from decimal import Decimal

from riskctl.context import PreTradeContext, StageContext
from riskctl.decision import Decision, sorted_actions

__all__ = ["DustLedger"]


class DustLedger:
    """(venue, symbol) -> the position size last reported as dust."""

    def __init__(self) -> None:
        self._sizes: dict[tuple[str, str], Decimal] = {}
        self._lock = threading.Lock()

    def note(self, ctx: StageContext, decision: Decision) -> Decision:
        """Add an ``alert`` the first time a position size is found to be dust."""
        if not isinstance(ctx, PreTradeContext):
            return decision
        is_dust = decision.enforced("dust")
        if not is_dust and not self._sizes:
            return decision  # nothing to record or clear: no lock on the common path
        key, size = ctx.scope_key(), abs(ctx.position.qty)
        with self._lock:
            if not is_dust:
                if decision.allowed and ctx.order.is_exit and not ctx.is_cancel():
                    # an exit went out: closable again (a cancel sends nothing that closes)
                    self._sizes.pop(key, None)
                return decision
            known = self._sizes.get(key)
            if known is not None and size <= known:
                return decision
            self._sizes[key] = size
        return replace(decision, actions=sorted_actions((*decision.actions, "alert")))

    def __bool__(self) -> bool:
        return bool(self._sizes)

    @property
    def sizes(self) -> dict[tuple[str, str], Decimal]:
        """The live ledger, for a truth test on the hot path (read-only: use snapshot)."""
        return self._sizes

    def snapshot(self) -> dict[tuple[str, str], Decimal]:
        with self._lock:
            return dict(self._sizes)
