"""``riskctl lint`` report formats as CI uses them: SARIF, GitHub annotations, JSON, colour."""

from __future__ import annotations

import argparse
import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator
from ruamel.yaml import YAML

from riskctl.cli import lint as lint_cli
from riskctl.errors import Diagnostic, Location, Severity
from riskctl.lint import LintReport
from riskctl.lint.catalog import CATALOG

REPO = Path(__file__).resolve().parents[2]
RISKCTL = Path(sys.executable).parent / "riskctl"
BAD = "tests/data/bad"
ONE_BAD = "tests/data/bad/out-of-bounds.yaml"
SARIF_SCHEMA = json.loads(
    (REPO / "tests" / "data" / "sarif" / "sarif-schema-2.1.0.json").read_text()
)
ANNOTATION = re.compile(
    r"^::(error|warning|notice) file=[^,:]+,line=\d+,col=\d+,title=[a-z0-9.-]+::\S.*$"
)


def riskctl(
    *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(RISKCTL), *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert "Traceback" not in done.stderr
    assert "Traceback" not in done.stdout
    return done


def on_a_terminal(*args: str, no_color: str | None) -> tuple[int, str]:
    """Run riskctl with standard output on a pseudo-terminal; (exit code, what it printed)."""
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    if no_color is not None:
        env["NO_COLOR"] = no_color
    master, slave = pty.openpty()
    try:
        done = subprocess.run(
            [str(RISKCTL), *args],
            cwd=REPO,
            stdout=slave,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
            env=env,
        )
    finally:
        os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the terminal's other side is closed and drained
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return done.returncode, b"".join(chunks).decode()


def sarif_errors(log: dict[str, Any]) -> list[str]:
    validator = Draft4Validator(SARIF_SCHEMA, format_checker=Draft4Validator.FORMAT_CHECKER)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]


# -- SARIF -----------------------------------------------------------------------------------


def test_when_format_is_sarif_then_stdout_is_a_valid_log_with_one_result_per_finding() -> None:
    report = json.loads(riskctl("lint", "--format", "json", BAD).stdout)
    findings = report["findings"]
    assert set(report["summary"]) == {"files", "errors", "warnings", "waived"}

    done = riskctl("lint", "--format", "sarif", BAD)

    assert done.returncode == 1
    log = json.loads(done.stdout)
    assert sarif_errors(log) == []
    (run,) = log["runs"]
    assert run["tool"]["driver"]["name"] == "riskctl"
    assert [r["ruleId"] for r in run["results"]] == [f["code"] for f in findings]
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} == {f["code"] for f in findings}
    first = run["results"][0]["locations"][0]["physicalLocation"]
    assert first["artifactLocation"]["uri"] == findings[0]["path"]
    assert first["region"] == {
        "startLine": findings[0]["line"],
        "startColumn": findings[0]["column"],
    }
    assert re.search(r"file\(s\) checked: \d+ error\(s\)", done.stderr)


def test_when_output_is_given_then_the_report_goes_to_the_file_and_one_line_to_the_terminal(
    tmp_path: Path,
) -> None:
    target = tmp_path / "riskctl.sarif"

    done = riskctl("lint", ONE_BAD, "--format", "sarif", "--output", target)

    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"1 file(s) checked: 6 error(s), 0 warning(s); sarif report written to {target}"
    ]
    assert done.stderr == ""
    log = json.loads(target.read_text())
    assert sarif_errors(log) == []
    assert len(log["runs"][0]["results"]) == 6


def test_when_the_output_file_cannot_be_written_then_exit_2_with_the_reason(tmp_path: Path) -> None:
    target = tmp_path / "no-such-dir" / "report.sarif"

    done = riskctl("lint", "policies", "--format", "sarif", "--output", target)

    assert done.returncode == 2
    assert f"riskctl: error: cannot write the report to {target}: " in done.stderr
    assert done.stdout == ""


# -- GitHub, JSON, text ----------------------------------------------------------------------


def test_when_format_is_github_then_every_line_is_an_annotation_with_escaped_properties() -> None:
    done = riskctl("lint", "--format", "github", ONE_BAD)

    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert len(lines) == 6
    assert all(ANNOTATION.match(line) for line in lines), lines
    assert lines[0].startswith(f"::error file={ONE_BAD},line=")


