"""What `riskctl run` does for change control, in process: reload on a receipt, expire due
overrides, and the watchdog reverting an advisor change with a receipt naming the metric."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest

from riskctl import Gate, change
from riskctl.bundle import load_bundle
from riskctl.change.follow import ChangeFollower
from riskctl.change.receipts import read_receipts
from riskctl.runtime import StatefulGate
from riskctl.state import MemoryStore

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
T0 = 1_765_108_800_000  # NOW in ms: context time and wall time agree, as in a live run
QTY = "spec.defaults.max_order_qty"
# max_order_qty 5 (advisors: 1 to 10, 20% a step); watchdog: session_pnl drop 100,
# rejects_per_minute factor 2 once 3 were rejected, for 10 minutes after a change
BOOK = Path(__file__).resolve().parents[2] / "data" / "change" / "book"


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    return Path(shutil.copytree(BOOK, tmp_path / "policies"))


class Bot:
    """A runtime, its follower, the events it reported and a clock the test moves."""

    def __init__(self, policies: Path) -> None:
        self.now = NOW
        self.events: list[dict[str, Any]] = []
        self.runtime = StatefulGate(Gate.from_path(policies), MemoryStore())
        self.follower = ChangeFollower(
            self.runtime, [policies], report=self.events.append, clock=lambda: self.now
        )
        self.at_ms = T0
        self.orders = 0

    def send(self, *items: tuple[str, dict[str, Any]]) -> list[str]:
        steps = self.runtime.evaluate_many(items)
        self.follower.after(steps)
        return [str(s.decision.outcome) for s in steps]

    def order(self, qty: str, *, side: str = "buy", price: str = "100") -> tuple[str, Any]:
        self.orders += 1
        self.at_ms += 1000
        order = {
            "venue": "binance",
            "symbol": "BTC/USDT",
            "strategy": "mm",
            "side": side,
            "qty": qty,
            "price": price,
            "client_order_id": f"c-{self.orders}",
        }
        return "pre_trade", {
            "now_ms": self.at_ms,
            "order": order,
            "market": {"bid": price, "ask": price, "age_ms": 0},
            "account": {"equity": "100000", "available_balance": "100000", "balance_age_ms": 0},
        }

    def fill(self, order: tuple[str, Any]) -> tuple[str, Any]:
        placed = order[1]["order"]
        self.at_ms += 1
        return "fill", {
            "now_ms": self.at_ms,
            "fill": {
                **{k: placed[k] for k in ("venue", "symbol", "client_order_id", "side")},
                "trade_id": f"t-{placed['client_order_id']}",
                "qty": placed["qty"],
                "price": placed["price"],
                "ts_ms": self.at_ms,
            },
            "books": {"position_qty": "0"},
        }

    def round_trip_losing_40(self) -> None:
        buy, sell = self.order("1"), self.order("1", side="sell", price="60")
        self.send(buy, self.fill(buy))
        self.send(sell, self.fill(sell))

    def named(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == event]


def tighten(policies: Path, to: str, **extra: Any) -> dict[str, Any]:
    body = {"author": "tuning-agent", "rationale": "test",
            "changes": [{"policy": "RiskLimits/book", "path": QTY, "to": to}], **extra}  # fmt: skip
    result = change.apply(change.propose(body, policies=policies, now=NOW), now=NOW)
    assert result.receipt is not None, result.refusals
    return result.receipt


def test_reload_when_a_receipt_appears_then_served_and_state_kept(policies: Path) -> None:
    bot = Bot(policies)
    buy = bot.order("1")
    bot.send(buy, bot.fill(buy))
    receipt = tighten(policies, "4.5")

    bot.follower.tick()

    assert bot.named("change.reload")[0]["bundle_hash"] == receipt["new_bundle_hash"]
    assert bot.runtime.gate.bundle.hash == receipt["new_bundle_hash"]
    assert bot.runtime.position("binance", "BTC/USDT") == 1  # state survived the reload
    assert bot.send(bot.order("4.8")) == ["reject"]


def test_watchdog_when_pnl_falls_past_the_drop_then_reverted_with_a_receipt_naming_it(
    policies: Path,
) -> None:
    original = (policies / "limits.yaml").read_bytes()
    bot = Bot(policies)
    bot.send(bot.order("1"))  # the session starts at 100,000 equity
    changed = tighten(policies, "4.5")
    bot.follower.tick()

    bot.round_trip_losing_40()
    bot.round_trip_losing_40()
    kept = bot.named("change.watchdog")
    bot.round_trip_losing_40()  # -120: past the drop of 100

    assert kept == []
    [event] = bot.named("change.watchdog")
    assert event["watchdog"]["metric"] == "session_pnl"
    assert (event["watchdog"]["before"], event["watchdog"]["after"]) == ("0", "-120")
    assert event["watchdog"]["threshold"] == "100"
    receipts, _ = read_receipts(policies)
    assert receipts[-1]["kind"] == "watchdog"
    assert receipts[-1]["reverts"] == changed["hash"]
    assert receipts[-1]["watchdog"]["metric"] == "session_pnl"
    assert (policies / "limits.yaml").read_bytes() == original
    assert bot.runtime.gate.bundle.hash == load_bundle(policies).hash
    assert bot.send(bot.order("4.8")) == ["allow"]  # 5 again, served
    assert change.history(policies, verify=True).verified


def test_watchdog_when_rejects_per_minute_triple_then_reverted(policies: Path) -> None:
    bot = Bot(policies)
    for _ in range(10):
        bot.send(bot.order("1"))
    bot.send(bot.order("6"))  # one reject in the 11 s before the change: 1 per minute
    tighten(policies, "4.5")
    bot.follower.tick()

    outcomes = [bot.send(bot.order("4.8"))[0] for _ in range(3)]

    assert outcomes == ["reject"] * 3
    [event] = bot.named("change.watchdog")
    assert event["watchdog"]["metric"] == "rejects_per_minute"
    assert event["watchdog"]["before"] == "1"
    assert event["watchdog"]["after"] == "3"
    assert event["watchdog"]["threshold"] == "2"
    assert read_receipts(policies)[0][-1]["watchdog"]["rejects_after"] == 3


def test_watchdog_when_the_window_has_passed_then_the_change_stays(policies: Path) -> None:
    bot = Bot(policies)
    bot.send(bot.order("1"))
    tighten(policies, "4.5")
    bot.follower.tick()
    bot.at_ms += 600_001  # the 10-minute window is over

    for _ in range(4):
        bot.round_trip_losing_40()

    assert bot.named("change.watchdog") == []
    assert read_receipts(policies)[0][-1]["kind"] == "change"


def test_reload_when_the_new_files_do_not_lint_then_the_old_bundle_stays(policies: Path) -> None:
    bot = Bot(policies)
    served = bot.runtime.gate.bundle.hash
    tighten(policies, "4.5")
    limits = policies / "limits.yaml"
    limits.write_text(limits.read_text().replace("max_daily_loss: 10000", "max_daily_loss: -1"))

    bot.follower.tick()

    [refused] = bot.named("change.reload-refused")
    assert refused["problems"][0]["code"] == "policy.out-of-bounds"
    assert bot.runtime.gate.bundle.hash == served
    assert bot.send(bot.order("4.8")) == ["allow"]  # still the 5 in force


def test_override_when_due_then_the_follower_reverts_and_serves_it(policies: Path) -> None:
    bot = Bot(policies)
    tighten(policies, "4.5", expires_at=(NOW + dt.timedelta(hours=1)).isoformat())
    bot.follower.tick()
    rejected = bot.send(bot.order("4.8"))

    bot.now = NOW + dt.timedelta(hours=1)
    bot.follower.tick()

    assert rejected == ["reject"]
    [event] = bot.named("change.expiry")
    assert event["kind"] == "expiry"
    assert event["reverts_seq"] == 1
    assert event["changes"][0]["to"] == {"decimal": "5"}
    assert bot.send(bot.order("4.8")) == ["allow"]
    assert bot.runtime.gate.bundle.versions["RiskLimits/book"] == 3
