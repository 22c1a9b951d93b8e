"""Plan, apply, log and rollback in process, on a copy of policies/ (the CLI tests run it)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from riskctl.bundle import load_bundle
from riskctl.change import Proposal
from riskctl.change.applier import apply_plan
from riskctl.change.plan import plan_change
from riskctl.change.receipts import read_receipts, verify_chain
from riskctl.change.restore import plan_rollback

REPO = Path(__file__).resolve().parents[3]
NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
QTY = "spec.scoped[0].max_order_qty"  # BTC/USDT: 5; allow: max_step_pct 20, min 0.1, max 10


def proposal(*changes: dict[str, Any], author: str = "tuning-agent") -> Proposal:
    return Proposal.model_validate({"author": author, "rationale": "test", "changes": changes})


def qty(to: str, **extra: Any) -> dict[str, Any]:
    return {"policy": "RiskLimits/btc-eth-mm", "path": QTY, "to": to, **extra}


def apply(
    policies: Path, p: Proposal, *, approved_by: str | None = None, now: dt.datetime = NOW
) -> Any:
    text = json.dumps(p.to_json())
    plan = plan_change(policies, p, proposal_text=text, now=now)
    return plan, apply_plan(plan.to_json(), approved_by=approved_by, now=now)


def codes(refusals: Any) -> list[str]:
    return [r.code for r in refusals]


def test_tightening_when_applied_then_version_bumped_and_receipt_chained(policies: Path) -> None:
    plan, result = apply(policies, proposal(qty("4.5", **{"from": "5"})))

    assert plan.acceptable
    assert not plan.approval_required
    assert result.receipt is not None
    assert result.receipt["seq"] == 1
    bundle = load_bundle(policies)
    assert bundle.versions["RiskLimits/btc-eth-mm"] == 10
    assert result.receipt["new_bundle_hash"] == bundle.hash
    receipts, _ = read_receipts(policies)
    assert list(verify_chain(receipts)) == []


def test_from_when_it_differs_from_the_file_then_stale(policies: Path) -> None:
    p = proposal(qty("4.5", **{"from": "4"}))

    plan = plan_change(policies, p, proposal_text="", now=NOW)

    assert codes(plan.refusals) == ["change.stale"]


def test_loosening_when_no_approver_or_the_author_approves_then_refused(policies: Path) -> None:
    _, unapproved = apply(policies, proposal(qty("5.5")))
    _, own = apply(policies, proposal(qty("5.5")), approved_by="tuning-agent")
    _, approved = apply(policies, proposal(qty("5.5")), approved_by="alice")

    assert codes(unapproved.refusals) == ["change.approval-required"]
    assert codes(own.refusals) == ["change.self-approval"]
    assert approved.receipt is not None
    assert approved.receipt["approved_by"] == "alice"


def test_daily_budget_when_used_up_then_refused_and_a_new_day_resets_it(policies: Path) -> None:
    for value in ("4.5", "4.9", "4.5", "4.9", "4.5", "4.9"):  # 6 = max_changes_per_day
        _, result = apply(policies, proposal(qty(value)), approved_by="alice")
        assert result.refusals == []

    over, _ = apply(policies, proposal(qty("4.5")))
    tomorrow, _ = apply(policies, proposal(qty("4.5")), now=NOW + dt.timedelta(days=1))

    assert codes(over.refusals) == ["change.daily-budget"]
    assert over.refusals[0].to_json()["limit"] == "6"
    assert tomorrow.acceptable


def test_drift_when_steps_add_up_past_one_bound_then_refused(policies: Path) -> None:
    apply(policies, proposal(qty("4.2")))  # -0.8: within 20% of 5
    plan, _ = apply(policies, proposal(qty("3.5")))  # -0.7 from 4.2: in step, 1.5 from 5

    assert codes(plan.refusals) == ["change.drift-too-large"]
    assert plan.refusals[0].to_json()["allowed_range"] == ["4", "5.04"]


def test_plan_when_edited_then_apply_refuses(policies: Path) -> None:
    p = proposal(qty("4.5"))
    saved = plan_change(policies, p, proposal_text=json.dumps(p.to_json()), now=NOW).to_json()
    saved["files"][0]["after"] = saved["files"][0]["after"].replace("max_daily_loss: 5", "max_da")

    result = apply_plan(saved, approved_by=None, now=NOW)

    assert codes(result.refusals) == ["change.bad-plan"]


def test_invalid_result_when_proposed_then_refused_and_nothing_written(policies: Path) -> None:
    before = (policies / "risk-limits.yaml").read_bytes()
    control = policies / "change-control.yaml"
    control.write_text(control.read_text().replace("min: 0.1", "min: -5"))
    p = proposal(qty("-1"))

    plan = plan_change(policies, p, proposal_text=json.dumps(p.to_json()), now=NOW)
    result = apply_plan(plan.to_json(), approved_by="alice", now=NOW)

    assert "change.invalid-result" in codes(plan.refusals)
    assert result.receipt is None
    assert (policies / "risk-limits.yaml").read_bytes() == before


def test_rollback_when_to_a_receipt_then_bytes_and_hash_are_as_then(policies: Path) -> None:
    _, first = apply(policies, proposal(qty("4.5")))
    at_first = (policies / "risk-limits.yaml").read_bytes()
    bands = {"policy": "InventoryBands/mm-inventory", "to": "3"}
    apply(policies, proposal(qty("4"), {**bands, "path": "spec.sets[0].bands[1].skew_multiplier"}))

    plan = plan_rollback(policies, first.receipt["hash"][:16], author="ops")
    result = apply_plan(plan.to_json(), approved_by="alice", now=NOW)

    assert result.receipt is not None
    assert result.receipt["kind"] == "rollback"
    assert (policies / "risk-limits.yaml").read_bytes() == at_first
    assert (policies / "inventory-bands.yaml").read_bytes() == (
        REPO / "policies" / "inventory-bands.yaml"
    ).read_bytes()
    assert load_bundle(policies).hash == first.receipt["new_bundle_hash"]


def test_expires_at_when_passed_then_refused(policies: Path) -> None:
    p = Proposal.model_validate(
        {
            "author": "tuning-agent",
            "rationale": "test",
            "expires_at": "2026-12-07T11:59:59Z",
            "changes": [qty("4.5")],
        }
    )

    plan = plan_change(policies, p, proposal_text="", now=NOW)

    assert codes(plan.refusals) == ["change.expired"]


def test_unlisted_field_when_proposed_then_not_allowed_and_counted_as_loosening(
    policies: Path,
) -> None:
    p = proposal({"policy": "RiskLimits/btc-eth-mm", "path": "spec.defaults.check_balance",
                  "to": False})  # fmt: skip

    plan = plan_change(policies, p, proposal_text="", now=NOW)

    assert codes(plan.refusals) == ["change.not-allowed"]
    assert plan.changes[0]["direction"] == "loosens"
    assert plan.approval_required
