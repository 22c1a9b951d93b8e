"""riskctl.policytest.run, coverage and session: checks, coverage, and whole runs."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

from riskctl.bundle import load_bundle
from riskctl.decision import Decision, Outcome, RuleHit
from riskctl.policytest import Expectation, check, run_paths
from riskctl.policytest.coverage import (
    Coverage,
    builtin_rule_ids,
    configured_limits,
    custom_rule_ids,
    shown_percent,
)

REPO = Path(__file__).resolve().parents[4]
DATA = REPO / "tests" / "data" / "policytest"
POLICIES = DATA / "policies"


def hit(rule_id: str, action: str = "reject") -> RuleHit:
    return RuleHit(rule_id, "Rules/r", f"rule.{rule_id}", "error", action, "message")


def expect(**fields: object) -> Expectation:
    return Expectation.model_validate(fields)


REJECT = Decision(
    "pre_trade",
    Outcome.REJECT,
    ("reject", "halt"),
    (hit("max_order_qty"), hit("fill-unknown", "halt")),
)


# -- check ---------------------------------------------------------------------------------


def test_when_every_expectation_holds_then_there_is_no_reason() -> None:
    wanted = expect(
        outcome="reject", fires=["max_order_qty"], not_fires=["other"], actions=["halt"]
    )

    assert check(wanted, REJECT) == ()


def test_when_expectations_break_then_each_gets_a_reason_in_full_words() -> None:
    wanted = expect(
        outcome="allow",
        fires=["missing-rule"],
        not_fires=["max_order_qty"],
        actions=["cancel_all"],
    )

    assert check(wanted, REJECT) == (
        "expected outcome allow, got reject",
        "expected missing-rule to fire; it did not",
        "expected max_order_qty not to fire; it fired (reject): message",
        "expected action cancel_all; the decision's actions are reject, halt",
    )


def test_modifications_are_compared_exactly_and_only_for_the_fields_given() -> None:
    clipped = Decision(
        "pre_trade", Outcome.MODIFY, ("clip",), (hit("max_order_qty", "clip"),), {"qty": Decimal(5)}
    )

    assert check(expect(outcome="modify", modifications={"qty": "5.0"}), clipped) == ()
    assert check(expect(outcome="modify", modifications={"qty": 4}), clipped) == (
        "expected qty to be modified to 4, got 5",
    )
    assert check(expect(outcome="modify", modifications={"price": 100}), clipped) == (
        "expected price to be modified to 100; it was not modified",
    )


def test_a_quote_sized_clip_and_a_moved_trigger_can_be_expected_like_qty_and_price() -> None:
    clipped = Decision(
        "pre_trade",
        Outcome.MODIFY,
        ("clip", "round"),
        (hit("max_order_notional", "clip"), hit("float_noise", "round")),
        {"quote_qty": Decimal("120000"), "trigger_price": Decimal("64800.00")},
    )
    both = {"quote_qty": 120000, "trigger_price": 64800}

    assert check(expect(outcome="modify", modifications=both), clipped) == ()
    assert check(expect(outcome="modify", modifications={"qty": 1}), clipped) == (
        "expected qty to be modified to 1; it was not modified",
    )
    assert check(
        expect(outcome="modify", modifications={"quote_qty": 100, "trigger_price": 64801}),
        clipped,
    ) == (
        "expected quote_qty to be modified to 100, got 120000",
        "expected trigger_price to be modified to 64801, got 64800.00",
    )


# -- coverage --------------------------------------------------------------------------------


def test_coverage_counts_fired_rules_and_lists_the_rest_in_order() -> None:
    coverage = Coverage("custom rules", ("a", "b", "c"), frozenset({"c", "a", "zzz"}))

    assert coverage.covered == ("a", "c")
    assert coverage.never_fired == ("b",)
    assert shown_percent(coverage.percent) == Decimal("66.6")
    assert coverage.below(Decimal("66.7"))
    assert not coverage.below(Decimal("66.6"))
    assert coverage.describe() == "custom rules: 2/3 fired (66.6%)"
    assert Coverage("none", (), frozenset()).percent == 100


def test_the_bundle_lists_custom_rules_configured_limits_and_builtins() -> None:
    bundle = load_bundle(POLICIES)

    assert custom_rule_ids(bundle) == ("no-market-orders", "duplicate-id", "never-tested")
    assert configured_limits(bundle) == ("max_order_qty", "max_order_notional", "price_collar_bps")
    builtins = builtin_rule_ids()
    assert {"max_order_qty", "kill_switch", "reducing", "unknown_instrument"} <= builtins
    assert "no-market-orders" not in builtins


# -- whole runs --------------------------------------------------------------------------------


def test_a_run_of_the_fixture_tests_passes_with_partial_coverage() -> None:
    session = run_paths([POLICIES])

    assert session.problems == ()
    assert session.passed
    (result,) = session.results
    assert result.policies == str(POLICIES)
    assert [c.name for c in result.cases] == [
        "a small limit buy passes",
        "two BTC is over max_order_qty",
        "a market order is refused",
        "a reused client order id is refused",
    ]
    assert result.custom.never_fired == ("never-tested",)
    assert result.limits.never_fired == ("price_collar_bps",)
    assert result.coverage_shortfalls(Decimal(50)) == ()
    assert [c.label for c in result.coverage_shortfalls(Decimal(70))] == [
        "custom rules",
        "typed limits",
    ]
    assert result.coverage_shortfalls(None) == ()


def test_failed_cases_and_files_without_cases_fail_the_session() -> None:
    failing = run_paths([DATA / "failing"], policies=POLICIES)
    empty = run_paths([DATA / "empty"], policies=POLICIES)

    assert not failing.passed
    assert [c.passed for c in failing.results[0].cases] == [True, False, False]
    assert not empty.passed
    assert empty.results[0].files[0].empty


def test_when_anything_is_bad_then_every_problem_is_reported_and_nothing_runs(
    tmp_path: Path,
) -> None:
    session = run_paths([DATA / "bad", tmp_path / "missing"], policies=POLICIES)

    assert session.results == ()
    codes = {d.code for d in session.problems}
    assert {"file.not-found", "test.unknown-key", "context.out-of-bounds"} <= codes
    assert {"test.unknown-rule", "yaml.syntax", "test.duplicate-case"} <= codes
    assert list(session.problems) == sorted(session.problems, key=lambda d: d.sort_key())


def test_when_the_policies_do_not_load_then_their_problems_are_reported(tmp_path: Path) -> None:
    shutil.copytree(POLICIES, tmp_path / "policies")
    limits = tmp_path / "policies" / "risk-limits.yaml"
    limits.write_text(limits.read_text().replace("max_order_qty: 1", "max_order_qty: -1"))

    session = run_paths([tmp_path / "policies"])

    assert [(d.code, d.location.path) for d in session.problems] == [
        ("policy.out-of-bounds", str(limits))
    ]


def test_when_no_policy_directory_is_found_then_the_path_is_named(tmp_path: Path) -> None:
    (tmp_path / "only-tests").mkdir()
    shutil.copy(POLICIES / "tests" / "small.test.yaml", tmp_path / "only-tests")

    session = run_paths([tmp_path / "only-tests"])

    assert [(d.code, d.location.path, d.hint) for d in session.problems] == [
        ("test.no-policies", str(tmp_path / "only-tests"), "pass --policies DIR")
    ]


def test_when_there_are_no_test_files_then_the_session_fails_without_problems(
    tmp_path: Path,
) -> None:
    session = run_paths([tmp_path])

    assert session.problems == ()
    assert session.test_files == 0
    assert not session.passed


def test_the_example_policy_tests_pass_with_full_coverage() -> None:
    session = run_paths([REPO / "policies"])

    assert session.problems == ()
    failed = [
        f"{c.location} {c.name}: {c.reasons}"
        for r in session.results
        for c in r.cases
        if not c.passed
    ]
    assert failed == []
    assert session.passed
    (result,) = session.results
    assert result.coverage_shortfalls(Decimal(100)) == ()
    assert [c.label for c in result.coverages] == [
        "custom rules",
        "typed limits",
        "breakers",
        "band sets",
        "alerts",
    ]


# -- timelines -------------------------------------------------------------------------------

VENUE_STEP = """\
      - at_ms: {at}
        stage: order_send
        context:
          request: {{venue: binance, symbol: BTC/USDT, kind: create, client_order_id: c-{at}}}
          venue: {{error_rate_pct: 40}}
