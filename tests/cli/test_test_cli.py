"""``riskctl test`` as a desk runs it: the example suite, failures, coverage, JUnit, bad input."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from riskctl.cli.main import main
from riskctl.cli.test_cmd import _percent

REPO = Path(__file__).resolve().parents[2]
RISKCTL = Path(sys.executable).parent / "riskctl"
DATA = REPO / "tests" / "data" / "policytest"
POLICIES = "tests/data/policytest/policies"
LOCATED = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): error (?P<code>\S+): .+$")
EXPECT = re.compile(r"^# expect: (\d+):(\d+) (\S+)$", re.MULTILINE)
FILE_COUNT = re.compile(r"^(?P<status>PASS|FAIL) (?P<path>\S+\.test\.yaml): (?P<passed>\d+) passed")
CASE = re.compile(r"^(PASS|FAIL) \S+\.test\.yaml:\d+:\d+ ", re.MULTILINE)


def riskctl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(RISKCTL), *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in done.stderr
    assert "Traceback" not in done.stdout
    return done


def junit(path: Path) -> ET.Element:
    return ET.fromstring(path.read_bytes())  # noqa: S314  # our own output, parsed to check it


def test_the_example_policy_tests_all_pass_with_full_coverage() -> None:
    done = riskctl("test", "policies/", "--min-coverage", "100")

    assert done.returncode == 0, done.stdout
    lines = done.stdout.splitlines()
    files = [FILE_COUNT.match(line) for line in lines if line.startswith(("PASS ", "FAIL "))]
    assert all(files), lines
    assert all(m["status"] == "PASS" for m in files if m)
    assert all(m["path"].startswith("policies/tests/") for m in files if m)
    passed = sum(int(m["passed"]) for m in files if m)
    assert passed >= 40
    assert "custom rules: 16/16 fired (100.0%)" in lines
    assert re.search(r"^typed limits: (\d+)/\1 fired \(100\.0%\)$", done.stdout, re.MULTILINE)
    assert lines[-1] == f"{passed} case(s) in {len(files)} file(s): {passed} passed, 0 failed"


def test_when_all_cases_pass_then_one_line_per_file_not_per_case() -> None:
    done = riskctl("test", "policies/tests/fill.test.yaml")

    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines()[0] == "PASS policies/tests/fill.test.yaml: 4 passed"
    assert not CASE.search(done.stdout)


def test_when_verbose_then_every_passing_case_is_listed() -> None:
    quiet = riskctl("test", "policies/")
    verbose = riskctl("test", "-v", "policies/")

    assert verbose.returncode == 0
    assert not CASE.search(quiet.stdout)
    cases = CASE.findall(verbose.stdout)
    assert len(cases) == int(quiet.stdout.splitlines()[-1].split()[0])
    assert all(status == "PASS" for status in cases)
    assert verbose.stdout.endswith(quiet.stdout.split("\n\n", 1)[1])


def test_a_single_test_file_runs_against_the_policies_above_its_directory() -> None:
    done = riskctl("test", "policies/tests/fill.test.yaml")

    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines()[-1] == "4 case(s) in 1 file(s): 4 passed, 0 failed"


def test_when_cases_fail_then_exit_1_with_expected_and_actual_outcome_and_hits() -> None:
    done = riskctl("test", "tests/data/policytest/failing", "--policies", POLICIES)

    assert done.returncode == 1
    lines = done.stdout.splitlines()
    failing = "FAIL tests/data/policytest/failing/wrong.test.yaml:14:11"
    index = lines.index(f"{failing} expects allow but the duplicate id rejects")
    assert lines[index + 1 : index + 4] == [
        "     expected outcome allow, got reject",
        "     expected duplicate-id not to fire; it fired (reject): A reused client order id.",
        "     fired: duplicate-id (reject)",
    ]
    assert lines[0] == "FAIL tests/data/policytest/failing/wrong.test.yaml: 1 passed, 2 failed"
    assert [line.split()[0] for line in lines if CASE.match(line)] == ["FAIL", "FAIL"]
    assert lines[-1] == "3 case(s) in 1 file(s): 1 passed, 2 failed"


def test_when_a_test_file_has_no_cases_then_exit_1() -> None:
    done = riskctl("test", "tests/data/policytest/empty", "--policies", POLICIES)

    assert done.returncode == 1
    assert "FAIL tests/data/policytest/empty/empty.test.yaml: the file has no cases" in done.stdout


def test_when_coverage_is_below_the_minimum_then_exit_1_naming_rules_that_never_fired(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    below = riskctl("test", POLICIES, "--min-coverage", "70")
    monkeypatch.chdir(REPO)
    enough = main(["test", POLICIES, "--min-coverage", "66.6"])

    assert below.returncode == 1
    assert "custom rules: 2/3 fired (66.6%); never fired: never-tested" in below.stdout
    assert "typed limits: 2/3 fired (66.6%); never fired: price_collar_bps" in below.stdout
    assert "FAIL custom rules coverage 66.6% is below --min-coverage 70" in below.stdout
    assert "FAIL typed limits coverage 66.6% is below --min-coverage 70" in below.stdout
    assert enough == 0
    assert "FAIL" not in capsys.readouterr().out


def test_junit_output_goes_to_the_file_and_failures_and_summary_to_the_terminal(
    tmp_path: Path,
) -> None:
    target = tmp_path / "junit.xml"

    done = riskctl(
        "test", "tests/data/policytest/failing", "--policies", POLICIES,
        "--format", "junit", "--output", target, "--min-coverage", "30",
    )  # fmt: skip

    assert done.returncode == 1
    assert "PASS" not in done.stdout
    assert done.stdout.count("FAIL tests/data/policytest/failing/wrong.test.yaml") == 2
    assert f"junit report written to {target}" in done.stdout
    root = junit(target)
    assert (root.get("tests"), root.get("failures")) == ("5", "3")
    suite, coverage = root.findall("testsuite")
    assert (suite.get("name"), suite.get("tests"), suite.get("failures")) == (
        "wrong-expectations",
        "3",
        "2",
    )
    assert len(suite.findall("testcase/failure")) == 2
    assert coverage.get("name") == "coverage"
    assert [c.find("failure") is None for c in coverage.findall("testcase")] == [True, False]
    assert "FAIL typed limits coverage 0.0% is below --min-coverage 30" in done.stdout


def test_junit_without_output_is_written_to_stdout(tmp_path: Path) -> None:
    done = riskctl("test", POLICIES, "--format", "junit")

    assert done.returncode == 0
    (tmp_path / "out.xml").write_text(done.stdout)
    root = junit(tmp_path / "out.xml")
    assert (root.get("tests"), root.get("failures")) == ("4", "0")
    assert done.stderr.strip() == "4 case(s) in 1 file(s): 4 passed, 0 failed"


def test_bad_test_files_exit_2_with_every_problem_located_and_no_case_run() -> None:
    done = riskctl("test", "tests/data/policytest/bad", "--policies", POLICIES)

    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert lines[-1].endswith("problem(s) in the tests or policies; no case ran")
    matches = [LOCATED.match(line) for line in lines[:-1]]
    assert all(matches), lines
    reported = sorted(
        (Path(m["path"]).name, int(m["line"]), int(m["col"]), m["code"]) for m in matches if m
    )
    wanted = sorted(
        (path.name, int(m[1]), int(m[2]), m[3])
        for path in (DATA / "bad").glob("*.test.yaml")
        for m in EXPECT.finditer(path.read_text())
    )
    assert reported == wanted


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("test", "tests/data/policytest/nope"),
            "tests/data/policytest/nope:1:1: error file.not-found",
        ),
        (
            ("test", POLICIES, "--policies", "tests/data/nope"),
            "tests/data/nope:1:1: error file.not-found",
        ),
    ],
    ids=["missing-tests", "missing-policies"],
)
def test_missing_paths_exit_2_with_a_located_message(args: tuple[str, ...], message: str) -> None:
    done = riskctl(*args)

    assert done.returncode == 2
    assert message in done.stderr


def test_policies_that_do_not_load_exit_2_with_their_problems_located(tmp_path: Path) -> None:
    shutil.copytree(DATA / "policies", tmp_path / "policies")
    limits = tmp_path / "policies" / "risk-limits.yaml"
    limits.write_text(limits.read_text().replace("price_collar_bps: 50", "price_collar_bps: -50"))

    done = riskctl("test", tmp_path / "policies")

    assert done.returncode == 2
    assert f"{limits}:13:23: error policy.out-of-bounds: " in done.stderr


def test_no_test_files_at_all_exits_1(tmp_path: Path) -> None:
    done = riskctl("test", tmp_path)

    assert done.returncode == 1
    assert f"riskctl: no *.test.yaml or *.test.yml files found in {tmp_path}" in done.stderr


def test_a_bad_min_coverage_is_a_usage_error() -> None:
    done = riskctl("test", POLICIES, "--min-coverage", "120")

    assert done.returncode == 2
    assert "is not a percentage from 0 to 100" in done.stderr


def test_an_unwritable_output_file_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "missing-dir" / "junit.xml"
    monkeypatch.chdir(REPO)

    code = main(["test", POLICIES, "--format", "junit", "--output", str(target)])

    assert code == 2
    assert f"riskctl: error: cannot write the report to {target}" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["-1", "100.01", "nan", "inf", "1e999", ""])
def test_min_coverage_accepts_only_finite_percentages(value: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="is not a percentage from 0 to 100"):
        _percent(value)
    assert _percent("0") == 0
    assert _percent("66.6") == Decimal("66.6")
