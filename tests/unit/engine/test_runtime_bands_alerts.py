"""Inventory bands and alerts under the StatefulGate: a band reached by fills blocks orders
that grow the position and lets exits pass; an alert fires after its for_ms, once."""

from __future__ import annotations

from pathlib import Path

from gatekit import make_gate, pre_trade

from riskctl import Gate, Outcome
from riskctl.runtime import StatefulGate
from riskctl.state import MemoryStore

T0 = 1_700_000_000_000

BANDS = """\
apiVersion: riskctl/v1
kind: InventoryBands
metadata: {name: test-bands, version: 1, owner: tests}
spec:
  sets:
    - scope: {symbol: BTC/USDT}
      measure: position_ratio
      hysteresis: 0.05
      max_hold_ms: 60000
      bands:
        - {name: NORMAL, up_to: 0.5}
        - {name: HEAVY, up_to: 1, block_increasing: true, alert: true}
"""
ALERTS = """\
apiVersion: riskctl/v1
kind: AlertThresholds
metadata: {name: test-alerts, version: 1, owner: tests}
spec:
  alerts:
    - {name: long, stage: pre_trade, metric: position.qty, warn: 5, for_ms: 1000}
"""


def gate(tmp_path: Path) -> StatefulGate:
    make_gate(tmp_path, {"max_order_qty": 50, "max_position_qty": 10})
    (tmp_path / "bands.yaml").write_text(BANDS, encoding="utf-8")
    (tmp_path / "alerts.yaml").write_text(ALERTS, encoding="utf-8")
    return StatefulGate(Gate.from_path(tmp_path), MemoryStore())


def buy(
    runtime: StatefulGate, cid: str, qty: str, at: int, side: str = "buy", *, venue: str = "binance"
):
    order = {"client_order_id": cid, "side": side, "qty": qty, "venue": venue}
    data = pre_trade(order=order) | {"now_ms": at}
    step = runtime.evaluate("pre_trade", data)
    if step.decision.allowed:
        runtime.evaluate(
            "fill",
            {
                "now_ms": at + 1,
                "fill": {
                    "venue": venue,
                    "symbol": "BTC/USDT",
                    "client_order_id": cid,
                    "trade_id": f"t-{cid}",
                    "side": side,
                    "qty": qty,
                    "price": "100",
                    "ts_ms": at,
                },
                "books": {"position_qty": "0"},
            },
        )
    return step


def test_when_fills_move_the_position_into_a_blocking_band_then_only_exits_pass(
    tmp_path,
) -> None:
    runtime = gate(tmp_path)
    buy(runtime, "a", "6", T0)  # 0.6 of max_position_qty: HEAVY
    assert runtime.describe()["bands"] == {"*/BTC/USDT": "HEAVY"}
    more = buy(runtime, "b", "1", T0 + 10)
    assert "state.band_blocks_increasing" in [hit.code for hit in more.decision.hits]
    exit_ = buy(runtime, "c", "1", T0 + 20, side="sell")  # 0.5: still HEAVY (hysteresis)
    assert exit_.decision.outcome is Outcome.ALLOW
    assert runtime.describe()["bands"] == {"*/BTC/USDT": "HEAVY"}
    buy(runtime, "d", "1", T0 + 30, side="sell")  # 0.4 <= 0.5 - 0.05: back to NORMAL
    assert runtime.describe()["bands"] == {"*/BTC/USDT": "NORMAL"}
    assert buy(runtime, "e", "1", T0 + 40).decision.outcome is Outcome.ALLOW


def test_when_a_position_is_held_past_max_hold_ms_then_it_is_flattened_once(tmp_path) -> None:
    runtime = gate(tmp_path)
    buy(runtime, "a", "1", T0)
    quiet = buy(runtime, "b", "1", T0 + 30_000)
    assert "flatten" not in [e.name for e in quiet.effects]
    held = runtime.evaluate("pre_trade", pre_trade() | {"now_ms": T0 + 61_000})
    later = runtime.evaluate("pre_trade", pre_trade() | {"now_ms": T0 + 62_000})
    assert [e.name for e in held.effects].count("flatten") == 1
    assert "flatten" not in [e.name for e in later.effects]


