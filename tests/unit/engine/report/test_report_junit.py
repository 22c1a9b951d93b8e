"""riskctl.report.junit and policytest_text: well-formed JUnit XML, readable text results."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

from riskctl.decision import Decision, Outcome, RuleHit
from riskctl.errors import Location
from riskctl.policytest import CaseResult, Coverage, FileResult, RunResult
from riskctl.report.junit import render_junit
from riskctl.report.policytest_text import render_results, render_summary, summary_line

HIT = RuleHit("max_order_qty", "RiskLimits/book", "limit.max_order_qty", "error", "reject", "m")
AUDIT = RuleHit("thin", "Rules/r", "rule.thin", "warning", "reject", "m", mode="audit")
REJECT = Decision("pre_trade", Outcome.REJECT, ("reject",), (HIT,))
ALLOW = Decision("pre_trade", Outcome.ALLOW, (), (AUDIT,))


def case(name: str, line: int, *reasons: str, decision: Decision = REJECT) -> CaseResult:
    return CaseResult(name, "pre_trade", Location("t/a.test.yaml", line, 11), decision, reasons)


def run(*files: FileResult, fired: frozenset[str] = frozenset({"max_order_qty"})) -> RunResult:
    return RunResult(
        policies="policies",
        files=files,
        custom=Coverage("custom rules", ("thin", "other"), fired | {"thin"}),
        limits=Coverage("typed limits", ("max_order_qty",), fired),
    )


FAILED = case(
    'expects <allow> & "quotes"',
    9,
    "expected outcome allow, got reject",
    "expected max_order_qty not to fire; it fired (reject): m",
)
PASSED = case("passes", 3, decision=ALLOW)
MIXED = FileResult("t/a.test.yaml", "suite-a", (PASSED, FAILED))
EMPTY = FileResult("t/empty.test.yaml", "suite-empty", ())


def parse(xml: str) -> ET.Element:
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(xml.encode())  # noqa: S314  # our own output, parsed to check it


def test_junit_is_well_formed_with_suite_case_and_failure_counts() -> None:
    root = parse(render_junit([run(MIXED, EMPTY)]))

    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "2", "0")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["suite-a", "suite-empty"]
    assert [(s.get("tests"), s.get("failures")) for s in suites] == [("2", "1"), ("1", "1")]
    cases = suites[0].findall("testcase")
    assert [c.get("name") for c in cases] == ["passes", 'expects <allow> & "quotes"']
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None
    assert failure.get("message") == "expected outcome allow, got reject"
    assert failure.text is not None
    assert "t/a.test.yaml:9:11" in failure.text
    assert "fired: max_order_qty (reject)" in failure.text
    assert (cases[1].get("file"), cases[1].get("line"), cases[1].get("classname")) == (
        "t/a.test.yaml",
        "9",
        "suite-a",
    )
    empty = suites[1].find("testcase/failure")
    assert empty is not None
    assert "no cases" in (empty.get("message") or "")


def test_junit_with_a_minimum_coverage_adds_a_coverage_suite() -> None:
    root = parse(render_junit([run(MIXED)], min_coverage=Decimal(80)))

    coverage = root.findall("testsuite")[-1]
    assert coverage.get("name") == "coverage"
    cases = coverage.findall("testcase")
    assert [c.get("name") for c in cases] == ["custom rules >= 80%", "typed limits >= 80%"]
    failure = cases[0].find("failure")
    assert failure is not None
    assert failure.text == "never fired: other"
    assert cases[1].find("failure") is None
    assert (root.get("tests"), root.get("failures")) == ("4", "2")


def test_junit_replaces_characters_xml_cannot_hold() -> None:
    odd = FileResult("t/odd.test.yaml", "odd", (case("bell\x07 and \x1b escape", 1, "x\x00y"),))

    root = parse(render_junit([run(odd)]))

    testcase = root.find("testsuite/testcase")
    assert testcase is not None
    replaced = "\N{REPLACEMENT CHARACTER}"
    assert testcase.get("name") == f"bell{replaced} and {replaced} escape"


def test_text_counts_passes_per_file_and_lists_failures_in_full() -> None:
    text = render_results([run(MIXED, EMPTY)])

    assert text.splitlines() == [
        "FAIL t/a.test.yaml: 1 passed, 1 failed",
        'FAIL t/a.test.yaml:9:11 expects <allow> & "quotes"',
        "     expected outcome allow, got reject",
        "     expected max_order_qty not to fire; it fired (reject): m",
        "     fired: max_order_qty (reject)",
        "FAIL t/empty.test.yaml: the file has no cases",
    ]
    passing = FileResult("t/b.test.yaml", "b", (PASSED, PASSED))
    assert render_results([run(passing)]) == "PASS t/b.test.yaml: 2 passed\n"


def test_text_with_each_pass_lists_every_case_with_reasons_and_hits_under_failures() -> None:
    text = render_results([run(MIXED, EMPTY)], passes="each")

    assert text.splitlines() == [
        "PASS t/a.test.yaml:3:11 passes",
        'FAIL t/a.test.yaml:9:11 expects <allow> & "quotes"',
        "     expected outcome allow, got reject",
        "     expected max_order_qty not to fire; it fired (reject): m",
        "     fired: max_order_qty (reject)",
        "FAIL t/empty.test.yaml: the file has no cases",
    ]


def test_text_hiding_passes_drops_passing_cases_and_marks_audit_hits() -> None:
    failing_audit = case("audit", 5, "expected outcome reject, got allow", decision=ALLOW)
    file = FileResult("t/a.test.yaml", "a", (PASSED, failing_audit))

    text = render_results([run(file)], passes="hide")

    assert text.splitlines() == [
        "FAIL t/a.test.yaml:5:11 audit",
        "     expected outcome reject, got allow",
        "     fired: thin (reject, audit)",
    ]


def test_text_colours_pass_and_fail_only_when_asked() -> None:
    assert "\x1b[32mPASS\x1b[0m" in render_results([run(MIXED)], color=True, passes="each")
    assert "\x1b[1;31mFAIL\x1b[0m" in render_results([run(MIXED)], color=True)
    assert "\x1b[" not in render_results([run(MIXED)])


def test_summary_reports_coverage_never_fired_rules_shortfalls_and_counts() -> None:
    text = render_summary([run(MIXED, EMPTY)], min_coverage=Decimal(75))

    assert text.splitlines() == [
        "custom rules: 1/2 fired (50.0%); never fired: other",
        "typed limits: 1/1 fired (100.0%)",
        "FAIL custom rules coverage 50.0% is below --min-coverage 75",
        "2 case(s) in 2 file(s): 1 passed, 1 failed, 1 file(s) without cases",
    ]


def test_summary_names_the_policy_directory_when_there_are_several() -> None:
    other = RunResult("elsewhere", (MIXED,), run().custom, run().limits)

    text = render_summary([run(MIXED), other])

    assert "policies: custom rules: 1/2 fired (50.0%); never fired: other" in text
    assert "elsewhere: typed limits: 1/1 fired (100.0%)" in text
    assert "policies: policies" in render_results([run(MIXED), other])
    assert summary_line([run(MIXED), other]) == "4 case(s) in 2 file(s): 2 passed, 2 failed"
