"""``riskctl lint`` as a user runs it: exit codes, text and JSON reports, no tracebacks."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from clikit import REPO, riskctl

from riskctl.lint import lint_paths

BAD = REPO / "tests" / "data" / "bad"
GOOD = REPO / "tests" / "data" / "good"
EXPECT = re.compile(r"^# expect: (\d+):(\d+) (\S+)$", re.MULTILINE)


def expected(path: Path) -> list[tuple[int, int, str]]:
    return sorted((int(m[1]), int(m[2]), m[3]) for m in EXPECT.finditer(path.read_text()))


def test_when_linting_the_example_policies_then_exit_0_and_no_errors() -> None:
    done = riskctl("lint", "policies/")

    assert done.returncode == 0
    assert [line for line in done.stdout.splitlines() if ": error " in line] == []
    count = len(list((REPO / "policies").glob("*.yaml")))
    assert f"{count} file(s) checked: 0 error(s)" in done.stderr


def test_when_linting_the_good_fixtures_then_exit_0_and_no_findings() -> None:
    done = riskctl("lint", GOOD)

    assert done.returncode == 0, done.stdout
    assert done.stdout == ""
    count = len(list(GOOD.glob("*.yaml")))
    assert f"{count} file(s) checked: 0 error(s), 0 warning(s)" in done.stderr


def test_when_linting_a_bad_fixture_then_exit_1_and_path_line_col_error_code_message() -> None:
    done = riskctl("lint", "tests/data/bad/out-of-bounds.yaml")

    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert (
        "tests/data/bad/out-of-bounds.yaml:17:25: error policy.out-of-bounds: "
        "spec.defaults.max_order_notional was -5; it must be greater than 0"
    ) in lines
    pattern = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): error (?P<code>\S+): .+$")
    matches = [pattern.match(line) for line in lines]
    assert all(matches), lines
    reported = sorted((int(m["line"]), int(m["col"]), m["code"]) for m in matches if m)
    assert reported == expected(BAD / "out-of-bounds.yaml")
    assert "1 file(s) checked: 6 error(s), 0 warning(s)" in done.stderr


def test_when_linting_the_bad_fixture_directory_then_stdout_is_every_finding_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(REPO)
    report = lint_paths([Path("tests/data/bad")])

    done = riskctl("lint", "tests/data/bad")

    assert done.returncode == 1
    assert done.stdout.splitlines() == [d.format() for d in report.diagnostics]
    files = len(list(BAD.glob("*.yaml")))
    # Linted as one bundle the files see each other (limits in one cover another's
    # universe), so the counts come from the library's report, not the per-file headers.
    errors = sum(d.severity == "error" for d in report.diagnostics)
    warnings = sum(d.severity == "warning" for d in report.diagnostics)
    assert errors > files
    assert f"{files} file(s) checked: {errors} error(s), {warnings} warning(s)" in done.stderr


def test_when_format_is_json_then_findings_and_summary_parse_with_every_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(REPO)
    report = lint_paths([Path("tests/data/bad")])

    done = riskctl("lint", "--format", "json", "tests/data/bad")

    assert done.returncode == 1
    parsed = json.loads(done.stdout)
    summary = {key: parsed["summary"][key] for key in ("files", "errors", "warnings")}
    assert summary == {
        "files": len(list(BAD.glob("*.yaml"))),
        "errors": sum(d.severity == "error" for d in report.diagnostics),
        "warnings": sum(d.severity == "warning" for d in report.diagnostics),
    }
    for finding in parsed["findings"]:
        assert {"path", "line", "column", "code", "severity", "message", "pointer"} <= set(finding)
        assert isinstance(finding["line"], int)
        assert isinstance(finding["column"], int)
        assert finding["severity"] in ("error", "warning")
    assert parsed["findings"] == [d.to_json() for d in report.diagnostics]


def test_when_format_is_json_then_a_fixtures_findings_are_its_expected_ones() -> None:
    done = riskctl("lint", "--format", "json", "tests/data/bad/not-finite.yaml")

    findings = json.loads(done.stdout)["findings"]
    reported = sorted((f["line"], f["column"], f["code"]) for f in findings)
    assert reported == expected(BAD / "not-finite.yaml")
    assert {f["path"] for f in findings} == {"tests/data/bad/not-finite.yaml"}


def test_when_format_is_json_then_the_pointer_names_the_field() -> None:
    done = riskctl("lint", "--format", "json", "tests/data/bad/unknown-key.yaml")

    findings = json.loads(done.stdout)["findings"]
    assert [(f["pointer"], f["hint"]) for f in findings] == [
        ("/spec/defaults/max_ordr_notional", "did you mean 'max_order_notional'?"),
        ("/spec/scoped/0/scope/symbl", "did you mean 'symbol'?"),
        ("/spec/limits", None),
    ]


def test_when_the_example_policies_are_linted_as_json_then_summary_counts_files() -> None:
    done = riskctl("lint", "--format", "json", "policies")

    assert done.returncode == 0
    report = json.loads(done.stdout)
    count = len(list((REPO / "policies").glob("*.yaml")))
    assert report["summary"]["files"] == count
    assert report["summary"]["errors"] == 0
    assert [f for f in report["findings"] if f["severity"] == "error"] == []
    assert report["summary"]["warnings"] == len(
        [f for f in report["findings"] if f["severity"] == "warning"]
    )


def test_when_the_good_fixtures_are_linted_as_json_then_there_are_no_findings() -> None:
    done = riskctl("lint", "--format", "json", GOOD)

    assert done.returncode == 0
    report = json.loads(done.stdout)
    assert report["findings"] == []
    summary = {key: report["summary"][key] for key in ("files", "errors", "warnings")}
    assert summary == {"files": len(list(GOOD.glob("*.yaml"))), "errors": 0, "warnings": 0}


def test_when_path_does_not_exist_then_exit_1_with_file_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "nope"

    done = riskctl("lint", missing)

    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{missing}:1:1: error file.not-found: no such file or directory"
    ]


@pytest.mark.parametrize(
    "args",
    [(), ("lint", "--format", "xml", "policies")],
    ids=["no-args", "unknown-format"],
)
def test_when_usage_is_wrong_then_exit_2_with_usage_on_stderr(args: tuple[str, ...]) -> None:
    done = riskctl(*args)

    assert done.returncode == 2
    assert "usage: riskctl" in done.stderr
    assert "riskctl: error: " in done.stderr


def test_when_files_hold_bad_bytes_or_alias_bombs_then_exit_1_without_traceback(
    tmp_path: Path,
) -> None:
    (tmp_path / "latin1.yaml").write_bytes(b"apiVersion: riskctl/v1\nkind: R\xe9sk\n")
    bomb = ["l0: &l0 [a, a, a, a, a, a, a, a, a, a]"]
    bomb += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 10)]
    (tmp_path / "bomb.yaml").write_text("\n".join(bomb) + "\n")
    (tmp_path / "huge.yaml").write_bytes(b"#" * (1024 * 1024 + 1))
    (tmp_path / "empty.yaml").write_bytes(b"")

    done = riskctl("lint", tmp_path)

    assert done.returncode == 1
    assert sorted(line.split(": error ")[0] for line in done.stdout.splitlines()) == [
        f"{tmp_path / 'bomb.yaml'}:1:1",
        f"{tmp_path / 'empty.yaml'}:1:1",
        f"{tmp_path / 'huge.yaml'}:1:1",
        f"{tmp_path / 'latin1.yaml'}:2:8",
    ]
    codes = sorted(line.split(" ")[2].rstrip(":") for line in done.stdout.splitlines())
    assert codes == ["file.not-utf8", "file.too-large", "yaml.empty", "yaml.too-many-nodes"]


def test_when_a_directory_mixes_good_and_bad_files_then_only_the_bad_ones_are_reported(
    tmp_path: Path,
) -> None:
    shutil.copy(GOOD / "rules-minimal.yaml", tmp_path / "rules.yaml")
    shutil.copy(BAD / "duplicate-key.yaml", tmp_path / "limits.yaml")

    done = riskctl("lint", tmp_path)

    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{tmp_path / 'limits.yaml'}:16:5: error yaml.duplicate-key: the key 'max_order_qty' "
        "appears twice in the same mapping (first on line 15); the second would silently win"
    ]
    assert "2 file(s) checked: 1 error(s), 0 warning(s)" in done.stderr


def test_when_one_file_is_given_with_whole_bundle_then_findings_across_its_directory_show(
    tmp_path: Path,
) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(REPO / "policies", policies)
    rules = policies / "rules.yaml"
    text = rules.read_text()
    rules.write_text(text.replace("    - id: ingest-stale\n", TYPO, 1))
    finding = f"{rules}:15:14: warning scope.outside-universe: rule 'ingest-stale'"

    alone = riskctl("lint", rules)
    bundle = riskctl("lint", "--whole-bundle", rules, policies / "tests" / "fill.test.yaml")

    assert finding not in alone.stdout
    assert bundle.returncode == 0, bundle.stdout
    assert [line for line in bundle.stdout.splitlines() if line.startswith(str(policies))] == [
        line for line in riskctl("lint", policies).stdout.splitlines() if line
    ]
    assert finding in bundle.stdout
    count = len(list(policies.glob("*.yaml")))
    assert f"{count} file(s) checked: 0 error(s), 1 warning(s)" in bundle.stderr
    assert riskctl("lint", "--whole-bundle", "--strict", rules).returncode == 1


TYPO = "    - id: ingest-stale\n      scope: {venue: binanse}\n"


def test_when_a_policy_test_file_is_linted_then_the_error_points_to_riskctl_test() -> None:
    done = riskctl("lint", "policies/tests/fill.test.yaml")

    assert done.returncode == 1
    (line,) = done.stdout.splitlines()
    assert line.startswith("policies/tests/fill.test.yaml:")
    assert "error policy.unknown-kind: kind was 'PolicyTest';" in line
    assert line.endswith("(policy tests run with `riskctl test`)")


def test_when_a_kind_is_misspelt_then_the_hint_is_still_the_nearest_kind(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("apiVersion: riskctl/v1\nkind: Rule\nmetadata: {name: r, version: 1}\n")

    done = riskctl("lint", path)

    assert done.stdout.rstrip().endswith("(did you mean 'Rules'?)")