def test_when_an_alert_metric_stays_breached_for_for_ms_then_it_fires_once(tmp_path) -> None:
    runtime = gate(tmp_path)
    buy(runtime, "a", "6", T0)
    first = runtime.evaluate("pre_trade", pre_trade() | {"now_ms": T0 + 100})
    assert runtime.describe()["alerts"]["long"]["status"] == "pending"
    fired = runtime.evaluate("pre_trade", pre_trade() | {"now_ms": T0 + 1100})
    again = runtime.evaluate("pre_trade", pre_trade() | {"now_ms": T0 + 1200})
    assert [e.detail["status"] for e in first.effects if e.name == "long"] == ["pending"]
    assert [e.detail["status"] for e in fired.effects if e.name == "long"] == ["firing"]
    assert [e for e in again.effects if e.name == "long"] == []
    assert runtime.describe()["alerts"]["long"] == {"status": "firing", "severity": "warn"}


# -- alerts at a share of a limit (of_limit) ---------------------------------------------


def share_gate(tmp_path: Path, alert: str, *, btc_max_qty: int = 10, store=None) -> StatefulGate:
    """Limits with max_position_qty 20 by default and ``btc_max_qty`` for BTC/USDT, one alert."""
    make_gate(
        tmp_path,
        {"max_order_qty": 50, "max_position_qty": 20},
        scoped=(({"symbol": "BTC/USDT"}, {"max_position_qty": btc_max_qty}),),
    )
    document = "\n".join(ALERTS.splitlines()[:-1]) + f"\n    - {alert}\n"
    (tmp_path / "alerts.yaml").write_text(document, encoding="utf-8")
    return StatefulGate(Gate.from_path(tmp_path), store if store is not None else MemoryStore())


BTC_SHARE = (
    "{name: btc-position, stage: pre_trade, metric: abs(position.qty), scope: {symbol: BTC/USDT},"
    " of_limit: max_position_qty, warn: 50, critical: 80}"
)


def events(step, name: str) -> list[dict[str, object]]:
    return [dict(e.detail) for e in step.effects if e.kind == "alert" and e.name == name]


def test_when_an_alert_is_a_share_of_a_scoped_limit_then_it_fires_past_that_share(
    tmp_path: Path,
) -> None:
    runtime = share_gate(tmp_path, BTC_SHARE)
    buy(runtime, "a", "5", T0)
    at_half = runtime.evaluate("pre_trade", pre_trade() | {"now_ms": T0 + 10})  # 5 of 10: 50%
    buy(runtime, "b", "1", T0 + 20)
    past = runtime.evaluate("pre_trade", pre_trade() | {"now_ms": T0 + 30})  # 6 of 10

    assert events(at_half, "btc-position") == []
    (fired,) = events(past, "btc-position")
    assert (fired["status"], fired["severity"], fired["value"]) == ("firing", "warn", "6")
    assert (fired["limit"], fired["level"], fired["share_pct"]) == ("10", "5", "60")


def test_when_the_limit_changes_then_the_unedited_alert_follows_it_with_its_state(
    tmp_path: Path,
) -> None:
    store = MemoryStore()
    runtime = share_gate(tmp_path, BTC_SHARE, store=store)
    buy(runtime, "a", "6", T0)
    runtime.evaluate("pre_trade", pre_trade() | {"now_ms": T0 + 10})
    assert runtime.describe()["alerts"]["btc-position"] == {"status": "firing", "severity": "warn"}
    alerts_before = (tmp_path / "alerts.yaml").read_text(encoding="utf-8")

    restarted = share_gate(tmp_path, BTC_SHARE, btc_max_qty=7, store=store)  # 6 of 7: 85.7%
    step = restarted.evaluate("pre_trade", pre_trade() | {"now_ms": T0 + 20})

    assert (tmp_path / "alerts.yaml").read_text(encoding="utf-8") == alerts_before
    (escalated,) = events(step, "btc-position")
    assert (escalated["severity"], escalated["previous"]) == ("critical", "warn")
    assert (escalated["limit"], escalated["level"]) == ("7", "5.6")
    assert escalated["share_pct"] == "85.71428571"


