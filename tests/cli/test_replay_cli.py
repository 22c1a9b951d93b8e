"""``riskctl replay`` as users run it: a real subprocess on a session file, the example
policies, the paper venue. Two replays agree; a tightened limit flips decisions that
--compare names; a malformed line is located and skipped (or stops a --strict run)."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

from clikit import REPO, riskctl

T0 = 1_765_000_000_000


def session(tmp_path: Path, *, bad_line: bool = False) -> Path:
    rng = random.Random(3)
    lines: list[dict] = [{"type": "session", "name": "cli-test", "venues": ["binance"]}]
    mid, seq, t = 60_000.0, 1, T0
    for i in range(1200):
        t += 250
        mid *= 1 + rng.gauss(0, 0.0002)
        seq += rng.randint(1, 3)
        lines.append(
            {"type": "book", "venue": "binance", "symbol": "BTC/USDT", "bid": f"{mid - 0.5:.2f}",
             "ask": f"{mid + 0.5:.2f}", "bid_qty": "1", "ask_qty": "1", "seq": seq,
             "ts_ms": t - 3, "recv_ms": t}
        )  # fmt: skip
        if i % 40 == 0:
            buy = i % 80 == 0
            lines.append(
                {"type": "order", "venue": "binance", "symbol": "BTC/USDT", "action": "new",
                 "client_order_id": f"r-{i}", "strategy": "rec", "side": "buy" if buy else "sell",
                 "order_type": "limit", "qty": "2" if i % 120 == 0 else "0.5",
                 "price": f"{mid + 1:.2f}" if buy else f"{mid - 1:.2f}", "recv_ms": t}
            )  # fmt: skip
    path = tmp_path / "session.jsonl"
    text = "".join(json.dumps(line) + "\n" for line in lines)
    if bad_line:
        text = text.replace("\n", '\n{"type": "book", "venue": "binance"\n', 1)
    path.write_text(text, encoding="utf-8")
    return path


def replay(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return riskctl("replay", *args)


def test_replay_prints_a_summary_of_every_stage_and_exits_0(tmp_path) -> None:
    done = replay(session(tmp_path), "--policies", REPO / "policies")
    assert done.returncode == 0, done.stderr
    for part in ("decisions (allow / modify / reject):", "pre_trade", "ingest", "monitor",
                 "top rules by hits:", "breakers:", "alerts:", "P&L: session",
                 "max position against its limit:"):  # fmt: skip
        assert part in done.stdout


def test_two_replays_of_one_session_give_identical_summaries(tmp_path) -> None:
    path = session(tmp_path)
    first = replay(path, "--policies", REPO / "policies", "--format", "json")
    second = replay(path, "--policies", REPO / "policies", "--format", "json")
    assert first.returncode == second.returncode == 0, first.stderr
    assert json.loads(first.stdout) == json.loads(second.stdout)
    summary = json.loads(first.stdout)["summary"]
    assert summary["decisions"]["pre_trade"]["allow"] > 0
    # every rule's hits, not only the top ten; bands entered per band set
    assert {r["rule_id"]: r["hits"] for r in summary["top_rules"]}.items() <= summary[
        "rule_hits"
    ].items()
    assert isinstance(summary["bands_entered"], dict)
    assert summary["decisions"]["fill"]["allow"] > 0


def test_compare_with_a_tightened_limit_names_the_flipped_decisions(tmp_path) -> None:
    tight = tmp_path / "tight"
    tight.mkdir()
    for source in (REPO / "policies").glob("*.yaml"):
        text = source.read_text(encoding="utf-8")
        if source.name == "risk-limits.yaml":
            assert "max_order_qty: 5" in text
            text = text.replace("max_order_qty: 5", "max_order_qty: 1", 1)
        (tight / source.name).write_text(text, encoding="utf-8")
    done = replay(
        session(tmp_path), "--policies", REPO / "policies", "--compare", tight,
        "--format", "json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    compared = json.loads(done.stdout)["compare"]
    assert compared["decisions_flipped"] > 0
    flip = compared["first_flips"][0]
    assert (flip["first"], flip["other"]) == ("allow", "reject")
    assert (flip["qty"], flip["scope"]) == ("2", "binance:BTC/USDT")  # the 2 over the new 1
    assert "max_order_qty" in flip["other_rules"]
    text = replay(session(tmp_path), "--policies", REPO / "policies", "--compare", tight)
    assert f"{flip['client_order_id']} (" in text.stdout
    assert "[max_order_qty]" in text.stdout


def test_a_malformed_line_is_located_and_the_replay_goes_on(tmp_path) -> None:
    done = replay(session(tmp_path, bad_line=True), "--policies", REPO / "policies")
    assert done.returncode == 0, done.stderr
    assert "session.jsonl:2:" in done.stderr
    assert "malformed lines: 1" in done.stdout


def test_strict_stops_at_the_first_malformed_line_with_exit_2(tmp_path) -> None:
    done = replay(session(tmp_path, bad_line=True), "--policies", REPO / "policies", "--strict")
    assert done.returncode == 2
    assert "session.jsonl:2:" in done.stderr


def test_a_missing_session_or_bad_policies_exit_2(tmp_path) -> None:
    assert replay(tmp_path / "nope.jsonl").returncode == 2
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.yaml").write_text("apiVersion: riskctl/v1\nkind: RiskLimits\n", encoding="utf-8")
    done = replay(session(tmp_path), "--policies", bad)
    assert done.returncode == 2
    assert "x.yaml:" in done.stderr


def test_a_strategy_file_that_fails_to_load_is_reported_not_traced(tmp_path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('nope')\n", encoding="utf-8")
    done = replay(session(tmp_path), "--policies", REPO / "policies", "--strategy", broken)
    assert done.returncode == 2
    assert "RuntimeError: nope" in done.stderr