"""


def timeline_file(tmp_path: Path, steps: str) -> Path:
    path = tmp_path / "timeline.test.yaml"
    header = (
        "apiVersion: riskctl/v1\nkind: PolicyTest\nmetadata: {name: t}\ncases:\n"
        "  - name: venue errors over time\n    timeline:\n"
    )
    path.write_text(header + steps, encoding="utf-8")
    return path


def test_when_a_timeline_step_breaks_then_expected_and_actual_name_the_step_line(
    tmp_path: Path,
) -> None:
    steps = VENUE_STEP.format(at=1000) + (
        "        expect: {breakers: {venue-errors: open}, trading_state: HALTED,\n"
        "                 alerts: {feed-lag: firing}, bands: {'*/BTC/USDT': WARN},\n"
        "                 session: {daily_pnl: 5}, effects: [cancel_all]}\n"
    )
    path = timeline_file(tmp_path, steps)

    session = run_paths([path], policies=REPO / "policies")

    assert session.problems == ()
    assert not session.passed
    (case,) = session.results[0].cases
    where = f"step 1 at {path}:7:16 (order_send, at_ms 1000)"
    assert case.reasons == (
        f"{where}: expected trading state HALTED, got ACTIVE",
        f"{where}: expected breaker venue-errors open, got closed",
        f"{where}: expected band set */BTC/USDT in WARN, got NORMAL",
        f"{where}: expected alert feed-lag firing, got inactive",
        f"{where}: expected session daily_pnl 5, got no session yet",
        f"{where}: expected effect cancel_all; the step's effects are none",
    )
    assert case.stage == "order_send"


def test_when_five_bad_readings_fall_in_the_window_then_the_breaker_trips_and_is_covered(
    tmp_path: Path,
) -> None:
    steps = "".join(VENUE_STEP.format(at=at) for at in range(1000, 5001, 1000))
    steps += "        expect: {breakers: {venue-errors: open}, effects: [cancel_all]}\n"
    path = timeline_file(tmp_path, steps)

    session = run_paths([path], policies=REPO / "policies")

    assert session.passed, [c.reasons for c in session.results[0].cases]
    result = session.results[0]
    assert result.breakers.covered == ("venue-errors",)
    assert result.bands.never_fired == ("*/BTC/USDT", "*/ETH/USDT")
    assert result.alerts.covered == ()
    assert len(result.cases[0].decisions) == 5
    assert "breakers: 1/4 tripped (25.0%)" in result.breakers.describe()


def test_when_four_readings_fall_in_the_window_then_the_breaker_stays_closed_and_uncovered(
    tmp_path: Path,
) -> None:
    steps = "".join(VENUE_STEP.format(at=at) for at in (1000, 2000, 3000, 4000))
    steps += "        expect: {breakers: {venue-errors: closed}}\n"
    path = timeline_file(tmp_path, steps)

    session = run_paths([path], policies=REPO / "policies")

    assert session.passed
    assert session.results[0].breakers.covered == ()
    assert session.results[0].coverage_shortfalls(Decimal(100))


def test_when_a_step_names_a_breaker_band_set_or_alert_the_policies_lack_then_it_is_located(
    tmp_path: Path,
) -> None:
    steps = VENUE_STEP.format(at=1000) + (
        "        expect:\n"
        "          breakers: {venu-errors: closed, okx-feed-gaps@okx:BTC/USDT: closed}\n"
        "          bands: {'*/BTC/USD': NORMAL}\n"
        "          alerts: {feed-lags: inactive}\n"
    )
    path = timeline_file(tmp_path, steps)

    session = run_paths([path], policies=REPO / "policies")

    assert session.results == ()
    found = [(d.code, d.location.line, d.location.column, d.hint) for d in session.problems]
    assert found == [
        ("test.unknown-name", 13, 22, "did you mean 'venue-errors'?"),
        ("test.unknown-name", 14, 19, "did you mean '*/BTC/USDT'?"),
        ("test.unknown-name", 15, 20, "did you mean 'feed-lag'?"),
    ]


def test_when_an_alert_fires_at_another_severity_then_the_severity_is_the_reason(
    tmp_path: Path,
) -> None:
    steps = (
        "      - at_ms: 1000\n        stage: monitor\n        context:\n"
        "          {venue: binance, symbol: BTC/USDT,\n"
        "           account: {equity: 1, available_balance: 50000, balance_age_ms: 1}}\n"
        "        expect: {alerts: {free-balance: {status: firing, severity: critical}}}\n"
    )
    path = timeline_file(tmp_path, steps)

    session = run_paths([path], policies=REPO / "policies")

    (case,) = session.results[0].cases
    assert case.reasons == (
        f"step 1 at {path}:7:16 (monitor, at_ms 1000):"
        " expected alert free-balance severity critical, got warn",
    )
    assert session.results[0].alerts.covered == ("free-balance",)