def test_when_no_risk_limits_sets_the_limit_then_the_alert_says_why_once_and_never_fires(
    tmp_path: Path,
) -> None:
    alert = "{name: dd, stage: pre_trade, metric: position.qty, of_limit: max_drawdown, warn: 1}"
    runtime = share_gate(tmp_path, alert)
    steps = [buy(runtime, c, "6", T0 + i) for c, i in (("a", 0), ("b", 10), ("c", 20))]

    records = [e for s in steps for e in s.effects if e.source == "alert:dd"]
    assert [(e.kind, e.name) for e in records] == [("record", "levels_unavailable")]
    assert "No max_drawdown is set for the pairs alert dd watches" in records[0].message
    assert runtime.describe()["alerts"]["dd"] == {"status": "inactive", "severity": None}


def test_when_the_limit_varies_across_the_scope_then_the_runtime_alerts_at_the_smallest(
    tmp_path: Path,
) -> None:
    # BTC/USDT 10, ETH/USDT 20: lint refuses this (alert.limit-varies); the runtime, which
    # may run it anyway, fails toward alerting.
    alert = (
        "{name: any-position, stage: pre_trade, metric: abs(position.qty),"
        " of_limit: max_position_qty, warn: 50}"
    )
    runtime = share_gate(tmp_path, alert)
    buy(runtime, "a", "6", T0)
    step = runtime.evaluate("pre_trade", pre_trade() | {"now_ms": T0 + 10})

    (fired,) = events(step, "any-position")
    assert (fired["status"], fired["limit"]) == ("firing", "10")


def _monitor(runtime: StatefulGate, venue: str, at: int):
    return runtime.evaluate("monitor", {"now_ms": at, "venue": venue, "symbol": "BTC/USDT"})


def test_a_set_scoped_by_symbol_keeps_one_band_per_venue(tmp_path) -> None:
    """binance's long position holds HEAVY while okx's flat book says NORMAL: neither moves
    the other (one shared state would flap between them on every monitor tick)."""
    runtime = gate(tmp_path)
    entered = buy(runtime, "a", "6", T0)  # binance 0.6: HEAVY
    buy(runtime, "b", "1", T0 + 10, venue="okx")  # okx 0.1: NORMAL
    flat_okx = _monitor(runtime, "okx", T0 + 20)
    assert not [e for e in flat_okx.effects if e.kind == "record" and e.name == "band"]
    view = runtime.describe()
    assert view["band_pairs"] == {
        "*/BTC/USDT@binance:BTC/USDT": "HEAVY",
        "*/BTC/USDT@okx:BTC/USDT": "NORMAL",
    }
    assert view["bands"] == {"*/BTC/USDT": "HEAVY"}  # a set shows its highest pair
    more_binance = buy(runtime, "c", "1", T0 + 30)
    more_okx = buy(runtime, "d", "1", T0 + 40, venue="okx")
    assert "state.band_blocks_increasing" in [h.code for h in more_binance.decision.hits]
    assert more_okx.decision.outcome is Outcome.ALLOW
    assert [e.scope for e in entered.effects if e.name == "band"] == []  # moved on the fill


def test_a_band_effect_is_scoped_to_the_pair_whose_position_moved(tmp_path) -> None:
    runtime = gate(tmp_path)
    buy(runtime, "a", "6", T0, venue="okx")  # the band moves on the fill
    records = [
        e for e in runtime.store.audit() if e.kind == "decision" and e.body["stage"] == "fill"
    ]
    moved = [x for x in records[-1].body.get("effects", []) if x["name"] == "band"]
    assert moved
    assert moved[0]["scope"] == {"venue": "okx", "symbol": "BTC/USDT"}


