"""The replay report's input, checked: the plain structure the replay fills, as frozen models.

The replay hands :func:`riskctl.venues.replay.report.render_report` a JSON-able mapping;
this module validates it once, so a misspelt key or a bad number fails with its location
(``orders.3.price``) instead of drawing a wrong chart. Numbers may be ``str`` or
``Decimal`` (``int`` and ``float`` pass too); NaN and infinity are refused. The top level
forbids unknown keys (a typo there would silently drop a whole chart); items ignore extra
keys, so a reject's reasons may be passed as whole rule hits (``code``, ``values``).

Also here: the pure helpers the charts need, downsampling above all, kept apart from
plotly so they can be tested without it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from riskctl.errors import RiskctlError

__all__ = [
    "MAX_POINTS",
    "Band",
    "Fill",
    "Order",
    "Point",
    "Reason",
    "Reject",
    "ReportData",
    "ReportError",
    "Span",
    "StatusChange",
    "downsample",
    "duration_text",
    "load",
    "spans",
    "thin",
    "utc_text",
]

MAX_POINTS = 5_000  # per series; SVG charts stay responsive below this

Kind = Literal["breaker", "alert", "trading_state", "kill_switch"]
T = TypeVar("T")
Point = tuple[float, ...]  # (ts_ms, value, ...): what a chart draws


class ReportError(RiskctlError):
    """The report could not be written: ``code`` says why, ``location`` where in the data."""

    def __init__(self, code: str, message: str, location: str = "") -> None:
        self.code = code
        self.location = location
        where = f"{location}: " if location else ""
        super().__init__(f"{where}{code}: {message}")


class _Item(BaseModel):
    model_config = ConfigDict(frozen=True, allow_inf_nan=False, extra="ignore")


class SessionInfo(_Item):
    path: str
    events: int = Field(ge=0)
    start_ms: int
    end_ms: int


class Policies(_Item):
    hash: str
    versions: dict[str, int] = Field(default_factory=dict)


class Order(_Item):
    ts_ms: int
    scope: str
    side: Literal["buy", "sell"]
    price: Decimal | None  # None: a market order, drawn at the mid
    qty: Decimal
    client_order_id: str
    outcome: Literal["allow", "modify", "reject"]
    status: Literal["sent", "filled", "rejected", "failed"]


class Fill(_Item):
    ts_ms: int
    scope: str
    side: Literal["buy", "sell"]
    price: Decimal
    qty: Decimal


class Band(_Item):
    name: str
    lower: Decimal | None = None
    upper: Decimal | None = None


class StatusChange(_Item):
    ts_ms: int
    kind: Kind
    name: str
    status: str


class Reason(_Item):
    rule_id: str
    message: str


class Reject(_Item):
    ts_ms: int
    stage: str
    scope: str | None = None
    client_order_id: str | None = None
    reasons: tuple[Reason, ...] = ()


class ReportData(BaseModel):
    """Everything one report shows; see the replay for how each series is sampled."""

    model_config = ConfigDict(frozen=True, allow_inf_nan=False, extra="forbid")

    title: str
    session: SessionInfo
    policies: Policies
    summary: dict[str, Any] = Field(default_factory=dict)
    prices: dict[str, tuple[tuple[int, Decimal], ...]] = Field(default_factory=dict)
    orders: tuple[Order, ...] = ()
    fills: tuple[Fill, ...] = ()
    positions: dict[str, tuple[tuple[int, Decimal], ...]] = Field(default_factory=dict)
    position_limits: dict[str, dict[str, Decimal]] = Field(default_factory=dict)
    bands: dict[str, tuple[Band, ...]] = Field(default_factory=dict)
    pnl: tuple[tuple[int, Decimal, Decimal], ...] = ()  # (ts_ms, session_pnl, drawdown >= 0)
    loss_limit: Decimal | None = None  # a loss, either sign: drawn at -|loss_limit|
    drawdown_stop: Decimal | None = None
    timeline: tuple[StatusChange, ...] = ()
    rejects: tuple[Reject, ...] = ()

    def scopes(self) -> list[str]:
        """Every venue:symbol that has a price, an order, a fill, a position or a limit."""
        named = {*self.prices, *self.positions, *self.position_limits, *self.bands}
        named.update(o.scope for o in self.orders)
        named.update(f.scope for f in self.fills)
        return sorted(named)


def load(data: Mapping[str, Any]) -> ReportData:
    """Validate the replay's mapping; the first problem becomes a located ReportError."""
    if isinstance(data, ReportData):
        return data
    try:
        return ReportData.model_validate(dict(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        count = exc.error_count()
        more = f" (and {count - 1} more problems)" if count > 1 else ""
        raise ReportError("report.bad-data", f"{first['msg']}{more}", where) from None


def utc_text(ts_ms: int) -> str:
    """``2024-05-01 12:00:00.123 UTC``: the report's one way of writing an instant."""
    instant = datetime.fromtimestamp(ts_ms / 1000, tz=UTC)
    return instant.strftime("%Y-%m-%d %H:%M:%S.") + f"{ts_ms % 1000:03d} UTC"


def duration_text(ms: int) -> str:
    """``1h 02m 03.400s``, ``4.250s``: a span a person can read."""
    sign, ms = ("-", -ms) if ms < 0 else ("", ms)
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds = f"{rest // 1000}.{rest % 1000:03d}s"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m {seconds.zfill(7)}"
    if minutes:
        return f"{sign}{minutes}m {seconds.zfill(7)}"
    return sign + seconds


def downsample(points: Sequence[Point], limit: int = MAX_POINTS) -> list[Point]:
    """At most ``limit`` points that keep every value column's extremes.

    The series is cut into equal buckets and each keeps, for every value column, the
    points holding its minimum and its maximum (in time order), plus the first and last
    point of the whole series. A flash crash or a bad print survives: an average or an
    every-n-th sample would hide exactly what a risk engineer looks for.
    """
    if len(points) <= limit:
        return list(points)
    columns = len(points[0]) - 1
    per_bucket = 2 * columns
    buckets = max(1, (limit - 2) // per_bucket)
    size = math.ceil(len(points) / buckets)
    keep = {0, len(points) - 1}
    for start in range(0, len(points), size):
        chunk = range(start, min(start + size, len(points)))
        for col in range(1, columns + 1):
            values = [points[i][col] for i in chunk]
            keep.add(start + values.index(min(values)))
            keep.add(start + values.index(max(values)))
    return [points[i] for i in sorted(keep)]


def thin(items: Sequence[T], limit: int = MAX_POINTS) -> tuple[list[T], int]:
    """Every n-th item so that at most ``limit`` remain, and n (1: nothing dropped).

    For markers (orders, fills) there are no extremes to keep; the chart names n, and the
    rejects table still lists every reject.
    """
    if len(items) <= limit:
        return list(items), 1
    step = math.ceil(len(items) / limit)
    return list(items[::step]), step


@dataclass(frozen=True, slots=True)
class Span:
    """One status held by one breaker, alert or state from ``start_ms`` to ``end_ms``."""

    row: str
    status: str
    start_ms: int
    end_ms: int


def spans(changes: Sequence[StatusChange], end_ms: int) -> list[Span]:
    """Turn status changes into spans: each change holds until the next one of its row.

    The last status of a row holds to the session's end. Changes are sorted by time
    (stable, so two changes at one instant keep the replay's order).
    """
    last: dict[str, StatusChange] = {}
    out: list[Span] = []
    for change in sorted(changes, key=lambda c: c.ts_ms):
        row = f"{change.kind}: {change.name}"
        before = last.get(row)
        if before is not None:
            out.append(
                Span(row=row, status=before.status, start_ms=before.ts_ms, end_ms=change.ts_ms)
            )
        last[row] = change
    for row, change in last.items():
        out.append(
            Span(
                row=row,
                status=change.status,
                start_ms=change.ts_ms,
                end_ms=max(end_ms, change.ts_ms),
            )
        )
    return out
