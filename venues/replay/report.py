"""``riskctl replay --report FILE.html``: one self-contained HTML page of a replayed session.

The page holds, in order: a header (session, policy bundle, the replay's summary); per
venue:symbol a price chart (mid, orders allowed / modified / rejected with their reasons,
fills, rejects without an order) and a position chart (bands, ±limits); the session P&L
against the loss limit and drawdown stop; a timeline of breakers, alerts, trading state
and the kill switch; and a table of every reject with its reasons.

plotly draws the charts and its JavaScript is inlined (about 4.8 MB), so the file opens
offline and references nothing on the network. plotly is the optional extra ``report``
(``pip install 'riskctl[report]'``); it is imported only when a report is rendered.
All zooms are kept in step: every chart's x axis is the session's time.

Input: see :mod:`riskctl.venues.replay.report_data` (numbers as ``str`` or ``Decimal``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

from riskctl.venues.replay.report_data import ReportData, ReportError, duration_text, load, utc_text

__all__ = ["ReportError", "render_report", "write_report"]

_NUMBER = re.compile(r"-?\d+(\.\d+)?")  # a Decimal given as str: right-aligned like one
_CONFIG = {"displaylogo": False, "responsive": True, "scrollZoom": False}

# Double-click resets every chart; a zoom or pan on one moves the others (same time axis).
_SYNC_JS = """
(function () {
  var charts = Array.prototype.slice.call(document.querySelectorAll('.plotly-graph-div'));
  var busy = false;
  charts.forEach(function (source) {
    source.on('plotly_relayout', function (ev) {
      if (busy) { return; }
      var update = null;
      if (ev['xaxis.autorange']) { update = {'xaxis.autorange': true}; }
      else if ('xaxis.range[0]' in ev) {
        update = {'xaxis.range': [ev['xaxis.range[0]'], ev['xaxis.range[1]']]};
      } else if (ev['xaxis.range']) { update = {'xaxis.range': ev['xaxis.range']}; }
      if (update === null) { return; }
      busy = true;
      Promise.all(charts.filter(function (c) { return c !== source; })
        .map(function (c) { return Plotly.relayout(c, update); }))
        .then(function () { busy = false; }, function () { busy = false; });
    });
  });
})();
"""

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #222; background: #f6f7f9; }
header, section { background: #fff; margin: 12px 16px; padding: 12px 16px;
                  border: 1px solid #e1e4e8; border-radius: 6px; }
h1 { font-size: 20px; margin: 0 0 6px; } h2 { font-size: 16px; margin: 4px 0 10px; }
.meta { color: #555; font-size: 13px; margin: 2px 0; }
.tables { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #e1e4e8; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f0f2f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td table { font-size: 12px; } td table td, td table th { border-color: #eef0f3; }
.scroll { max-height: 640px; overflow: auto; }
.scroll thead th { position: sticky; top: 0; }
.reasons div { margin: 1px 0; } .rule { font-family: ui-monospace, monospace; color: #b3261e; }
"""


def _plotly() -> tuple[Any, str]:
    """plotly.io and plotly.js's text, or an error that says how to install them."""
    try:
        import plotly.io as pio  # noqa: PLC0415  # optional extra: only when a report is made
        from plotly.offline import get_plotlyjs  # noqa: PLC0415
    except ImportError:
        raise ReportError(
            "report.plotly-missing",
            "the HTML report needs plotly; install it with: pip install 'riskctl[report]'",
        ) from None
    return pio, str(get_plotlyjs())


def _cell(value: Any) -> str:
    """A summary value as HTML: a small dict becomes a nested table, a ``*_ms`` gets a span."""
    if isinstance(value, Mapping):
        rows = "".join(f"<tr><th>{escape(str(k))}</th>{_td(v)}</tr>" for k, v in value.items())
        return f"<table>{rows}</table>"
    if isinstance(value, list | tuple):
        return escape(", ".join(str(v) for v in value))
    return escape(str(value))


