"""`riskctl run` as a bot meets it: a real subprocess on a real SQLite state file, killed
with SIGKILL mid-stream and restarted, stopped by `riskctl kill` from a second process."""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import subprocess
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

from clikit import RISKCTL, riskctl

T0 = 1_700_000_000_000

LIMITS = """\
apiVersion: riskctl/v1
kind: RiskLimits
metadata: {name: run-limits, version: 1, owner: tests}
spec:
  environment: paper
  venues:
    - {venue: binance, account: mm-1, symbols: [BTC/USDT]}
  defaults: {max_order_qty: 5, max_daily_loss: 400, max_orders_per_second: 3}
  scoped: []
"""
BREAKERS = """\
apiVersion: riskctl/v1
kind: CircuitBreakers
metadata: {name: run-breakers, version: 1, owner: tests}
spec:
  breakers:
    - name: stale-quotes
      stage: pre_trade
      when: market.age_ms > 5000
      action: halt
      cooldown_ms: 1000
      reset: manual
      message: quotes are stale
"""


def policies(tmp_path: Path) -> Path:
    directory = tmp_path / "policies"
    directory.mkdir()
    (directory / "limits.yaml").write_text(LIMITS, encoding="utf-8")
    (directory / "breakers.yaml").write_text(BREAKERS, encoding="utf-8")
    return directory


def order(i: int, side: str = "buy", price: str = "100", age_ms: int = 0) -> dict[str, Any]:
    return {
        "stage": "pre_trade",
        "context": {
            "now_ms": T0 + i * 400,
            "order": {
                "venue": "binance",
                "symbol": "BTC/USDT",
                "side": side,
                "qty": "1",
                "price": price,
                "client_order_id": f"c-{i}",
                "strategy": "mm",
            },
            "market": {"bid": price, "ask": price, "age_ms": age_ms},
            "account": {"equity": "100000", "available_balance": "100000", "balance_age_ms": 0},
        },
    }


def fill(i: int, side: str = "buy", price: str = "100") -> dict[str, Any]:
    return {
        "stage": "fill",
        "context": {
            "now_ms": T0 + i * 400 + 1,
            "fill": {
                "venue": "binance",
                "symbol": "BTC/USDT",
                "client_order_id": f"c-{i}",
                "trade_id": f"t-{i}",
                "side": side,
                "qty": "1",
                "price": price,
                "ts_ms": T0 + i * 400,
            },
            "books": {"position_qty": "0"},
        },
    }


def stream() -> list[str]:
    """Orders and fills that lose money position after position, a breaker trip on a
    stale quote, a duplicate fill and a malformed line: every kind of memory is used."""
    items: list[Any] = []
    for i in range(0, 40, 2):
        items += [order(i), fill(i), order(i + 1, "sell", "60"), fill(i + 1, "sell", "60")]
        if i == 10:
            items.append(fill(i + 1, "sell", "60"))  # the same fill again
        if i == 20:
            items.append(order(i + 1, age_ms=9000))  # trips the manual breaker
    lines = [json.dumps(item) for item in items]
    lines.insert(7, '{"stage": "pre_trade", "context": ')  # malformed: cut off
    return lines


def comparable(line: str) -> dict[str, Any]:
    out = json.loads(line)
    out.pop("eval_us", None)
    return out


