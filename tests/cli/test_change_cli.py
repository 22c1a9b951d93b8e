"""``riskctl propose / apply / history / rollback`` as a user runs them, on a copy of policies/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from clikit import REPO, riskctl

from riskctl.bundle import load_bundle

CONTEXT = REPO / "tests" / "data" / "engine" / "contexts" / "pre_trade.json"


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


def test_expire_due_when_an_override_is_due_then_reverted_verified_and_tamper_evident(
    tmp_path: Path, policies: Path
) -> None:
    original = (policies / "risk-limits.yaml").read_text()
    body = {"author": "tuning-agent", "rationale": "thin books", "expires_at": "2030-01-01T00:00Z",
            "changes": [eth_qty("70")]}  # fmt: skip
    proposal = tmp_path / "override.json"
    proposal.write_text(json.dumps(body))
    plan = tmp_path / "plan.json"
    proposed = riskctl("propose", proposal, "--policies", policies, "--out", plan)
    assert "temporary: reverts itself at 2030-01-01T00:00:00Z" in proposed.stdout
    assert riskctl("apply", plan).returncode == 0

    early = riskctl("apply", "--expire-due", "--policies", policies, "--now", "2029-12-31T23:59Z")
    due = riskctl("apply", "--expire-due", "--policies", policies, "--now", "2030-01-01T00:00Z",
                  "--format", "json")  # fmt: skip

    assert early.returncode == 0
    assert "expire: nothing due at 2029-12-31T23:59:00+00:00" in early.stdout
    assert due.returncode == 0, due.stdout
    [expired] = json.loads(due.stdout)["expired"]
    assert expired["override_seq"] == 1
    assert expired["receipt"]["kind"] == "expiry"
    assert expired["receipt"]["changes"][0]["to"] == {"decimal": "80"}
    now = (policies / "risk-limits.yaml").read_text()
    assert "max_order_qty: 80             # ETH" in now
    assert now.replace("version: 11", "version: 9") == original
    listed = riskctl("history", "--policies", policies, "--verify")
    assert listed.returncode == 0, listed.stdout
    assert "expiry of 1: RiskLimits/btc-eth-mm:spec.scoped[1].max_order_qty" in listed.stdout
    log = policies / ".riskctl" / "changes.jsonl"
    first, second = log.read_text().splitlines()
    log.write_text(first + "\n" + second.replace('"reverts_seq":1', '"reverts_seq":0') + "\n")
    broken = riskctl("history", "--policies", policies, "--verify")
    assert broken.returncode == 1
    assert "line 2: change.log-hash-mismatch" in broken.stdout


def test_expire_due_when_the_log_is_broken_then_refused_with_a_located_code(
    policies: Path,
) -> None:
    log = policies / ".riskctl" / "changes.jsonl"
    log.parent.mkdir()
    log.write_text('{"seq": 1\n')
    before = (policies / "risk-limits.yaml").read_bytes()

    done = riskctl("apply", "--expire-due", "--policies", policies, "--format", "json")

    assert done.returncode == 1
    refusal = json.loads(done.stdout)["refusals"][0]
    assert refusal["code"] == "change.log-malformed"
    assert refusal["path"] == ".riskctl/changes.jsonl:1"
    assert (policies / "risk-limits.yaml").read_bytes() == before


def test_apply_when_expire_due_options_are_mixed_up_then_usage_error(
    policies: Path,
) -> None:
    zoneless = riskctl("apply", "--expire-due", "--policies", policies, "--now", "2030-01-01")
    both = riskctl("apply", "plan.json", "--expire-due", "--policies", policies)
    elsewhere = riskctl("apply", "plan.json", "--policies", policies)

    assert elsewhere.returncode == 2
    assert "a plan names its directory" in elsewhere.stderr
    assert zoneless.returncode == 2
    assert "'2030-01-01' has no zone" in zoneless.stderr
    assert both.returncode == 2
    assert "--expire-due takes --policies, not a plan" in both.stderr


def test_malformed_watchdog_when_linted_or_proposed_then_located(
    tmp_path: Path, policies: Path
) -> None:
    control = policies / "change-control.yaml"
    control.write_text(control.read_text().replace("factor: 2 ", "factor: 0.5"))
    proposal = write_proposal(tmp_path, "p.json", eth_qty("70"))

    linted = riskctl("lint", policies)
    proposed = riskctl("propose", proposal, "--policies", policies)

    where = f"{control}:48:15: error policy.out-of-bounds"
    assert linted.returncode == 1
    assert where in linted.stdout
    assert "factor was 0.5; it must be greater than 1" in linted.stdout
    assert proposed.returncode == 2
    assert where in proposed.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("history",),
        ("history", "--verify"),
        ("rollback", "--to", "0"),
        ("apply", "--expire-due"),
        ("propose", "proposal.yaml"),
    ],
)
def test_a_policy_directory_that_is_not_there_is_a_usage_error_naming_it(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    """A typo in --policies must not read as "no change log, nothing to do" (exit 0)."""
    missing = tmp_path / "polices"
    done = riskctl(*args, "--policies", missing)
    assert done.returncode == 2
    assert f"{missing}: no such directory" in done.stderr
