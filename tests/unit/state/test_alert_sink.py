"""The JSONL sink writes one flushed line per alert event and nothing for other effects."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from riskctl.kinds.alert_thresholds import Alert
from riskctl.state.alert_sink import JsonlAlertSink
from riskctl.state.alerts import initial, levels_of, observe
from riskctl.state.effects import Effect

EVENT = Effect(
    "alert",
    "daily-loss",
    "alert:daily-loss",
    detail={
        "status": "firing",
        "severity": "critical",
        "value": Decimal("40000.10"),
        "labels": {"team": "desk"},
        "channels": ["slack:#desk"],
        "at_ms": 12,
    },
)


def test_when_an_alert_is_written_then_a_line_is_readable_before_close(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    with JsonlAlertSink(path) as sink:
        assert sink.write_alerts([EVENT], at_ms=99) == 1
        line = json.loads(path.read_text(encoding="utf-8"))  # flushed: visible while open
    assert line == {
        "alert": "daily-loss", "source": "alert:daily-loss", "status": "firing",
        "severity": "critical", "value": "40000.10", "labels": {"team": "desk"},
        "channels": ["slack:#desk"], "at_ms": 12,
    }  # fmt: skip


def test_when_effects_are_not_alerts_then_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    with JsonlAlertSink(path) as sink:
        assert sink.write_alerts([Effect("record", "band_change", "band:x")], at_ms=1) == 0
    assert path.read_text(encoding="utf-8") == ""


def test_when_reopened_then_lines_are_appended(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    for _ in range(2):
        with JsonlAlertSink(path) as sink:
            sink.write_alerts([EVENT], at_ms=1)
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2


def test_when_the_event_has_no_time_then_the_call_time_is_used(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    with JsonlAlertSink(path) as sink:
        sink.write_alerts([Effect("alert", "a", "alert:a", detail={"status": "firing"})], at_ms=5)
    assert json.loads(path.read_text(encoding="utf-8"))["at_ms"] == 5


def test_when_the_alert_is_a_share_of_a_limit_then_the_line_carries_limit_level_and_share(
    tmp_path: Path,
) -> None:
    spec = Alert.model_validate(
        {"name": "loss", "metric": "-pnl.daily", "of_limit": "max_daily_loss", "warn": 80}
    )
    _, effects = observe(
        spec, initial(spec), Decimal("41000"), 7, levels=levels_of(spec, Decimal(50000))
    )
    path = tmp_path / "alerts.jsonl"
    with JsonlAlertSink(path) as sink:
        sink.write_alerts(effects, at_ms=7)
    line = json.loads(path.read_text(encoding="utf-8"))

    assert (line["status"], line["severity"], line["value"]) == ("firing", "warn", "41000")
    assert (line["of_limit"], line["limit"], line["level"]) == ("max_daily_loss", "50000", "40000")
    assert line["share_pct"] == "82"
