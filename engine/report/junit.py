"""Policy test results as JUnit XML, the format CI systems show as a test report.

One ``<testsuite>`` per test file and one ``<testcase>`` per case; a failed case has a
``<failure>`` whose message is its first reason and whose text lists every reason and the
rules that fired. A file without cases gets one failing testcase, and with a minimum
coverage each coverage set becomes a testcase of a ``coverage`` suite, so every way the
run can fail shows up in the report.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from decimal import Decimal

from riskctl.policytest import CaseResult, Coverage, FileResult, RunResult

__all__ = ["render_junit"]

# Characters XML 1.0 cannot carry at all, not even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_FAILURE_TYPE = "riskctl.policy-test"


def render_junit(results: Sequence[RunResult], *, min_coverage: Decimal | None = None) -> str:
    """The whole run as a JUnit XML document."""
    root = ET.Element("testsuites", name="riskctl test")
    for run in results:
        for file in run.files:
            root.append(_file_suite(file, run.policies))
        if min_coverage is not None:
            root.append(_coverage_suite(run, min_coverage))
    suites = list(root)
    _counts(root, suites)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _file_suite(file: FileResult, policies: str) -> ET.Element:
    suite = ET.Element("testsuite", name=_clean(file.suite), file=_clean(file.path))
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="policies", value=_clean(policies))
    for case in file.cases:
        suite.append(_case(case, file))
    if file.empty:
        empty = ET.SubElement(
            suite, "testcase", name="(no cases)", classname=_clean(file.suite), time="0"
        )
        _failure(empty, "the file has no cases; a test file must test something", "")
    return suite


def _case(case: CaseResult, file: FileResult) -> ET.Element:
    element = ET.Element(
        "testcase",
        name=_clean(case.name),
        classname=_clean(file.suite),
        file=_clean(file.path),
        line=str(case.location.line),
        time=f"{case.seconds:.6f}",
    )
    if not case.passed:
        hits = ", ".join(f"{h.rule_id} ({h.action})" for h in case.decision.hits) or "none"
        details = "\n".join([*case.reasons, f"outcome: {case.decision.outcome}", f"fired: {hits}"])
        _failure(element, case.reasons[0], f"{case.location}\n{details}")
    return element


def _coverage_suite(run: RunResult, minimum: Decimal) -> ET.Element:
    suite = ET.Element("testsuite", name="coverage", file=_clean(run.policies))
    for coverage in run.coverages:
        case = ET.SubElement(
            suite,
            "testcase",
            name=f"{coverage.label} >= {minimum}%",
            classname="coverage",
            time="0",
        )
        if coverage.below(minimum):
            _failure(case, f"{coverage.describe()}; below {minimum}%", _never_fired(coverage))
    return suite


def _never_fired(coverage: Coverage) -> str:
    return f"never {coverage.verb}: " + (", ".join(coverage.never_fired) or "none")


def _failure(parent: ET.Element, message: str, text: str) -> None:
    failure = ET.SubElement(parent, "failure", message=_clean(message), type=_FAILURE_TYPE)
    failure.text = _clean(text)


def _counts(root: ET.Element, suites: list[ET.Element]) -> None:
    total_tests = total_failures = 0
    total_time = 0.0
    for suite in suites:
        cases = suite.findall("testcase")
        failures = sum(1 for c in cases if c.find("failure") is not None)
        seconds = sum(float(c.get("time", "0")) for c in cases)
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        suite.set("time", f"{seconds:.6f}")
        total_tests += len(cases)
        total_failures += failures
        total_time += seconds
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    root.set("errors", "0")
    root.set("time", f"{total_time:.6f}")


def _clean(text: str) -> str:
    """Replace characters XML cannot hold (control characters) so the document stays valid."""
    return _NOT_XML.sub("\N{REPLACEMENT CHARACTER}", text)
