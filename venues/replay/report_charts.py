"""The replay report's charts as plotly figures, one function per chart.

Imported only by :func:`riskctl.venues.replay.report.render_report`, after it has checked
that plotly is installed: nothing else in riskctl imports plotly. Every figure has a date
x axis over the whole session (plotly reads numbers there as epoch milliseconds, UTC), so
the page can keep their zoom in step. Hover text is HTML-escaped here: reject reasons are
policy messages, and plotly renders a few tags in hover labels.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from html import escape as _html_escape
from typing import Any

import plotly.graph_objects as go

from riskctl.venues.replay.report_data import (
    Order,
    Reject,
    ReportData,
    Span,
    downsample,
    duration_text,
    spans,
    thin,
    utc_text,
)

__all__ = ["pnl_chart", "position_chart", "price_chart", "timeline_chart"]

BLUE, GREEN, ORANGE, RED, PURPLE, GREY = (
    "#4c78a8",
    "#2e8b57",
    "#f28e2b",
    "#d62728",
    "#7b4fa0",
    "#9aa0a6",
)
BAND_COLORS = ("#59a14f", "#edc948", "#b07aa1", "#76b7b2", "#ff9da7")
# Statuses by what they mean for trading; anything else gets a neutral colour.
STATUS_COLORS = {
    **dict.fromkeys(("closed", "inactive", "resolved", "active", "released", "ok"), "#8fbc8f"),
    **dict.fromkeys(("pending", "half_open", "reducing", "warn", "warning"), ORANGE),
    **dict.fromkeys(("open", "firing", "halted", "engaged", "tripped", "critical"), RED),
}
NORMAL = STATUS_COLORS["closed"]


def escape(text: str) -> str:
    """Text for a plotly label: plotly decodes ``&lt; &gt; &amp;`` but shows ``&quot;`` as is."""
    return _html_escape(text, quote=False)


ROW_ORDER = {"trading_state": 0, "kill_switch": 1, "breaker": 2, "alert": 3}


def _layout(title: str, data: ReportData, *, height: int, y_title: str) -> dict[str, Any]:
    return {
        "title": {"text": escape(title), "x": 0, "xanchor": "left", "font": {"size": 15}},
        "template": "plotly_white",
        "height": height,
        "margin": {"l": 70, "r": 20, "t": 60, "b": 40},
        "hovermode": "closest",
        "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
        "xaxis": {
            "type": "date",
            "range": [data.session.start_ms, data.session.end_ms],
            "hoverformat": "%H:%M:%S.%L",
        },
        "yaxis": {"title": {"text": y_title}, "zeroline": True},
    }


def _empty(figure: go.Figure, text: str) -> None:
    figure.add_annotation(text=text, xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False)


def _named(name: str, step: int, total: int) -> str:
    return name if step == 1 else f"{name} (every {step}th of {total:,})"


def _reasons(rejects: Sequence[Reject], shown: int = 6) -> str:
    """The reasons for a hover label, a few at most (the rejects table has them all)."""
    lines = [
        f"{escape(r.stage)}: {escape(reason.rule_id)} — {escape(reason.message)}"
        for r in rejects
        for reason in r.reasons
    ]
    more = [f"… and {len(lines) - shown} more in the rejects table"] if len(lines) > shown else []
    return "<br>".join(lines[:shown] + more)


class _Mid:
    """The last mid at or before an instant, to place markers that carry no price."""

    def __init__(self, series: Sequence[tuple[int, Decimal]]) -> None:
        self._ts = [ts for ts, _ in series]
        self._mid = [float(mid) for _, mid in series]

    def at(self, ts_ms: int) -> float | None:
        i = bisect.bisect_right(self._ts, ts_ms) - 1
        return self._mid[i] if i >= 0 else (self._mid[0] if self._mid else None)


def _markers(
    name: str,
    x: list[int],
    y: Sequence[float | str | None],
    text: list[str],
    marker: dict[str, Any],
) -> go.Scatter:
    return go.Scatter(
        x=x, y=y, mode="markers", name=name, marker=marker, text=text,
        hovertemplate="%{text}<extra></extra>",
    )  # fmt: skip


def _order_trace(
    name: str, orders: list[Order], mid: _Mid, reasons: dict[str, list[Reject]], color: str
) -> go.Scatter:
    shown, step = thin(orders)
    rejected = name.startswith("rejected")
    text = []
    for o in shown:
        why = _reasons(reasons.get(o.client_order_id, ()))
        at = str(o.price) if o.price is not None else "market"
        text.append(
            f"{o.side} {o.qty} @ {at}<br>{escape(o.client_order_id)}"
            f"<br>{o.outcome} → {o.status}" + (f"<br>{why}" if why else "")
        )
    symbols = [
        "x" if rejected else ("triangle-up" if o.side == "buy" else "triangle-down") for o in shown
    ]
    return _markers(
        _named(name, step, len(orders)),
        [o.ts_ms for o in shown],
        [float(o.price) if o.price is not None else mid.at(o.ts_ms) for o in shown],
        text,
        {"color": color, "size": 9 if rejected else 7, "symbol": symbols},
    )


def _order_groups(data: ReportData, scope: str) -> dict[str, list[Order]]:
    """This scope's orders by what became of them: a venue's refusal counts as rejected."""
    groups: dict[str, list[Order]] = {"allowed": [], "modified": [], "rejected": []}
    for o in data.orders:
        if o.scope != scope:
            continue
        if o.outcome == "reject" or o.status in ("rejected", "failed"):
            groups["rejected"].append(o)
        else:
            groups["modified" if o.outcome == "modify" else "allowed"].append(o)
    return groups


def price_chart(data: ReportData, scope: str) -> go.Figure:
    """Mid price with orders (allowed, modified, rejected with reasons), fills, other rejects."""
    series = data.prices.get(scope, ())
    mid = _Mid(series)
    points = downsample([(ts, float(m)) for ts, m in series])
    figure = go.Figure(layout=_layout(f"Price — {scope}", data, height=380, y_title="price"))
    sampled = "" if len(points) == len(series) else f" ({len(points):,} of {len(series):,})"
    figure.add_trace(
        go.Scatter(
            x=[p[0] for p in points], y=[p[1] for p in points], mode="lines",
            name=f"mid{sampled}", line={"color": BLUE, "width": 1.3},
            hovertemplate="mid %{y}<extra></extra>",
        )
    )  # fmt: skip
    by_order: dict[str, list[Reject]] = defaultdict(list)
    for r in data.rejects:
        if r.client_order_id is not None:
            by_order[r.client_order_id].append(r)
    colors = {"allowed": GREEN, "modified": ORANGE, "rejected": RED}
    for name, orders in _order_groups(data, scope).items():
        if orders:
            figure.add_trace(_order_trace(f"{name} orders", orders, mid, by_order, colors[name]))
    fills = [f for f in data.fills if f.scope == scope]
    if fills:
        shown, step = thin(fills)
        figure.add_trace(
            _markers(
                _named("fills", step, len(fills)),
                [f.ts_ms for f in shown],
                [float(f.price) for f in shown],
                [f"fill {f.side} {f.qty} @ {f.price}" for f in shown],
                {"color": PURPLE, "size": 8, "symbol": "diamond",
                 "line": {"color": "white", "width": 1}},
            )
        )  # fmt: skip
    loose = [r for r in data.rejects if r.client_order_id is None and r.scope == scope]
    if loose:
        kept, every = thin(loose)
        figure.add_trace(
            _markers(
                _named("rejects without an order", every, len(loose)),
                [r.ts_ms for r in kept],
                [mid.at(r.ts_ms) for r in kept],
                [_reasons([r]) or escape(r.stage) for r in kept],
                {"color": RED, "size": 8, "symbol": "circle-open", "line": {"width": 2}},
            )
        )
    if len(figure.data) == 1 and not series:
        _empty(figure, "No prices for this scope.")
    return figure


def _level(
    name: str, levels: Sequence[float], data: ReportData, color: str, dash: str
) -> go.Scatter:
    """Horizontal lines across the session, one trace so the legend toggles them together."""
    start, end = data.session.start_ms, data.session.end_ms
    x: list[int | None] = []
    y: list[float | None] = []
    for level in levels:
        x += [start, end, None]
        y += [level, level, None]
    return go.Scatter(
        x=x,
        y=y,
        mode="lines",
        name=name,
        line={"color": color, "dash": dash, "width": 1.5},
        hovertemplate=f"{escape(name)}: %{{y}}<extra></extra>",
    )


def position_chart(data: ReportData, scope: str) -> go.Figure:
    """Position (signed, base units) with its inventory bands and ±position limits."""
    series = data.positions.get(scope, ())
    points = downsample([(ts, float(q)) for ts, q in series])
    figure = go.Figure(layout=_layout(f"Position — {scope}", data, height=300, y_title="qty"))
    figure.add_trace(
        go.Scatter(
            x=[p[0] for p in points],
            y=[p[1] for p in points],
            mode="lines",
            line={"color": BLUE, "width": 1.6, "shape": "hv"},
            name="position",
            hovertemplate="position %{y}<extra></extra>",
        )
    )
    for i, band in enumerate(data.bands.get(scope, ())):
        levels = [float(v) for v in (band.lower, band.upper) if v is not None]
        low = "−∞" if band.lower is None else band.lower
        high = "+∞" if band.upper is None else band.upper
        label = f"band {band.name} [{low}, {high}]"
        figure.add_trace(_level(label, levels, data, BAND_COLORS[i % len(BAND_COLORS)], "dot"))
    others = []
    for key, value in sorted(data.position_limits.get(scope, {}).items()):
        if key.endswith("_qty"):
            levels = [float(abs(value)), -float(abs(value))]
            figure.add_trace(_level(f"{key} ±{abs(value)}", levels, data, RED, "dash"))
        else:
            others.append(f"{key} {value}")
    if others:
        figure.update_layout(title_text=escape(f"Position — {scope} (limits: {', '.join(others)})"))
    if not series:
        _empty(figure, "No position samples for this scope.")
    return figure


def pnl_chart(data: ReportData) -> go.Figure:
    """Session P&L and drawdown below the peak, with the loss limit and drawdown stop."""
    points = downsample([(ts, float(p), -float(d)) for ts, p, d in data.pnl])
    figure = go.Figure(layout=_layout("Session P&L", data, height=340, y_title="quote currency"))
    figure.add_trace(
        go.Scatter(
            x=[p[0] for p in points],
            y=[p[2] for p in points],
            mode="lines",
            name="drawdown (below the peak)",
            line={"color": "rgba(214,39,40,0.6)", "width": 1},
            fill="tozeroy",
            fillcolor="rgba(214,39,40,0.12)",
            hovertemplate="drawdown %{y}<extra></extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=[p[0] for p in points],
            y=[p[1] for p in points],
            mode="lines",
            name="session P&L",
            line={"color": BLUE, "width": 1.6},
            hovertemplate="P&L %{y}<extra></extra>",
        )
    )
    if data.loss_limit is not None:
        loss = -abs(data.loss_limit)
        figure.add_trace(_level(f"loss limit {loss}", [float(loss)], data, RED, "dash"))
    if data.drawdown_stop is not None:
        stop = -abs(data.drawdown_stop)
        figure.add_trace(_level(f"drawdown stop {stop}", [float(stop)], data, ORANGE, "dash"))
    if not data.pnl:
        _empty(figure, "No P&L samples in this session.")
    return figure


def _rank(color: str) -> int:
    """Normal first, then warnings, then stops (legend order; ticks drawn over in that order)."""
    return {NORMAL: 0, ORANGE: 1, RED: 3}.get(color, 2)


def _span_text(s: Span) -> str:
    held = duration_text(s.end_ms - s.start_ms)
    when = f"{utc_text(s.start_ms)} → {utc_text(s.end_ms)}"
    return f"{escape(s.row)}<br>{escape(s.status)} for {held}<br>{when}"


def _span_bars(status: str, held: list[Span], color: str) -> go.Bar:
    shown, step = thin(held)
    return go.Bar(
        base=[s.start_ms for s in shown],
        x=[max(s.end_ms - s.start_ms, 0) for s in shown],
        y=[s.row for s in shown],
        orientation="h",
        name=_named(status, step, len(held)),
        marker={"color": color, "line": {"color": color, "width": 1}},
        width=0.6,
        text=[_span_text(s) for s in shown],
        textposition="none",
        hovertemplate="%{text}<extra></extra>",
    )


def _span_ticks(held: list[Span], color: str) -> go.Scatter:
    """A tick where each span begins: a one-second trip is under a pixel wide as a bar."""
    shown, _ = thin(held)
    marker = {"color": color, "symbol": "line-ns", "size": 16, "line": {"color": color, "width": 3}}
    trace = _markers("", [s.start_ms for s in shown], [s.row for s in shown],
                     [_span_text(s) for s in shown], marker)  # fmt: skip
    trace.showlegend = False
    return trace


def timeline_chart(data: ReportData) -> go.Figure:
    """Gantt-like spans per breaker, alert, trading state and kill switch, one colour a status."""
    held = spans(data.timeline, data.session.end_ms)
    rows = sorted({s.row for s in held}, key=lambda r: (ROW_ORDER[r.split(":")[0]], r))
    title = "Breakers, alerts and trading state"
    layout = _layout(title, data, height=140 + 28 * len(rows), y_title="")
    layout["yaxis"] = {"type": "category", "categoryorder": "array", "categoryarray": rows,
                       "autorange": "reversed", "automargin": True}  # fmt: skip
    layout["barmode"] = "overlay"
    figure = go.Figure(layout=layout)
    by_status: dict[str, list[Span]] = defaultdict(list)
    for s in held:
        by_status[s.status].append(s)
    palette = iter(BAND_COLORS * 10)
    colors = {
        status: STATUS_COLORS.get(status.lower()) or next(palette, GREY) for status in by_status
    }
    ordered = sorted(by_status, key=lambda status: (_rank(colors[status]), status))
    for status in ordered:
        figure.add_trace(_span_bars(status, by_status[status], colors[status]))
    # Ticks after every bar, so they are drawn over them; normal statuses need none.
    for status in ordered:
        if _rank(colors[status]) > 0:
            figure.add_trace(_span_ticks(by_status[status], colors[status]))
    if not rows:
        _empty(figure, "No breaker, alert or trading-state changes in this session.")
    return figure