def run(directory: Path, state: Path, lines: list[str]) -> list[dict[str, Any]]:
    done = subprocess.run(
        [str(RISKCTL), "run", "--policies", str(directory), "--state", str(state)],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [comparable(line) for line in done.stdout.splitlines()]


def committed_decisions(state: Path) -> int:
    with sqlite3.connect(state) as db:
        (count,) = db.execute("SELECT count(*) FROM audit WHERE kind = 'decision'").fetchone()
    return int(count)


def test_when_a_stream_runs_then_each_line_gets_one_decision_with_the_state_after_it(
    tmp_path,
) -> None:
    lines = stream()
    out = run(policies(tmp_path), tmp_path / "state.db", lines)
    assert len(out) == len(lines)
    malformed = out[7]
    assert malformed["outcome"] == "reject"
    assert malformed["hits"][0]["code"] == "input.invalid"
    assert malformed["hits"][0]["values"]["line"] == 8
    tripped = [o for o in out if any(e["name"] == "stale-quotes" for e in o["effects"])]
    assert len(tripped) == 1  # no storm
    assert all(o["trading_state"] in ("ACTIVE", "REDUCING", "HALTED") for o in out)
    assert out[-2]["outcome"] == "reject"  # halted by the breaker, or reducing on the loss


def test_when_killed_mid_stream_then_a_restart_resumes_with_every_memory_intact(
    tmp_path,
) -> None:
    directory, lines = policies(tmp_path), stream()
    reference = run(directory, tmp_path / "reference.db", lines)
    state = tmp_path / "state.db"
    with subprocess.Popen(
        [str(RISKCTL), "run", "--policies", str(directory), "--state", str(state)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdin is not None
        assert process.stdout is not None
        sent = len(lines) * 3 // 4  # the rest is never sent: the kill is mid-stream
        process.stdin.write("\n".join(lines[:sent]) + "\n")
        process.stdin.flush()
        for _ in range(len(lines) // 2):
            assert process.stdout.readline()
        process.send_signal(signal.SIGKILL)  # mid-stream: it may be deciding the next lines
        process.wait(timeout=30)
    done = committed_decisions(state)
    assert len(lines) // 2 <= done <= sent
    resumed = run(directory, state, lines[done:])
    assert resumed == reference[done:]
    shown = riskctl("state", "show", "--state", state, "--format", "json")
    expected = riskctl("state", "show", "--state", tmp_path / "reference.db", "--format", "json")
    view = json.loads(shown.stdout)
    assert view == json.loads(expected.stdout)
    assert view["breakers"]["stale-quotes"]["status"] == "open"
    assert view["trading_state"] == "REDUCING"  # the daily loss passed max_daily_loss
    assert Decimal(view["session"]["realized_pnl"]) < -400
    verified = riskctl("audit", "--state", state, "--verify")
    assert verified.returncode == 0, verified.stderr
    assert f"{len(lines)} records verified" in verified.stdout


def test_when_riskctl_kill_runs_in_another_process_then_the_next_order_is_stopped(
    tmp_path,
) -> None:
    directory, state = policies(tmp_path), tmp_path / "state.db"
    with subprocess.Popen(
        [str(RISKCTL), "run", "--policies", str(directory), "--state", str(state)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(json.dumps(order(0)) + "\n")
        process.stdin.flush()
        assert json.loads(process.stdout.readline())["outcome"] == "allow"
        killed = riskctl("kill", "--state", state, "--by", "ops", "--reason", "venue incident")
        assert killed.returncode == 0, killed.stderr
        process.stdin.write(json.dumps(order(1)) + "\n")
        process.stdin.flush()
        after = json.loads(process.stdout.readline())
        assert after["outcome"] == "reject"
        assert "state.kill_switch" in [hit["code"] for hit in after["hits"]]
        assert after["kill_switch"] is True
        assert "cancel_all" in [e["name"] for e in after["effects"]]
        process.stdin.close()
        assert process.wait(timeout=30) == 0
    shown = json.loads(riskctl("state", "show", "--state", state, "--format", "json").stdout)
    assert shown["kill_switch"]["by"] == "ops"
    assert shown["kill_switch"]["reason"] == "venue incident"


def test_when_the_audit_log_is_edited_then_verify_names_the_record(tmp_path) -> None:
    state = tmp_path / "state.db"
    run(policies(tmp_path), state, stream()[:5])
    with sqlite3.connect(state) as db:
        db.execute("UPDATE audit SET body = replace(body, 'allow', 'reject') WHERE seq = 2")
    verified = riskctl("audit", "--state", state, "--verify")
    assert verified.returncode == 1
    assert "audit.hash-mismatch" in verified.stderr
    assert "2" in verified.stderr


def test_when_the_state_file_is_not_a_state_file_then_run_names_it_and_exits_2(
    tmp_path,
) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a database\n", encoding="utf-8")
    done = riskctl("run", "--policies", policies(tmp_path), "--state", bogus)
    assert done.returncode == 2
    assert str(bogus) in done.stderr


ALERTS = """\
apiVersion: riskctl/v1
kind: AlertThresholds
metadata: {name: run-alerts, version: 1, owner: tests}
spec:
  alerts:
    - name: stale-book
      stage: pre_trade
      metric: market.age_ms
      warn: 5000
      labels: {team: desk}
      channels: ["slack:#desk"]
"""


def test_when_an_alert_fires_then_its_event_is_appended_to_the_alerts_file(tmp_path) -> None:
    directory = policies(tmp_path)
    (directory / "alerts.yaml").write_text(ALERTS, encoding="utf-8")
    alerts = tmp_path / "alerts.jsonl"
    lines = [json.dumps(order(0)), json.dumps(order(1, age_ms=9000)), json.dumps(order(2))]
    done = subprocess.run(
        [str(RISKCTL), "run", "--policies", str(directory), "--memory", "--alerts", str(alerts)],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in alerts.read_text(encoding="utf-8").splitlines()]
    stale = [e for e in events if e["alert"] == "stale-book"]
    assert [e["status"] for e in stale] == ["firing", "resolved"]  # the next quote is fresh
    assert stale[0]["labels"] == {"team": "desk"}
    assert stale[0]["channels"] == ["slack:#desk"]
    assert stale[0]["value"] == "9000"


# -- group commit ---------------------------------------------------------------------------

GROUP_LIMITS = """\
apiVersion: riskctl/v1
kind: RiskLimits
metadata: {name: group-limits, version: 1, owner: tests}
spec:
  environment: paper
  venues:
    - {venue: binance, account: mm-1, symbols: [BTC/USDT, ETH/USDT]}
  defaults: {max_order_qty: 5, max_daily_loss: 1500, max_orders_per_second: 4}
  scoped: []
"""
GROUP_BREAKERS = """\
apiVersion: riskctl/v1
kind: CircuitBreakers
metadata: {name: group-breakers, version: 1, owner: tests}
spec:
  breakers:
    - name: stale-quotes
      stage: pre_trade
      when: market.age_ms > 5000
      action: halt
      cooldown_ms: 1500
      reset: auto
      message: quotes are stale
"""
SYMBOL_OF = ("BTC/USDT", "ETH/USDT")


def group_policies(tmp_path: Path) -> Path:
    directory = tmp_path / "group-policies"
    directory.mkdir()
    (directory / "limits.yaml").write_text(GROUP_LIMITS, encoding="utf-8")
    (directory / "breakers.yaml").write_text(GROUP_BREAKERS, encoding="utf-8")
    return directory


def _leg(i: int, at: int, side: str, *, price: int, symbol: str, age_ms: int = 0) -> list[Any]:
    cid = f"g-{i}-{side}"
    pre = {
        "stage": "pre_trade",
        "context": {
            "now_ms": at,
            "order": {
                "venue": "binance",
                "symbol": symbol,
                "side": side,
                "qty": "1",
                "price": str(price),
                "client_order_id": cid,
                "strategy": "mm",
            },
            "market": {"bid": str(price), "ask": str(price), "age_ms": age_ms},
            "account": {"equity": "100000", "available_balance": "100000", "balance_age_ms": 0},
        },
    }
    done = {
        "stage": "fill",
        "context": {
            "now_ms": at + 1,
            "fill": {
                "venue": "binance",
                "symbol": symbol,
                "client_order_id": cid,
                "trade_id": f"t-{cid}",
                "side": side,
                "qty": "1",
                "price": str(price),
                "ts_ms": at,
            },
            "books": {"position_qty": "0"},
        },
    }
    return [pre, done]


def long_stream(trips: int = 700) -> list[str]:
    """Round trips on two symbols that lose a little each, prices that move (marks),
    duplicate fills, stale quotes that trip an auto breaker, malformed lines, and a daily
    loss that ends in REDUCING: every memory a crash could lose."""
    items: list[Any] = []
    for i in range(trips):
        at, symbol = T0 + i * 600, SYMBOL_OF[i % 2]
        base = 100 + (i * 7) % 40
        stale = 9000 if i % 41 == 40 else 0
        items += _leg(i, at, "buy", price=base, symbol=symbol, age_ms=stale)
        items += _leg(i, at + 300, "sell", price=base - 3, symbol=symbol)
        if i % 53 == 5:
            items.append(items[-1])  # the same fill again
    lines = [json.dumps(item) for item in items]
    for at in range(97, len(lines), 211):
        lines.insert(at, '{"stage": "fill", "context": ')  # malformed: cut off
    return lines


def reference_run(
    directory: Path, lines: list[str], controls: dict[int, str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every line's answer and the committed state after it, one commit per line, with
    the operator's controls posted before the lines that ``controls`` names."""
    from riskctl.cli.run_cmd import decide_line  # noqa: PLC0415  # the CLI's own parsing
    from riskctl.gate import Gate  # noqa: PLC0415
    from riskctl.runtime import StatefulGate, describe  # noqa: PLC0415
    from riskctl.state import MemoryStore  # noqa: PLC0415

    store = MemoryStore()
    runtime = StatefulGate(Gate.from_path(directory), store)
    answers, states = [], [describe(store.load().rows)]
    for number, line in enumerate(lines, start=1):
        if number - 1 in controls:
            store.post_control(controls[number - 1], by="ops", reason="drill", at_ms=0)  # type: ignore[arg-type]
        with runtime.batch() as batch:
            decide_line(batch, line + "\n", number)
        answers.append(comparable(json.dumps(batch.steps[0].to_json(), default=str)))
        states.append(describe(store.load().rows))
    return answers, states


def file_state(state: Path) -> dict[str, Any]:
    shown = riskctl("state", "show", "--state", state, "--format", "json")
    assert shown.returncode == 0, shown.stderr
    return dict(json.loads(shown.stdout))


def test_when_killed_mid_batch_then_the_file_holds_every_answered_line_and_resending_agrees(
    tmp_path,
) -> None:
    """Group commit under SIGKILL: the state after the crash is exactly the uninterrupted
    run's state after the lines it committed, which include every line it answered; the
    lines it did not commit, sent again, get the uninterrupted run's answers."""
    directory, lines = group_policies(tmp_path), long_stream()
    kill_at, resume_at = 40, 60  # an operator's kill, then resume, from another process
    answers, states = reference_run(directory, lines, {kill_at: "kill", resume_at: "resume"})
    state = tmp_path / "state.db"
    command = [str(RISKCTL), "run", "--policies", str(directory), "--state", str(state)]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE) as process:
        assert process.stdin is not None
        assert process.stdout is not None
        got: list[dict[str, Any]] = []
        for start, end, control in ((0, kill_at, "kill"), (kill_at, resume_at, "resume")):
            process.stdin.write("".join(f"{line}\n" for line in lines[start:end]).encode())
            process.stdin.flush()
            got += [comparable(process.stdout.readline().decode()) for _ in range(end - start)]
            posted = riskctl(control, "--state", state, "--by", "ops", "--reason", "drill")
            assert posted.returncode == 0, posted.stderr
        rest = "".join(f"{line}\n" for line in lines[resume_at:]).encode()
        writer = threading.Thread(target=_send, args=(process.stdin, rest), daemon=True)
        writer.start()  # all at once: the runtime finds many lines waiting, batches form
        got += [comparable(process.stdout.readline().decode()) for _ in range(300)]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        tail = process.stdout.read().decode()  # answers written before the kill
        writer.join(timeout=30)
        with contextlib.suppress(BrokenPipeError):  # what it never read was never sent
            process.stdin.close()
    got += [comparable(line) for line in tail.split("\n")[:-1]]  # a cut-off line is no answer
    committed = committed_decisions(state)
    assert resume_at + 300 <= len(got) <= committed < len(lines)
    assert got == answers[: len(got)]  # batched answers are the unbatched ones
    assert file_state(state) == states[committed]  # nothing answered is missing, nothing torn
    shown = file_state(state)
    assert shown["kill_switch"]["engaged"] is False  # the resume was kept; so was the kill:
    assert committed > kill_at
    resumed = run(directory, state, lines[committed:])
    assert [unnumbered(a) for a in resumed] == [unnumbered(a) for a in answers[committed:]]
    assert file_state(state) == states[-1]
    assert states[-1]["trading_state"] == "REDUCING"  # the daily loss carried across the crash
    assert any(e["name"] == "stale-quotes" for a in answers[committed:] for e in a["effects"])
    verified = riskctl("audit", "--state", state, "--verify")
    assert verified.returncode == 0, verified.stderr


def unnumbered(answer: dict[str, Any]) -> dict[str, Any]:
    """An answer without input line numbers: a restarted process counts its own lines."""
    if answer["stage"] == "input":
        answer["hits"] = [{**hit, "message": "", "values": {}} for hit in answer["hits"]]
    return answer


def _send(pipe: Any, data: bytes) -> None:
    try:
        pipe.write(data)
        pipe.flush()
    except (BrokenPipeError, OSError, ValueError):
        pass  # the process was killed while reading: what it did not read was never sent


def test_when_a_line_is_not_utf8_or_ends_in_crlf_then_each_line_is_still_answered(
    tmp_path,
) -> None:
    directory = policies(tmp_path)
    good = [json.dumps(order(0)), json.dumps(order(1))]
    data = good[0].encode() + b"\r\n" + b'{"stage": "\xff"}\n' + b"\n" + good[1].encode() + b"\r"
    done = subprocess.run(
        [str(RISKCTL), "run", "--policies", str(directory), "--memory"],
        input=data,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [o["outcome"] for o in out] == ["allow", "reject", "allow"]
    assert out[1]["hits"][0]["code"] == "input.invalid"
    assert out[1]["hits"][0]["values"] == {"line": 2}  # the blank line 3 is counted, skipped
