"""Venue commands as operators run them: real subprocesses, the real ccxt client, the mock
exchange on 127.0.0.1. Keys come from the environment and never appear in any output."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from riskctl.venues.mock_exchange import CREATE_ORDER, DEFAULT_API_SECRET, MockExchange

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from mock_fixtures import ccxt_client

REPO = Path(__file__).resolve().parents[2]
RISKCTL = Path(sys.executable).parent / "riskctl"
KEY_ENV, SECRET_ENV = "TEST_BINANCE_KEY", "TEST_BINANCE_SECRET"


@pytest.fixture
def mock():
    with MockExchange() as running:
        yield running


def config_file(tmp_path: Path, mock: MockExchange, **extra: str) -> Path:
    lines = [
        "# riskctl runtime config (test)",
        f"policies: {REPO / 'policies'}",
        "memory: true",
        "venues:",
        "  - id: binance",
        "    exchange: binance",
        f"    base_url: {mock.url}",
        f"    api_key_env: {KEY_ENV}",
        f"    secret_env: {SECRET_ENV}",
        "    options: {fetchMarkets: {types: [spot]}, fetchCurrencies: false, fetchMargins: false}",
        *(f"{k}: {v}" for k, v in extra.items()),
    ]
    path = tmp_path / "riskctl.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def riskctl(mock: MockExchange, *args: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, KEY_ENV: mock.api_key, SECRET_ENV: DEFAULT_API_SECRET, **env}
    done = subprocess.run(
        [str(RISKCTL), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=environ,
    )
    assert "Traceback" not in done.stderr + done.stdout
    assert DEFAULT_API_SECRET not in done.stderr + done.stdout
    assert mock.api_key not in done.stderr + done.stdout
    return done


def place(mock: MockExchange, *prices: str) -> None:
    async def go() -> None:
        async with ccxt_client(mock) as exchange:
            for n, price in enumerate(prices):
                params = {"clientOrderId": f"left-{n}"}
                await exchange.create_order("BTC/USDT", "limit", "buy", 0.001, price, params)

    asyncio.run(go())


def test_config_show_sources_when_env_overrides_the_file_then_it_says_so(tmp_path, mock) -> None:
    cfg = config_file(tmp_path, mock, cancel_deadline_s="3")
    done = riskctl(
        mock, "config", "show", "--config", cfg, "--sources", "--format", "json",
        RISKCTL_CANCEL_DEADLINE_S="7",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["cancel_deadline_s"] == {
        "value": 7.0,
        "source": "environment (RISKCTL_CANCEL_DEADLINE_S)",
    }
    assert shown["memory"]["source"] == f"file ({cfg})"
    assert shown["venues"]["value"][0]["api_key_env"] == f"{KEY_ENV} (set)"


def test_config_with_a_remote_base_url_is_refused_with_its_line(tmp_path, mock) -> None:
    cfg = config_file(tmp_path, mock)
    cfg.write_text(cfg.read_text().replace(mock.url, "https://api.example.com"))
    done = riskctl(mock, "config", "show", "--config", cfg)
    assert done.returncode == 2
    assert f"{cfg}:7:" in done.stderr
    assert "only http://127.0.0.1:PORT" in done.stderr


def test_cancel_all_when_orders_are_open_then_none_remain_and_exit_0(tmp_path, mock) -> None:
    place(mock, "40000", "40001")
    done = riskctl(
        mock, "cancel-all", "--config", config_file(tmp_path, mock), "--venue", "binance",
        "--format", "json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert sorted(report["requested"]) == ["left-0", "left-1"]
    assert sorted(report["confirmed_canceled"]) == ["left-0", "left-1"]
    assert report["still_open"] == []
    assert mock.open_orders() == []


def test_reconcile_when_the_venue_holds_orders_we_do_not_know_then_exit_1(tmp_path, mock) -> None:
    place(mock, "40000")
    done = riskctl(
        mock, "reconcile", "--config", config_file(tmp_path, mock), "--venue", "binance",
        "--format", "json",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert [m["kind"] for m in report["mismatches"]] == ["orphan_at_venue"]


def test_a_missing_key_variable_is_named_and_nothing_is_sent(tmp_path, mock) -> None:
    environ = {k: v for k, v in os.environ.items() if k != KEY_ENV}
    done = subprocess.run(
        [str(RISKCTL), "cancel-all", "--config", str(config_file(tmp_path, mock)),
         "--venue", "binance"],
        capture_output=True, text=True, timeout=60, check=False, env=environ,
    )  # fmt: skip
    assert done.returncode == 2
    assert f"api_key_env names {KEY_ENV}, which is not set" in done.stderr
    assert not mock.log.snapshot()


def test_instruments_pull_when_the_file_has_comments_then_they_survive(tmp_path, mock) -> None:
    out = tmp_path / "instruments.yaml"
    cfg = config_file(tmp_path, mock)
    first = riskctl(mock, "instruments", "pull", "--config", cfg, "--venue", "binance",
                    "--out", out)  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert "0 updated, 2 added" in first.stdout
    text = out.read_text()
    assert "price_increment: 0.01" in text  # exact decimals, never 1e-05 or 0.0
    assert "qty_increment: 0.00001" in text
    edited = text.replace("min_notional: 5", "min_notional: 7  # a stale hand edit", 1)
    out.write_text("# desk note: keep me\n" + edited)
    again = riskctl(mock, "instruments", "pull", "--config", cfg, "--venue", "binance",
                    "--out", out)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "1 updated, 0 added" in again.stdout
    final = out.read_text()
    assert final.startswith("# desk note: keep me\n")
    assert "min_notional: 5" in final
    assert "version: 2" in final
    lint = subprocess.run([str(RISKCTL), "lint", str(out)], capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert lint.returncode == 0, lint.stdout + lint.stderr


def pre_trade_line(cid: str, qty: str, price: str, side: str = "buy") -> str:
    context = {
        "now_ms": 1_765_000_000_000,
        "order": {"venue": "binance", "symbol": "BTC/USDT", "side": side, "type": "limit",
                  "qty": qty, "price": price, "client_order_id": cid, "strategy": "cli"},
        "market": {"bid": "50000.00", "ask": "50000.01", "age_ms": 0},
        "account": {"equity": "1000000", "available_balance": "1000000", "balance_age_ms": 0,
                    "quote_free": "1000000", "base_free": "10"},
    }  # fmt: skip
    return json.dumps({"stage": "pre_trade", "context": context})


def test_run_with_a_config_sends_what_the_gate_allows_and_reports_the_venue(tmp_path, mock) -> None:
    state = tmp_path / "state.db"
    lines = [
        pre_trade_line("ok-1", "0.01", "50000.01"),  # crosses the ask: filled
        pre_trade_line("big-1", "50", "50000.01"),  # over max_order_qty: never sent
        "{not json",
    ]
    environ = {**os.environ, KEY_ENV: mock.api_key, SECRET_ENV: DEFAULT_API_SECRET}
    done = subprocess.run(
        [str(RISKCTL), "run", "--config", str(config_file(tmp_path, mock)), "--state",
         str(state)],
        input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=60,
        check=False, env=environ,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    sent, rejected, malformed = (json.loads(line) for line in done.stdout.splitlines())
    assert sent["outcome"] == "allow"
    assert sent["venue"]["status"] == "sent"
    assert sent["venue"]["order"]["status"] == "filled"
    assert sent["venue"]["fills"][0]["outcome"] == "allow"
    assert rejected["outcome"] == "reject"
    assert rejected["venue"]["status"] == "rejected"
    assert malformed["hits"][0]["code"] == "input.invalid"
    created = [r.params.get("newClientOrderId") for r in mock.log.records(CREATE_ORDER)]
    assert created == ["ok-1"]  # the rejected order never reached the venue
    shown = subprocess.run(
        [str(RISKCTL), "state", "show", "--state", str(state), "--format", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert json.loads(shown.stdout)["positions"] == {"binance:BTC/USDT": "0.01"}


def test_run_without_a_state_a_memory_flag_or_a_config_exits_2() -> None:
    done = subprocess.run(
        [str(RISKCTL), "run"], input="", capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "--state FILE, --memory or --config FILE" in done.stderr


def open_at_mock(mock: MockExchange) -> list[str]:
    async def go() -> list[str]:
        async with ccxt_client(mock) as exchange:
            return [o["clientOrderId"] for o in await exchange.fetch_open_orders("BTC/USDT")]

    return asyncio.run(go())


def test_run_with_a_config_when_killed_while_idle_then_orders_are_canceled_at_once(
    tmp_path, mock
) -> None:
    """A bot that stopped sending still has orders resting; `riskctl kill` from another
    process cancels them within the idle poll, not at the bot's next line."""
    state = tmp_path / "state.db"
    environ = {**os.environ, KEY_ENV: mock.api_key, SECRET_ENV: DEFAULT_API_SECRET}
    with subprocess.Popen(
        [str(RISKCTL), "run", "--config", str(config_file(tmp_path, mock)), "--state",
         str(state)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=environ,
    ) as running:  # fmt: skip
        assert running.stdin is not None
        assert running.stdout is not None
        running.stdin.write(pre_trade_line("rest-1", "0.01", "49990") + "\n")
        running.stdin.flush()
        answer = json.loads(running.stdout.readline())
        assert answer["venue"]["order"]["status"] == "open", answer
        assert open_at_mock(mock) == ["rest-1"]
        killed = subprocess.run(
            [str(RISKCTL), "kill", "--state", str(state), "--by", "ops", "--reason", "test"],
            capture_output=True, text=True, check=False, timeout=30,
        )  # fmt: skip
        assert killed.returncode == 0, killed.stderr
        deadline = time.monotonic() + 15
        while open_at_mock(mock) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert open_at_mock(mock) == []  # canceled while the bot sent nothing
        running.stdin.close()
        assert running.wait(timeout=30) == 0
        stderr = running.stderr.read() if running.stderr is not None else ""
    assert "cancel-all" in stderr
    assert "Traceback" not in stderr


def test_run_with_a_config_when_a_change_is_applied_then_the_running_gate_serves_it(
    tmp_path, mock
) -> None:
    """The venue loop follows the change log like the plain one: a change applied by
    another process is reloaded (a JSON event on stderr) and decides the next order."""
    policies = Path(shutil.copytree(REPO / "policies", tmp_path / "policies"))
    config = config_file(tmp_path, mock)
    text = config.read_text(encoding="utf-8").replace(f"policies: {REPO / 'policies'}",
                                                      f"policies: {policies}")  # fmt: skip
    config.write_text(text, encoding="utf-8")
    proposal = tmp_path / "proposal.yaml"
    proposal.write_text(
        "author: tuning-agent\nrationale: smaller BTC clips\nchanges:\n"
        "  - {policy: RiskLimits/btc-eth-mm, path: 'spec.scoped[0].max_order_qty',"
        " from: 5, to: 4}\n",
        encoding="utf-8",
    )
    environ = {**os.environ, KEY_ENV: mock.api_key, SECRET_ENV: DEFAULT_API_SECRET}
    with subprocess.Popen(
        [str(RISKCTL), "run", "--config", str(config)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=environ,
    ) as running:  # fmt: skip
        assert running.stdin is not None
        assert running.stdout is not None
        assert running.stderr is not None
        running.stdin.write(pre_trade_line("before", "4.5", "49990") + "\n")
        running.stdin.flush()
        before = json.loads(running.stdout.readline())
        plan = tmp_path / "plan.json"
        proposed = riskctl(mock, "propose", proposal, "--policies", policies, "--out", plan)
        assert proposed.returncode == 0, proposed.stdout
        assert riskctl(mock, "apply", plan).returncode == 0
        events: queue.Queue[str] = queue.Queue()
        threading.Thread(
            target=lambda: [events.put(x) for x in running.stderr], daemon=True
        ).start()
        reload_event = None
        deadline = time.monotonic() + 20  # the loop ticks the follower while idle (~1 s)
        while reload_event is None and time.monotonic() < deadline:
            try:
                line = events.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line.startswith("{") and json.loads(line).get("event") == "change.reload":
                reload_event = json.loads(line)
        running.stdin.write(pre_trade_line("after", "4.5", "49990") + "\n")
        running.stdin.flush()
        after = json.loads(running.stdout.readline())
        running.stdin.close()
        assert running.wait(timeout=30) == 0
    assert before["outcome"] == "allow", before
    assert reload_event is not None
    assert after["outcome"] == "reject"
    assert "max_order_qty" in {h["rule_id"].rpartition(".")[2] for h in after["hits"]}
