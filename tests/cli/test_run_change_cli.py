"""`riskctl run` and change control, as a bot meets them: a real subprocess that reloads an
applied change, reverts an expired override and lets the watchdog revert a bad change, each
reported as a JSON line on stderr, while stdout keeps one decision per input line."""

from __future__ import annotations

import datetime as dt
import json
import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from clikit import REPO, RISKCTL, riskctl

T0 = 1_765_108_800_000


def make_policies(tmp_path: Path) -> Path:
    """max_order_qty 5, advisors 20% a step; the watchdog reverts past a P&L fall of 100."""
    return Path(shutil.copytree(REPO / "tests" / "data" / "change" / "book", tmp_path / "p"))


class Run:
    """A `riskctl run` subprocess: send lines, read decisions, wait for stderr events."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        assert process.stderr is not None
        threading.Thread(target=self._read, args=(process.stderr,), daemon=True).start()
        self.n = 0

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.events.put(json.loads(line))  # anything else on stderr fails the test here

    def send(self, *items: dict[str, Any]) -> list[dict[str, Any]]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        for item in items:
            self.process.stdin.write(json.dumps(item) + "\n")
        self.process.stdin.flush()
        return [json.loads(self.process.stdout.readline()) for _ in items]

    def wait_for(self, event: str, timeout_s: float = 15) -> dict[str, Any]:
        while True:
            got = self.events.get(timeout=timeout_s)
            self.seen.append(got)
            if got["event"] == event:
                return got

    def order(self, qty: str, *, side: str = "buy", price: str = "100") -> dict[str, Any]:
        self.n += 1
        return {
            "stage": "pre_trade",
            "context": {
                "now_ms": T0 + self.n * 1000,
                "order": {"venue": "binance", "symbol": "BTC/USDT", "side": side, "qty": qty,
                          "price": price, "client_order_id": f"c-{self.n}", "strategy": "mm"},
                "market": {"bid": price, "ask": price, "age_ms": 0},
                "account": {"equity": "100000", "available_balance": "100000",
                            "balance_age_ms": 0},
            },
        }  # fmt: skip

    def fill(self, placed: dict[str, Any]) -> dict[str, Any]:
        order = placed["context"]["order"]
        at = placed["context"]["now_ms"] + 1
        return {
            "stage": "fill",
            "context": {
                "now_ms": at,
                "fill": {"venue": "binance", "symbol": "BTC/USDT", "side": order["side"],
                         "client_order_id": order["client_order_id"], "qty": order["qty"],
                         "price": order["price"], "trade_id": f"t-{order['client_order_id']}",
                         "ts_ms": at},
                "books": {"position_qty": "0"},
            },
        }  # fmt: skip


@contextmanager
def running(policies: Path) -> Iterator[Run]:
    with subprocess.Popen(
        [str(RISKCTL), "run", "--policies", str(policies), "--memory"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        run = Run(process)
        yield run
        assert process.stdin is not None
        process.stdin.close()
        assert process.wait(timeout=30) == 0


def apply_change(tmp_path: Path, policies: Path, to: str, **extra: Any) -> None:
    proposal = tmp_path / "proposal.json"
    proposal.write_text(
        json.dumps(
            {
                "author": "tuning-agent",
                "rationale": "smaller clips",
                "changes": [{"policy": "RiskLimits/book", "path": "spec.defaults.max_order_qty",
                             "from": "5", "to": to}],
                **extra,
            }
        )
    )  # fmt: skip
    plan = tmp_path / "plan.json"
    proposed = riskctl("propose", proposal, "--policies", policies, "--out", plan)
    assert proposed.returncode == 0, proposed.stdout
    applied = riskctl("apply", plan)
    assert applied.returncode == 0, applied.stdout


def kinds(policies: Path) -> list[str]:
    listed = riskctl("history", "--policies", policies, "--verify", "--format", "json")
    assert listed.returncode == 0, listed.stdout
    return [r["kind"] for r in json.loads(listed.stdout)["receipts"]]


def test_when_an_override_expires_during_a_run_then_it_reverts_and_the_gate_serves_it(
    tmp_path: Path,
) -> None:
    policies = make_policies(tmp_path)
    until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=6)  # propose + apply take ~2 s
    apply_change(tmp_path, policies, "4.5", expires_at=until.isoformat())

    with running(policies) as run:
        [during] = run.send(run.order("4.8"))
        expired = run.wait_for("change.expiry")
        reloaded = run.wait_for("change.reload")
        [after] = run.send(run.order("4.8"))

    assert during["outcome"] == "reject"
    assert expired["kind"] == "expiry"
    assert expired["reverts_seq"] == 1
    assert expired["changes"][0]["to"] == {"decimal": "5"}
    assert reloaded["bundle_hash"] == expired["new_bundle_hash"]
    assert after["outcome"] == "allow"
    assert after["bundle"]["versions"]["RiskLimits/book"] == 3
    assert "max_order_qty: 5," in (policies / "limits.yaml").read_text()
    assert kinds(policies) == ["change", "expiry"]


def test_when_pnl_falls_after_an_advisor_change_then_the_watchdog_reverts_it_with_a_receipt(
    tmp_path: Path,
) -> None:
    policies = make_policies(tmp_path)
    original = (policies / "limits.yaml").read_bytes()

    with running(policies) as run:
        run.send(run.order("1"))  # the session starts
        apply_change(tmp_path, policies, "4.5")  # another process, as an advisor would
        run.wait_for("change.reload")
        for _ in range(3):  # -40 a round trip: -120 is past the drop of 100
            buy, sell = run.order("1"), run.order("1", side="sell", price="60")
            run.send(buy, run.fill(buy), sell, run.fill(sell))
        reverted = run.wait_for("change.watchdog")
        run.wait_for("change.reload")
        [after] = run.send(run.order("4.8"))

    assert reverted["watchdog"]["metric"] == "session_pnl"
    assert reverted["watchdog"]["before"] == "0"
    assert reverted["watchdog"]["after"] == "-120"
    assert reverted["watchdog"]["threshold"] == "100"
    assert reverted["kind"] == "watchdog"
    assert after["outcome"] == "allow"
    assert (policies / "limits.yaml").read_bytes() == original
    assert kinds(policies) == ["change", "watchdog"]
    log = policies / ".riskctl" / "changes.jsonl"
    first, second = log.read_text().splitlines()
    edited = json.loads(second)
    edited["watchdog"]["threshold"] = "1000"
    log.write_text(first + "\n" + json.dumps(edited) + "\n")
    broken = riskctl("history", "--policies", policies, "--verify")
    assert broken.returncode == 1
    assert "line 2: change.log-hash-mismatch" in broken.stdout