def test_a_band_row_of_the_older_layout_holds_every_pair_until_it_has_its_own(tmp_path) -> None:
    """Rows written before bands were kept per pair (key ``*/BTC/USDT``) are not dropped:
    a HEAVY set stays HEAVY for every pair after the upgrade, until that pair moves."""
    from riskctl.state import bands as band_sets  # noqa: PLC0415
    from riskctl.state.codec import encode  # noqa: PLC0415

    store = MemoryStore()
    old = band_sets.BandState(scope="*/BTC/USDT", band=1, since_ms=T0)
    store.commit({("band", "*/BTC/USDT"): encode(old)}, [])
    make_gate(tmp_path, {"max_order_qty": 50, "max_position_qty": 10})
    (tmp_path / "bands.yaml").write_text(BANDS, encoding="utf-8")
    (tmp_path / "alerts.yaml").write_text(ALERTS, encoding="utf-8")
    runtime = StatefulGate(Gate.from_path(tmp_path), store)
    blocked = runtime.evaluate("pre_trade", pre_trade() | {"now_ms": T0 + 5})
    assert "state.band_blocks_increasing" in [h.code for h in blocked.decision.hits]
    _monitor(runtime, "binance", T0 + 10)  # binance is flat: its own state, NORMAL
    assert runtime.evaluate("pre_trade", pre_trade() | {"now_ms": T0 + 20}).decision.allowed
    okx = pre_trade(order={"venue": "okx", "client_order_id": "o"}) | {"now_ms": T0 + 30}
    assert "state.band_blocks_increasing" in [
        h.code for h in runtime.evaluate("pre_trade", okx).decision.hits
    ]


PER_PAIR = """\
apiVersion: riskctl/v1
kind: AlertThresholds
metadata: {{name: lag-alerts, version: 1, owner: tests}}
spec:
  alerts:
    - {{name: lag, metric: health.feed_age_ms, warn: 1000, for_ms: 10000, per: {per}}}
"""


def lag_runtime(tmp_path: Path, per: str) -> StatefulGate:
    make_gate(tmp_path, {"max_order_qty": 50})
    (tmp_path / "alerts.yaml").write_text(PER_PAIR.format(per=per), encoding="utf-8")
    return StatefulGate(Gate.from_path(tmp_path), MemoryStore())


def snapshots(runtime: StatefulGate, seconds: int) -> list:
    """A monitor context per pair each second: BTC's feed fresh, ETH's stalled 5 s."""
    effects = []
    for s in range(seconds):
        for symbol, age in (("BTC/USDT", 50), ("ETH/USDT", 5_000)):
            context = {"now_ms": T0 + 1_000 * s, "venue": "binance", "symbol": symbol,
                       "account": {"equity": "100000", "available_balance": "100000",
                                   "balance_age_ms": 0},
                       "health": {"feed_age_ms": age, "feed_connected": True}}  # fmt: skip
            effects += runtime.evaluate("monitor", context).effects
    return [e for e in effects if e.kind == "alert"]


def test_an_alert_kept_per_pair_fires_for_the_stalled_book_a_fresh_one_cannot_clear(
    tmp_path,
) -> None:
    runtime = lag_runtime(tmp_path, "pair")
    fired = [e for e in snapshots(runtime, 12) if e.detail["status"] == "firing"]
    assert [e.scope for e in fired] == [("binance", "ETH/USDT")]  # once, for ETH only
    assert fired[0].detail["labels"] == {"venue": "binance", "symbol": "ETH/USDT"}
    view = runtime.describe()
    assert view["alerts"]["lag"] == {"status": "firing", "severity": "warn"}  # the worst pair
    # BTC's instance never left inactive, so it has no row: only pairs with a state show.
    assert view["alert_pairs"] == {"lag@binance:ETH/USDT": {"status": "firing", "severity": "warn"}}


def test_an_alert_kept_per_alert_is_reset_by_each_fresh_book_and_never_fires(tmp_path) -> None:
    """Why per: pair exists: one state over both books flaps pending/inactive for ever."""
    runtime = lag_runtime(tmp_path, "alert")
    statuses = [e.detail["status"] for e in snapshots(runtime, 12)]
    assert statuses == ["pending"] * 12  # ETH breaches, BTC clears, again and again
    assert runtime.describe()["alert_pairs"] == {}
