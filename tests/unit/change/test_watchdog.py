"""The watchdog's config (model and lint) and the reject counts it keeps."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from riskctl.change.watchdog import RejectCounts
from riskctl.kinds.change_control import Watchdog
from riskctl.lint import lint_paths

REPO = Path(__file__).resolve().parents[3]


def findings(policies: Path, old: str, new: str) -> list[tuple[str, int]]:
    control = policies / "change-control.yaml"
    text = control.read_text()
    assert old in text
    control.write_text(text.replace(old, new))
    report = lint_paths([policies])
    return [(d.code, d.location.line) for d in report.diagnostics]


def test_shipped_watchdog_when_linted_then_clean() -> None:
    report = lint_paths([REPO / "policies"])

    assert not [d for d in report.diagnostics if d.code.startswith("watchdog.")]


def test_drop_when_past_the_daily_loss_limit_then_too_late(policies: Path) -> None:
    found = findings(policies, "drop: 10000 ", "drop: 50000 ")

    assert found == [("watchdog.drop-beyond-loss-limit", 46)]


def test_factor_when_not_above_one_then_refused_at_its_field() -> None:
    with pytest.raises(ValidationError) as raised:
        Watchdog.model_validate(
            {"window_ms": 60_000, "rejects_per_minute": {"factor": 1, "min_rejects": 3}}
        )

    [error] = raised.value.errors()
    assert error["loc"] == ("rejects_per_minute", "factor")


def test_watchdog_when_it_watches_no_metric_then_refused() -> None:
    with pytest.raises(ValidationError, match="watches at least one of session_pnl"):
        Watchdog.model_validate({"window_ms": 60_000})


def test_reject_counts_when_older_than_kept_then_forgotten() -> None:
    counts = RejectCounts(keep_ms=10_000)
    counts.seen(1_000, rejected=False)
    for at in (1_000, 1_500, 5_000, 20_000):
        counts.seen(at, rejected=True)

    assert counts.first_ms == 1_000
    assert counts.since(0) == 1  # 1,000 .. 5,000 fell out of the 10 s kept at 20,000
    assert counts.since(20_000) == 1
    assert counts.since(21_000) == 0
