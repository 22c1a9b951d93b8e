"""tools/advisor_example.py end to end, as an operator runs it: `riskctl run` decides a
stream, `riskctl audit` exports it, the advisor proposes one change, is refused, corrects
itself from the refusal's allowed_range, and the change is applied with a receipt."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from clikit import REPO, riskctl

ADVISOR = REPO / "tools" / "advisor_example.py"
CONTEXT = REPO / "tests" / "data" / "engine" / "contexts" / "pre_trade.json"


def eth_orders(sizes: list[int]) -> str:
    """pre_trade lines for ETH/USDT at 2,000: only the size decides (max_order_qty is 80)."""
    base = json.loads(CONTEXT.read_text())
    lines = []
    for i, qty in enumerate(sizes):
        context: dict[str, Any] = json.loads(json.dumps(base))
        context["now_ms"] = base["now_ms"] + i * 1000
        context["order"].update(symbol="ETH/USDT", qty=qty, price=2000, client_order_id=f"e{i}")
        context["market"] = {"bid": 1999.5, "ask": 2000.5, "age_ms": 40}
        context["position"] = {"qty": 0, "avg_price": 2000}
        lines.append(json.dumps({"stage": "pre_trade", "context": context}))
    return "\n".join(lines) + "\n"


def audit_of(tmp_path: Path, policies: Path, sizes: list[int]) -> Path:
    state = tmp_path / "state.db"
    ran = riskctl("run", "--policies", policies, "--state", state, input_text=eth_orders(sizes))
    assert ran.returncode == 0, ran.stderr
    outcomes = [json.loads(line)["outcome"] for line in ran.stdout.splitlines()]
    assert outcomes == ["reject" if s > 80 else "allow" for s in sizes]
    exported = riskctl("audit", "--state", state)
    assert exported.returncode == 0, exported.stderr
    audit = tmp_path / "audit.jsonl"
    audit.write_text(exported.stdout)
    return audit


def advise(audit: Path, policies: Path, *extra: str) -> tuple[int, list[dict[str, Any]]]:
    done = subprocess.run(
        [sys.executable, str(ADVISOR), "--audit", str(audit), "--policies", str(policies),
         "--symbol", "ETH/USDT", *extra],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()]


def test_advisor_when_sizes_do_not_fit_then_refused_corrects_itself_and_applies(
    tmp_path: Path, policies: Path
) -> None:
    audit = audit_of(tmp_path, policies, [100, 20] * 10)  # half the ETH orders rejected

    code, events = advise(audit, policies, "--approved-by", "alice")

    assert code == 0, events
    assert [e["event"] for e in events] == [
        "observed", "proposed", "corrected", "proposed", "applied"
    ]  # fmt: skip
    assert events[0]["reject_rate_by_rule"] == {"max_order_qty": "0.5000"}
    first = events[1]
    assert first["to"] == "100"
    assert first["refusals"][0]["code"] == "change.step-too-large"
    assert first["refusals"][0]["allowed_range"] == ["64", "96"]
    assert events[2] == {"event": "corrected", "was": "100", "to": "96",
                         "codes": ["change.step-too-large"]}  # fmt: skip
    assert events[3]["acceptable"] is True
    listed = riskctl("history", "--policies", policies, "--verify", "--format", "json")
    assert listed.returncode == 0, listed.stdout
    [receipt] = json.loads(listed.stdout)["receipts"]
    assert receipt["author"] == "example-advisor"
    assert receipt["approved_by"] == "alice"
    assert receipt["changes"][0]["to"] == {"decimal": "96"}
    assert "max_order_qty: 96             # ETH" in (policies / "risk-limits.yaml").read_text()


def test_advisor_when_a_loosening_has_no_approver_then_it_writes_the_plan_for_one(
    tmp_path: Path, policies: Path
) -> None:
    audit = audit_of(tmp_path, policies, [90, 20])
    plan = tmp_path / "plan.json"

    code, events = advise(audit, policies, "--plan-out", str(plan))
    applied = riskctl("apply", plan, "--approved-by", "alice")

    assert code == 0
    assert events[-1]["event"] == "needs-approval"
    assert applied.returncode == 0, applied.stdout
    assert "max_order_qty: 90             # ETH" in (policies / "risk-limits.yaml").read_text()