def _td(value: Any, key: str = "") -> str:
    numeric = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    numeric = numeric or (isinstance(value, str) and _NUMBER.fullmatch(value) is not None)
    text = _cell(value)
    if numeric and key.endswith("_ms") and isinstance(value, int):
        text += f" <span class=meta>({duration_text(value)})</span>"
    return f"<td class=num>{text}</td>" if numeric else f"<td>{text}</td>"


def _header(data: ReportData) -> str:
    s, p = data.session, data.policies
    versions = "".join(
        f"<tr><td>{escape(name)}</td><td class=num>{v}</td></tr>"
        for name, v in sorted(p.versions.items())
    )
    summary = "".join(
        f"<tr><th>{escape(str(k))}</th>{_td(v, str(k))}</tr>" for k, v in data.summary.items()
    )
    return (
        f"<header><h1>{escape(data.title)}</h1>"
        f"<p class=meta>Session <code>{escape(s.path)}</code>: {s.events:,} events, "
        f"{utc_text(s.start_ms)} → {utc_text(s.end_ms)} "
        f"({duration_text(s.end_ms - s.start_ms)})</p>"
        f"<p class=meta>Policy bundle <code>{escape(p.hash)}</code></p>"
        "<div class=tables>"
        f"<table><thead><tr><th colspan=2>Summary</th></tr></thead>{summary}</table>"
        f"<table><thead><tr><th>Policy</th><th>version</th></tr></thead>{versions}</table>"
        "</div></header>"
    )


def _rejects(data: ReportData) -> str:
    rows = []
    for r in sorted(data.rejects, key=lambda r: r.ts_ms):
        reasons = "".join(
            f"<div><span class=rule>{escape(x.rule_id)}</span> {escape(x.message)}</div>"
            for x in r.reasons
        )
        rows.append(
            f"<tr><td>{utc_text(r.ts_ms)}</td><td>{escape(r.stage)}</td>"
            f"<td>{escape(r.scope or '')}</td><td>{escape(r.client_order_id or '')}</td>"
            f"<td class=reasons>{reasons}</td></tr>"
        )
    body = "".join(rows) or "<tr><td colspan=5>No rejects in this session.</td></tr>"
    return (
        f"<section id=rejects><h2>Rejects ({len(data.rejects):,})</h2><div class=scroll>"
        "<table><thead><tr><th>time</th><th>stage</th><th>scope</th><th>client order id</th>"
        f"<th>reasons</th></tr></thead><tbody>{body}</tbody></table></div></section>"
    )


def render_report(data: Mapping[str, Any]) -> str:
    """The report as one HTML text; the same data gives the same text (no random ids).

    Raises :class:`ReportError`: ``report.bad-data`` with the location of the first bad
    value, or ``report.plotly-missing`` when the ``report`` extra is not installed.
    """
    checked = load(data)
    pio, plotly_js = _plotly()
    from riskctl.venues.replay import report_charts as charts  # noqa: PLC0415  # imports plotly

    figures: list[tuple[str, str, Any]] = []
    for i, scope in enumerate(checked.scopes()):
        figures.append(
            (f"price-{i}", f"Price and orders — {scope}", charts.price_chart(checked, scope))
        )
        figures.append(
            (f"position-{i}", f"Position — {scope}", charts.position_chart(checked, scope))
        )
    figures.append(("pnl", "Session P&L", charts.pnl_chart(checked)))
    figures.append(("timeline", "Timeline", charts.timeline_chart(checked)))
    sections = "".join(
        f"<section class=chart id=section-{div_id} aria-label='{escape(label)}'>"
        + pio.to_html(
            figure,
            full_html=False,
            include_plotlyjs=False,
            div_id=div_id,
            config=_CONFIG,
            default_height=figure.layout.height,
        )
        + "</section>"
        for div_id, label, figure in figures
    )
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width, initial-scale=1'>"
        f"<title>{escape(checked.title)}</title><style>{_CSS}</style>"
        f"<script>{plotly_js}</script>"
        f"</head><body>{_header(checked)}{sections}{_rejects(checked)}"
        f"<script>{_SYNC_JS}</script></body></html>\n"
    )


def write_report(data: Mapping[str, Any], path: Path) -> None:
    """Render and write the report; the file appears whole or not at all."""
    text = render_report(data)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
