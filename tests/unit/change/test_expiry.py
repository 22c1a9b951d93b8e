"""Temporary overrides: an applied proposal with expires_at reverts itself when due."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from riskctl import change
from riskctl.bundle import load_bundle
from riskctl.change.receipts import log_path

REPO = Path(__file__).resolve().parents[3]
NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
BTC = "spec.scoped[0].max_order_qty"  # 5; allow: 20% a step, 0.1 .. 10
ETH = "spec.scoped[1].max_order_qty"  # 80; allow: 20% a step, 1 .. 100
LIMITS = "RiskLimits/btc-eth-mm"


def qty(policies: Path, path: str) -> Any:
    bundle = load_bundle(policies)
    scoped = bundle.source_of(LIMITS).source.data["spec"]["scoped"]
    return scoped[int(path.split("[")[1][0])]["max_order_qty"]


def override(
    policies: Path,
    *changes: tuple[str, str],
    until: dt.datetime | None = None,
    at: dt.datetime = NOW,
    approved_by: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "author": "tuning-agent",
        "rationale": "thin books this morning",
        "changes": [{"policy": LIMITS, "path": p, "to": v} for p, v in changes],
    }
    if until is not None:
        body["expires_at"] = until.isoformat()
    plan = change.propose(body, policies=policies, now=at)
    result = change.apply(plan, approved_by=approved_by, now=at)
    assert result.receipt is not None, result.refusals
    return result.receipt


def test_override_when_due_then_reverted_with_an_expiry_receipt_naming_it(policies: Path) -> None:
    applied = override(policies, (BTC, "4"), until=NOW + HOUR)

    early = change.expire_due(policies, now=NOW + HOUR / 2)
    due = change.expire_due(policies, now=NOW + HOUR)
    again = change.expire_due(policies, now=NOW + 2 * HOUR)

    assert early.ok
    assert early.expired == []
    assert due.ok
    [item] = due.expired
    receipt = item.result.receipt
    assert receipt is not None
    assert receipt["kind"] == "expiry"
    assert receipt["reverts"] == applied["hash"]
    assert receipt["reverts_seq"] == 1
    assert receipt["changes"][0]["from"] == {"decimal": "4"}
    assert receipt["changes"][0]["to"] == {"decimal": "5"}
    assert receipt["changes"][0]["direction"] == "loosens"
    assert qty(policies, BTC) == 5
    assert load_bundle(policies).versions[LIMITS] == 11  # a step forward, not a rollback
    assert again.expired == []  # closed: never reverted twice
    verified = change.history(policies, verify=True)
    assert verified.verified, verified.problems


def test_field_when_changed_after_the_override_then_left_and_listed_superseded(
    policies: Path,
) -> None:
    override(policies, (BTC, "4.5"), (ETH, "70"), until=NOW + HOUR)
    override(policies, (ETH, "65"))  # a later, permanent decision on ETH

    report = change.expire_due(policies, now=NOW + HOUR)

    [item] = report.expired
    receipt = item.result.receipt
    assert receipt is not None
    assert [c["path"] for c in receipt["changes"]] == [BTC]
    assert receipt["superseded"] == [
        {"policy": LIMITS, "path": ETH, "override": {"decimal": "70"}, "current": {"decimal": "65"}}
    ]
    assert qty(policies, BTC) == 5
    assert qty(policies, ETH) == 65


def test_every_field_superseded_then_the_override_closes_without_touching_a_file(
    policies: Path,
) -> None:
    override(policies, (BTC, "4.5"), until=NOW + HOUR)
    override(policies, (BTC, "4.2"))
    before = (policies / "risk-limits.yaml").read_bytes()

    report = change.expire_due(policies, now=NOW + HOUR)

    receipt = report.expired[0].result.receipt
    assert receipt is not None
    assert receipt["changes"] == []
    assert receipt["files"] == []
    assert (policies / "risk-limits.yaml").read_bytes() == before
    assert change.expire_due(policies, now=NOW + 2 * HOUR).expired == []


def test_override_on_an_expired_override_then_both_unwind_to_the_value_before_them(
    policies: Path,
) -> None:
    override(policies, (BTC, "4.5"), until=NOW + HOUR)  # 5 -> 4.5 until 13:00
    override(policies, (BTC, "4"), until=NOW + 2 * HOUR)  # 4.5 -> 4 until 14:00

    first = change.expire_due(policies, now=NOW + HOUR)  # 4.5 is not in force: superseded
    held = qty(policies, BTC)
    second = change.expire_due(policies, now=NOW + 2 * HOUR)

    assert first.expired[0].result.receipt["superseded"][0]["path"] == BTC  # type: ignore[index]
    assert held == 4
    assert second.expired[0].result.receipt["changes"][0]["to"] == {"decimal": "5"}  # type: ignore[index]
    assert qty(policies, BTC) == 5  # not 4.5: that override expired an hour ago


def test_override_on_a_live_override_then_the_later_expiry_returns_to_the_earlier_one(
    policies: Path,
) -> None:
    override(policies, (BTC, "4.5"), until=NOW + 3 * HOUR)
    override(policies, (BTC, "4"), until=NOW + HOUR)

    change.expire_due(policies, now=NOW + HOUR)
    middle = qty(policies, BTC)
    change.expire_due(policies, now=NOW + 3 * HOUR)

    assert middle == Decimal("4.5")
    assert qty(policies, BTC) == 5


def test_files_when_edited_behind_the_log_then_expiry_refuses_and_writes_nothing(
    policies: Path,
) -> None:
    override(policies, (BTC, "4"), until=NOW + HOUR)
    limits = policies / "risk-limits.yaml"
    edited = limits.read_text().replace("max_open_orders: 200", "max_open_orders: 150")
    limits.write_text(edited)

    report = change.expire_due(policies, now=NOW + HOUR)

    assert not report.ok
    assert [r.code for r in report.refusals] == ["change.files-differ"]
    assert report.expired == []
    assert limits.read_text() == edited


def test_expiry_when_the_reverted_set_does_not_lint_then_refused_and_the_override_stays(
    policies: Path,
) -> None:
    control = policies / "change-control.yaml"  # also let advisors set BTC's position limit
    control.write_text(
        control.read_text().replace(
            "  protected:\n",
            '    - path: "RiskLimits/btc-eth-mm:spec.scoped[0].max_position_qty"\n'
            "      min: 0.1\n  protected:\n",
        )
    )
    override(policies, (BTC, "4"), until=NOW + HOUR)
    override(policies, ("spec.scoped[0].max_position_qty", "4.5"))  # fine while orders are 4
    before = (policies / "risk-limits.yaml").read_bytes()

    report = change.expire_due(policies, now=NOW + HOUR)
    retried = change.expire_due(policies, now=NOW + 2 * HOUR)

    [item] = report.expired
    assert not report.ok
    assert [r.code for r in item.result.refusals] == ["change.invalid-result"]
    assert "limits.position-below-order" in item.result.refusals[0].message
    assert (policies / "risk-limits.yaml").read_bytes() == before  # 4 stays in force
    assert [e.seq for e in retried.expired] == [1]  # still open: tried again, refused again
    assert change.history(policies, verify=True).verified


def test_log_when_edited_then_expiry_refuses_with_the_line_and_writes_nothing(
    policies: Path,
) -> None:
    override(policies, (BTC, "4"), until=NOW + HOUR)
    log = log_path(policies)
    receipt = json.loads(log.read_text())
    receipt["proposal"]["expires_at"] = (NOW - HOUR).isoformat()  # tampered expiry
    log.write_text(json.dumps(receipt) + "\n")
    before = (policies / "risk-limits.yaml").read_bytes()

    report = change.expire_due(policies, now=NOW)

    assert [r.to_json() for r in report.refusals] == [
        {
            "code": "change.log-hash-mismatch",
            "path": ".riskctl/changes.jsonl:1",
            "message": "the receipt's content does not match its hash: it was edited",
        }
    ]
    assert (policies / "risk-limits.yaml").read_bytes() == before
