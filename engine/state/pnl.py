"""Session and daily P&L across position lifecycles, peak equity and drawdown.

One value per session, stored under ("session", "pnl"). Realized P&L and fees only ever
accumulate (closing a position never resets them), so two losses of 50 on two positions
are a session loss of 100. equity = start equity + realized - fees + unrealized at the
marks the runtime last gave. The day rolls at ``SessionConfig.day_roll_ms_of_day`` in its
timezone, decided from ``now_ms`` alone; at a roll the daily P&L restarts from the equity
then, the session goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = [
    "SessionConfig",
    "SessionPnl",
    "day_of",
    "drawdown",
    "equity",
    "on_fill",
    "on_mark",
    "roll",
    "start_session",
]

ZERO = Decimal(0)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """When the trading day rolls: ms after local midnight, in an IANA timezone."""

    day_roll_ms_of_day: int = 0
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if not 0 <= self.day_roll_ms_of_day < DAY_MS:
            raise ValueError("day_roll_ms_of_day must be at least 0 and less than one day")
        _zone(self.timezone)  # an unknown timezone fails here, not at the first roll


@dataclass(frozen=True, slots=True)
class SessionPnl:
    start_equity: Decimal
    day: int  # ordinal of the trading day (see day_of)
    day_start_equity: Decimal
    peak_equity: Decimal
    realized: Decimal = ZERO
    fees: Decimal = ZERO
    unrealized: Decimal = ZERO


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def day_of(cfg: SessionConfig, now_ms: int) -> int:
    """The trading day ``now_ms`` falls in: local date of (local time - roll offset)."""
    if cfg.day_roll_ms_of_day % MINUTE_MS == 0 and now_ms >= WHOLE_MINUTE_OFFSETS_MS:
        # Days then change only on a minute's edge: every zone's offset is whole minutes.
        return _day_of_minute(cfg, now_ms // MINUTE_MS)
    return _day_of(cfg, now_ms)


MINUTE_MS = 60_000
WHOLE_MINUTE_OFFSETS_MS = 100_000_000_000  # 1973-03-03: the last sub-minute offsets ended 1972


@lru_cache(maxsize=4096)
def _day_of_minute(cfg: SessionConfig, minute: int) -> int:
    return _day_of(cfg, minute * MINUTE_MS)


def _day_of(cfg: SessionConfig, now_ms: int) -> int:
    local = (EPOCH + timedelta(milliseconds=now_ms)).astimezone(_zone(cfg.timezone))
    shifted = local.replace(tzinfo=None) - timedelta(milliseconds=cfg.day_roll_ms_of_day)
    return shifted.date().toordinal()


def start_session(start_equity: Decimal, cfg: SessionConfig, now_ms: int) -> SessionPnl:
    return SessionPnl(start_equity, day_of(cfg, now_ms), start_equity, start_equity)


def equity(s: SessionPnl) -> Decimal:
    return s.start_equity + s.realized - s.fees + s.unrealized


def drawdown(s: SessionPnl) -> Decimal:
    """Drop of equity from the session's peak, >= 0."""
    return s.peak_equity - equity(s)


def session_pnl(s: SessionPnl) -> Decimal:
    return equity(s) - s.start_equity


def daily_pnl(s: SessionPnl) -> Decimal:
    return equity(s) - s.day_start_equity


def roll(s: SessionPnl, cfg: SessionConfig, now_ms: int) -> SessionPnl:
    """Start a new day when ``now_ms`` is past the roll; the equity then is the day's base."""
    day = day_of(cfg, now_ms)
    if day <= s.day:  # time going backwards never rolls back a day
        return s
    return replace(s, day=day, day_start_equity=equity(s))


def _peaked(s: SessionPnl) -> SessionPnl:
    eq = equity(s)
    return replace(s, peak_equity=eq) if eq > s.peak_equity else s


def on_fill(
    s: SessionPnl,
    realized: Decimal,
    fee: Decimal,
    unrealized: Decimal,
    *,
    cfg: SessionConfig,
    now_ms: int,
) -> SessionPnl:
    """Book a fill's realized P&L and fee, with the book's unrealized P&L after it."""
    s = roll(s, cfg, now_ms)
    return _peaked(
        replace(s, realized=s.realized + realized, fees=s.fees + fee, unrealized=unrealized)
    )


def on_mark(s: SessionPnl, unrealized: Decimal, cfg: SessionConfig, now_ms: int) -> SessionPnl:
    """New marks: the book's total unrealized P&L now (see book.total_unrealized)."""
    s = roll(s, cfg, now_ms)
    return _peaked(replace(s, unrealized=unrealized))
