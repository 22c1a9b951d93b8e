"""``riskctl propose / apply / history / rollback`` as a user runs them, on a copy of policies/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from clikit import REPO, riskctl

from riskctl.bundle import load_bundle

CONTEXT = REPO / "tests" / "data" / "engine" / "contexts" / "pre_trade.json"


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    copy = tmp_path / "policies"
    shutil.copytree(REPO / "policies", copy)
    return copy


def write_proposal(tmp_path: Path, name: str, *changes: dict[str, Any]) -> Path:
    body = {"author": "tuning-agent", "rationale": "test", "changes": list(changes)}
    path = tmp_path / name
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def eth_qty(to: str) -> dict[str, Any]:
    return {"policy": "RiskLimits/btc-eth-mm", "path": "spec.scoped[1].max_order_qty", "to": to}


def test_tool_schema_when_asked_then_a_function_definition_with_the_proposal_schema() -> None:
    done = riskctl("propose", "--tool-schema")

    tool = json.loads(done.stdout)
    assert done.returncode == 0
    assert tool["name"] == "propose_risk_change"
    assert set(tool["parameters"]["properties"]) == {"author", "rationale", "expires_at", "changes"}
    schema = json.loads((REPO / "schemas" / "proposal.schema.json").read_text())
    assert tool["parameters"]["properties"] == schema["properties"]


def test_bad_proposal_when_proposed_then_exit_2_located(tmp_path: Path, policies: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("author: a\nrationale: r\nchanges:\n  - policy: RiskLimits/x\n    to: 1\n")

    done = riskctl("propose", bad, "--policies", policies)

    assert done.returncode == 2
    assert f"{bad}:4:5: error proposal.missing-field" in done.stderr


def test_refusals_when_protected_and_over_the_step_then_exit_1_with_fields(
    tmp_path: Path, policies: Path
) -> None:
    proposal = write_proposal(
        tmp_path,
        "p.json",
        eth_qty("100"),
        {"policy": "RiskLimits/btc-eth-mm", "path": "spec.defaults.max_drawdown", "to": "1"},
    )

    done = riskctl("propose", proposal, "--policies", policies, "--format", "json")

    refusals = {r["code"]: r for r in json.loads(done.stdout)["refusals"]}
    assert done.returncode == 1
    assert set(refusals) == {"change.protected", "change.step-too-large"}
    assert refusals["change.step-too-large"]["limit"] == "16"  # 20% of ETH's 80
    assert refusals["change.step-too-large"]["allowed_range"] == ["64", "96"]


def test_change_flow_when_applied_verified_tampered_and_rolled_back(
    tmp_path: Path, policies: Path
) -> None:
    original = (policies / "risk-limits.yaml").read_text()
    original_hash = load_bundle(policies).hash
    eth = dict(json.loads(CONTEXT.read_text()))
    eth["order"] = {**eth["order"], "symbol": "ETH/USDT", "qty": 75, "price": 2999}
    eth["market"] = {**eth["market"], "bid": 2999.5, "ask": 3000.5}
    eth["position"] = {"qty": 0, "avg_price": 3000}
    small = {**eth, "order": {**eth["order"], "qty": 10}}
    stream = tmp_path / "stream.jsonl"
    stream.write_text(
        "".join(json.dumps({"stage": "pre_trade", "context": c}) + "\n" for c in (small, eth))
    )
    plan = tmp_path / "plan.json"
    proposal = write_proposal(tmp_path, "p.json", eth_qty("70"))

    proposed = riskctl(
        "propose", proposal, "--policies", policies, "--against", stream, "--out", plan
    )
    applied = riskctl("apply", plan)
    again = riskctl("apply", plan, "--format", "json")

    assert proposed.returncode == 0, proposed.stdout
    assert "(tightens)" in proposed.stdout
    assert "impact: 1 of 2 decision(s) flip" in proposed.stdout
    assert "line 2 pre_trade: allow -> " in proposed.stdout
    impact = json.loads(plan.read_text())["impact"]
    assert impact["first"][0]["rules_after"] == ["max_order_qty"]
    assert applied.returncode == 0, applied.stdout
    assert again.returncode == 1
    assert json.loads(again.stdout)["refusals"][0]["code"] == "change.stale-plan"
    now = (policies / "risk-limits.yaml").read_text()
    changed = [
        (a, b) for a, b in zip(original.splitlines(), now.splitlines(), strict=True) if a != b
    ]
    assert changed == [
        ("  version: 9", "  version: 10"),
        ("      max_order_qty: 80             # ETH", "      max_order_qty: 70             # ETH"),
    ]
    assert original.count("\n") == now.count("\n")

    # a loosening needs a human other than the author
    loosen = write_proposal(tmp_path, "l.json", eth_qty("75"))
    riskctl("propose", loosen, "--policies", policies, "--out", plan)
    unapproved = riskctl("apply", plan)
    assert unapproved.returncode == 1
    assert "change.approval-required" in unapproved.stdout
    assert riskctl("apply", plan, "--approved-by", "alice").returncode == 0

    verified = riskctl("history", "--policies", policies, "--verify", "--format", "json")
    assert verified.returncode == 0, verified.stdout
    assert [r["seq"] for r in json.loads(verified.stdout)["receipts"]] == [1, 2]

    rolled = riskctl("rollback", "--policies", policies, "--to", "0", "--approved-by", "bob")
    assert rolled.returncode == 0, rolled.stdout
    assert (policies / "risk-limits.yaml").read_text() == original
    assert original_hash in rolled.stdout

    log = policies / ".riskctl" / "changes.jsonl"
    lines = log.read_text().splitlines()
    first = json.loads(lines[0])
    first["approved_by"] = "mallory"
    log.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    broken = riskctl("history", "--policies", policies, "--verify")
    assert broken.returncode == 1
    assert "line 1: change.log-hash-mismatch" in broken.stdout
