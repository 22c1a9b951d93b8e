"""Reload never accepts a silently changed bundle, and files riskctl writes are never torn.

A ``risk-limits.yaml`` cut mid-write before ``scoped:`` still loads, with fewer limits;
the gate must refuse it (lint errors) and keep deciding with the bundle in force. A
document whose content changed under the same ``metadata.version`` is refused too.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from riskctl import Gate, Outcome
from riskctl.atomic import write_text_atomic
from riskctl.bundle import load_bundle
from riskctl.cli.output import write_report
from riskctl.errors import PolicyLoadError, Severity
from riskctl.lint import lint_paths, lint_policies
from riskctl.serving import serving_problems

REPO = Path(__file__).resolve().parents[3]

# The shipped limits' version line, and the line a bump writes: edits below read them so
# the tests follow the example policies as their version moves on.
_VERSION = int(
    re.search(r"^  version: (\d+)$", (REPO / "policies/risk-limits.yaml").read_text(), re.M)[1]
)
VERSION_LINE = f"  version: {_VERSION}"
BUMPED_LINE = f"  version: {_VERSION + 1}"

# 81 ETH at 2,900 (234,900 USDT) is over the ETH scope's max_order_qty of 80 and under
# the default max_order_notional of 250,000: only the scoped limit stops it.
FAT_FINGER: dict[str, Any] = {
    "now_ms": 1763600000000,
    "order": {
        "venue": "binance",
        "symbol": "ETH/USDT",
        "side": "buy",
        "qty": "81",
        "price": "2900",
        "client_order_id": "mm-eth-000001",
        "strategy": "mm-eth",
    },
    "market": {"bid": "2899.5", "ask": "2900.5", "age_ms": 40},
    "account": {
        "equity": "5000000",
        "available_balance": "2000000",
        "balance_age_ms": 1000,
        "quote_free": "2000000",
        "base_free": "30",
    },
}


@pytest.fixture
def gate(policies: Path) -> Gate:
    return Gate.from_path(policies)


def limits(policies: Path) -> Path:
    return policies / "risk-limits.yaml"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def truncate_before_scoped(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("  scoped:")], encoding="utf-8")


def line_of(path: Path, start: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, text in enumerate(lines, start=1) if text.startswith(start))


def fat_finger(gate: Gate) -> Outcome:
    return gate.evaluate("pre_trade", FAT_FINGER).outcome


# -- a truncated file ------------------------------------------------------------------------


def test_when_limits_are_truncated_at_the_same_version_then_reload_is_refused_and_still_rejects(
    gate: Gate, policies: Path
) -> None:
    before = gate.bundle.hash
    assert fat_finger(gate) is Outcome.REJECT
    truncate_before_scoped(limits(policies))
    # What was reported: the truncated bundle loads (the gate alone would serve it).
    assert fat_finger(Gate.from_path(policies)) is Outcome.ALLOW
    problems = gate.reload(policies)
    codes = {p.code for p in problems}
    assert {"reload.version-not-bumped", "limits.coverage"} <= codes
    assert all(p.severity is Severity.ERROR for p in problems)
    assert gate.bundle.hash == before
    assert fat_finger(gate) is Outcome.REJECT


def test_when_limits_are_truncated_with_the_version_bumped_then_reload_is_refused_for_lint_errors(
    gate: Gate, policies: Path
) -> None:
    before = gate.bundle.hash
    truncate_before_scoped(limits(policies))
    edit(limits(policies), VERSION_LINE, BUMPED_LINE)
    problems = gate.reload(policies)
    codes = {p.code for p in problems}
    assert "limits.coverage" in codes
    assert "reload.version-not-bumped" not in codes
    assert gate.bundle.hash == before
    assert fat_finger(gate) is Outcome.REJECT


def test_when_a_bundle_has_lint_errors_then_load_bundle_for_serving_refuses_it(
    policies: Path,
) -> None:
    assert load_bundle(policies, serving=True).hash == load_bundle(policies).hash
    truncate_before_scoped(limits(policies))
    load_bundle(policies)  # the plain load (tests, eval, what-ifs) still loads it
    with pytest.raises(PolicyLoadError) as refused:
        load_bundle(policies, serving=True)
    assert "limits.coverage" in {d.code for d in refused.value.diagnostics}


# -- versions --------------------------------------------------------------------------------


def test_when_a_change_bumps_the_version_then_reload_accepts_it(gate: Gate, policies: Path) -> None:
    edit(limits(policies), "      max_order_qty: 80 ", "      max_order_qty: 90 ")
    edit(limits(policies), VERSION_LINE, BUMPED_LINE)
    assert gate.reload(policies) == ()
    assert gate.bundle.versions["RiskLimits/btc-eth-mm"] == _VERSION + 1
    assert fat_finger(gate) is Outcome.ALLOW


def test_when_content_changes_without_a_version_bump_then_reload_is_refused_at_the_version_line(
    gate: Gate, policies: Path
) -> None:
    before = gate.bundle.hash
    edit(limits(policies), "      max_order_qty: 80 ", "      max_order_qty: 90 ")
    problems = gate.reload(policies)
    assert [p.code for p in problems] == ["reload.version-not-bumped"]
    (problem,) = problems
    assert problem.location.path == str(limits(policies))
    assert problem.location.line == line_of(limits(policies), VERSION_LINE)
    assert problem.location.pointer == "/metadata/version"
    assert "RiskLimits/btc-eth-mm" in problem.message
    assert problem.hint is not None
    assert f"to {_VERSION + 1}" in problem.hint
    assert gate.bundle.hash == before
    assert fat_finger(gate) is Outcome.REJECT


def test_when_only_formatting_and_comments_change_at_the_same_version_then_reload_accepts(
    gate: Gate, policies: Path
) -> None:
    before = dict(gate.bundle.digests)
    edit(limits(policies), "apiVersion:", "# reformatted, same content\napiVersion:")
    edit(limits(policies), "max_order_notional: 250000 ", "max_order_notional: 250000.00 ")
    edit(limits(policies), VERSION_LINE, f"  version:   {_VERSION}   # unchanged")
    assert gate.reload(policies) == ()
    assert dict(gate.bundle.digests) == before


def test_when_one_document_changes_then_only_its_digest_changes(policies: Path) -> None:
    before = load_bundle(policies)
    edit(limits(policies), "      max_order_qty: 80 ", "      max_order_qty: 90 ")
    after = load_bundle(policies)
    changed = {ref for ref in before.digests if before.digests[ref] != after.digests[ref]}
    assert changed == {"RiskLimits/btc-eth-mm"}
    assert set(before.digests) == set(before.versions)


def test_when_no_bundle_is_in_force_then_serving_problems_checks_lint_alone(policies: Path) -> None:
    bundle = load_bundle(policies)
    assert serving_problems(bundle) == ()
    assert serving_problems(bundle, in_force=bundle) == ()


# -- lint runs over what was loaded ------------------------------------------------------------


def test_when_a_file_changes_after_loading_then_lint_policies_checks_what_was_loaded(
    policies: Path,
) -> None:
    bundle = load_bundle(policies)
    clean = lint_paths([policies]).diagnostics
    truncate_before_scoped(limits(policies))
    assert any(d.code == "limits.coverage" for d in lint_paths([policies]).diagnostics)
    assert lint_policies(bundle.policies).diagnostics == clean


# -- immutable keys are located ----------------------------------------------------------------


def test_when_environment_changes_then_the_diagnostic_points_at_the_environment_line(
    gate: Gate, policies: Path
) -> None:
    edit(limits(policies), "  environment: production", "  environment: staging")
    edit(limits(policies), VERSION_LINE, BUMPED_LINE)
    problems = gate.reload(policies)
    assert [p.code for p in problems] == ["reload.immutable-changed"]
    (problem,) = problems
    assert problem.location.pointer == "/spec/environment"
    assert problem.location.line == line_of(limits(policies), "  environment:")
    assert problem.location.column == len("  environment: ") + 1


def test_when_an_account_changes_then_the_diagnostic_points_at_the_venues(
    gate: Gate, policies: Path
) -> None:
    edit(limits(policies), "account: mm-okx-1", "account: mm-okx-2")
    edit(limits(policies), VERSION_LINE, BUMPED_LINE)
    problems = gate.reload(policies)
    assert [p.code for p in problems] == ["reload.immutable-changed"]
    where = problems[0].location
    assert where.pointer == "/spec/venues"
    # the value of `venues:`: its first entry, on the next line (`    - venue: ...`)
    assert (where.line, where.column) == (line_of(limits(policies), "  venues:") + 1, 5)
    assert "okx/mm-okx-2" in problems[0].message


# -- atomic writes -----------------------------------------------------------------------------


def test_when_writing_atomically_then_the_file_holds_the_new_text_and_keeps_its_mode(
    tmp_path: Path,
) -> None:
    target = tmp_path / "report.txt"
    write_text_atomic(target, "first\n")
    assert target.read_text(encoding="utf-8") == "first\n"
    target.chmod(0o600)
    write_text_atomic(target, "second ✓\n")
    assert target.read_text(encoding="utf-8") == "second ✓\n"
    assert target.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.txt"]


def test_when_the_rename_fails_mid_write_then_the_old_file_is_intact_and_no_temp_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "schema.json"
    target.write_text("old\n", encoding="utf-8")

    def fail(src: Any, dst: Any) -> None:
        assert Path(src).read_text(encoding="utf-8") == "new\n"  # the text was written first
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="No space left"):
        write_text_atomic(target, "new\n")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["schema.json"]


def test_when_a_report_cannot_be_renamed_into_place_then_write_report_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "lint.sarif"
    target.write_text("old\n", encoding="utf-8")

    def fail(src: Any, dst: Any) -> None:
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", fail)
    problem = write_report("new\n", target)
    assert problem is not None
    assert "cannot write the report" in problem
    assert target.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lint.sarif"]