def test_policy_test_files_next_to_the_policies_are_not_linted_as_policies() -> None:
    done = riskctl("lint", "--format", "json", "policies")

    report = json.loads(done.stdout)
    assert not [f for f in report["findings"] if f["severity"] == "error"]
    assert report["summary"]["files"] == len(list((REPO / "policies").glob("*.yaml")))
    assert ".test.yaml" not in done.stdout


@pytest.mark.parametrize(("no_color", "coloured"), [(None, True), ("1", False)])
def test_text_is_coloured_only_on_a_terminal_without_no_color(
    no_color: str | None, coloured: bool
) -> None:
    code, shown = on_a_terminal("lint", ONE_BAD, no_color=no_color)

    assert code == 1
    assert ("\x1b[1;31merror\x1b[0m" in shown) is coloured
    assert ("\x1b[" in shown) is coloured
    assert "policy.out-of-bounds" in shown


def test_base_is_accepted_and_the_findings_still_reported() -> None:
    done = riskctl("lint", "--format", "json", ONE_BAD, "--base", "HEAD")

    assert done.returncode == 1
    assert "usage:" not in done.stderr
    codes = {f["code"] for f in json.loads(done.stdout)["findings"]}
    assert "policy.out-of-bounds" in codes


# -- exit codes and options, in process --------------------------------------------------------


NOT_GIVEN = "<not given>"


def fake_lint(report: LintReport, seen: dict[str, Any]) -> Any:
    def lint_paths(paths: Any, *, base: str | None = NOT_GIVEN) -> LintReport:
        if base != NOT_GIVEN:
            seen["base"] = base
        return report

    return lint_paths


def run_lint(
    monkeypatch: pytest.MonkeyPatch, report: LintReport, *args: str
) -> tuple[int, dict[str, Any]]:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(lint_cli, "lint_paths", fake_lint(report, seen))
    namespace = argparse.Namespace(
        paths=[Path("policies")],
        format="json",
        output=None,
        strict=False,
        base=None,
        list_codes=False,
        whole_bundle=False,
    )
    for arg in args:
        key, _, value = arg.partition("=")
        setattr(namespace, key, value or True)
    return lint_cli.run(namespace), seen


WARNING = Diagnostic("expr.always-same", "always true", Location("p.yaml", 2, 3), Severity.WARNING)
INFO = Diagnostic("x.note", "a note", Location("p.yaml", 4, 1), Severity.INFO)


def test_warnings_fail_only_with_strict_and_notes_never_fail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    report = LintReport((WARNING, INFO), 1)

    assert run_lint(monkeypatch, report)[0] == 0
    assert run_lint(monkeypatch, report, "strict")[0] == 1
    assert run_lint(monkeypatch, LintReport((INFO,), 1), "strict")[0] == 0


def test_base_reaches_lint_paths_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    report = LintReport((), 1)

    assert run_lint(monkeypatch, report)[1] == {"base": None}
    assert run_lint(monkeypatch, report, "base=origin/main")[1] == {"base": "origin/main"}


def test_list_codes_prints_every_catalog_code_and_exits_0() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "riskctl"), "lint", "--list-codes"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    listed = {line.split()[0] for line in done.stdout.splitlines()}
    assert listed == set(CATALOG)


def test_lint_without_paths_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    namespace = argparse.Namespace(
        paths=[],
        format="text",
        output=None,
        strict=False,
        base=None,
        list_codes=False,
        whole_bundle=False,
    )
    assert lint_cli.run(namespace) == 2
    assert "--list-codes" in capsys.readouterr().err


def test_the_waived_count_comes_from_the_report(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run_lint(monkeypatch, LintReport((), 3, 2))

    assert code == 0
    assert json.loads(capsys.readouterr().out)["summary"]["waived"] == 2


def test_the_pre_commit_hooks_lint_policies_and_check_schemas() -> None:
    hooks = {
        h["id"]: h for h in YAML(typ="safe").load((REPO / ".pre-commit-hooks.yaml").read_text())
    }

    lint, schema = hooks["riskctl-lint"], hooks["riskctl-schema-check"]
    assert (lint["entry"], lint["language"], lint["pass_filenames"]) == (
        "riskctl lint --whole-bundle",
        "python",
        True,
    )
    assert lint["verbose"] is True
    assert re.search(lint["files"], "policies/risk-limits.yml")
    assert re.search(lint["exclude"], "policies/tests/fill.test.yaml")
    assert (schema["entry"], schema["pass_filenames"], schema["always_run"]) == (
        "riskctl schema --check",
        False,
        True,
    )
    assert schema["language"] == "python"
