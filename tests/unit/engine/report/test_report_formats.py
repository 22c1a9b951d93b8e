"""riskctl.report: the text, JSON and GitHub lint formats, and the summary they end with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from riskctl.errors import Diagnostic, Location, Severity
from riskctl.report import LINT_FORMATS, LintSummary, render_lint
from riskctl.report.github import escape_data, escape_property, render_github
from riskctl.report.paths import relative_posix, uri_of
from riskctl.report.text import paint, render_text

ROOT = Path("/work/repo")

ERROR = Diagnostic(
    "policy.out-of-bounds",
    "spec.defaults.max_order_notional was -5; it must be greater than 0",
    Location("policies/risk-limits.yaml", 17, 25, "/spec/defaults/max_order_notional"),
)
WARNING = Diagnostic(
    "expr.always-same",
    "the test is always true",
    Location("policies/rules.yaml", 3, 9),
    severity=Severity.WARNING,
    hint="remove it",
)
INFO = Diagnostic("rule.note", "a note", Location("policies/a.yaml", 1, 1), severity=Severity.INFO)


# -- text --------------------------------------------------------------------------------


def test_when_colour_is_off_then_text_is_exactly_diagnostic_format_sorted() -> None:
    text = render_text([WARNING, ERROR])

    assert text.splitlines() == [ERROR.format(), WARNING.format()]
    assert "\x1b[" not in text
    assert WARNING.format().endswith("(remove it)")


def test_when_colour_is_on_then_severity_is_coloured_and_the_words_are_unchanged() -> None:
    text = render_text([ERROR, WARNING, INFO], color=True)

    assert "\x1b[1;31merror\x1b[0m" in text
    assert "\x1b[1;33mwarning\x1b[0m" in text
    assert "\x1b[1;36minfo\x1b[0m" in text
    stripped = text
    for code in ("\x1b[1;31m", "\x1b[1;33m", "\x1b[1;36m", "\x1b[1m", "\x1b[2m", "\x1b[0m"):
        stripped = stripped.replace(code, "")
    assert stripped == render_text([ERROR, WARNING, INFO])


def test_paint_leaves_text_alone_without_colour_or_with_an_unknown_style() -> None:
    assert paint("x", "error", color=False) == "x"
    assert paint("x", "nonsense", color=True) == "x"


# -- json --------------------------------------------------------------------------------


def test_json_has_every_field_of_every_finding_and_the_summary_with_waived() -> None:
    summary = LintSummary.of([ERROR, WARNING, INFO], files=3, waived=2)

    report = json.loads(render_lint("json", [WARNING, ERROR, INFO], summary, root=ROOT))

    assert report["summary"] == {"files": 3, "errors": 1, "warnings": 1, "waived": 2}
    assert [f["code"] for f in report["findings"]] == [
        "rule.note",
        "policy.out-of-bounds",
        "expr.always-same",
    ]
    first = report["findings"][1]
    assert first == {
        "path": "policies/risk-limits.yaml",
        "line": 17,
        "column": 25,
        "pointer": "/spec/defaults/max_order_notional",
        "code": "policy.out-of-bounds",
        "severity": "error",
        "message": "spec.defaults.max_order_notional was -5; it must be greater than 0",
        "hint": None,
    }


def test_summary_line_mentions_waived_findings_only_when_there_are_some() -> None:
    assert LintSummary(6, 0, 1).line() == "6 file(s) checked: 0 error(s), 1 warning(s)"
    assert LintSummary(6, 1, 0, 3).line() == "6 file(s) checked: 1 error(s), 0 warning(s), 3 waived"


# -- github ------------------------------------------------------------------------------


def test_github_writes_one_workflow_command_per_finding_by_severity() -> None:
    lines = render_github([ERROR, WARNING, INFO], root=ROOT).splitlines()

    assert lines == [
        "::notice file=policies/a.yaml,line=1,col=1,title=rule.note::a note",
        "::error file=policies/risk-limits.yaml,line=17,col=25,title=policy.out-of-bounds::"
        "spec.defaults.max_order_notional was -5; it must be greater than 0",
        "::warning file=policies/rules.yaml,line=3,col=9,title=expr.always-same::"
        "the test is always true (remove it)",
    ]


def test_github_escapes_percent_newlines_and_property_separators() -> None:
    odd = Diagnostic(
        "yaml.syntax",
        "50% done\r\nnext: line, here",
        Location("dir,with:odd/f%.yaml", 2, 4),
    )

    (line,) = render_github([odd], root=ROOT).splitlines()

    assert line == (
        "::error file=dir%2Cwith%3Aodd/f%25.yaml,line=2,col=4,title=yaml.syntax::"
        "50%25 done%0D%0Anext: line, here"
    )
    assert escape_data("a%b\nc") == "a%25b%0Ac"
    assert escape_property("a:b,c%\r") == "a%3Ab%2Cc%25%0D"


def test_github_paths_are_relative_to_the_root(tmp_path: Path) -> None:
    inside = Diagnostic("yaml.syntax", "bad", Location(str(tmp_path / "p" / "x.yaml"), 1, 1))

    assert "file=p/x.yaml," in render_github([inside], root=tmp_path)


# -- paths and dispatch ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("policies/a.yaml", "policies/a.yaml"),
        ("./policies/a.yaml", "policies/a.yaml"),
        ("/work/repo/policies/a.yaml", "policies/a.yaml"),
        ("/elsewhere/a.yaml", "/elsewhere/a.yaml"),
    ],
)
def test_relative_posix(path: str, expected: str) -> None:
    assert relative_posix(path, ROOT) == expected


def test_uri_of_encodes_relative_paths_and_makes_outside_paths_file_uris() -> None:
    assert uri_of("my policies/a#1.yaml", ROOT) == "my%20policies/a%231.yaml"
    assert uri_of("/elsewhere/a.yaml", ROOT) == "file:///elsewhere/a.yaml"


def test_every_lint_format_renders_and_an_unknown_one_is_refused() -> None:
    summary = LintSummary.of([ERROR], files=1)
    for fmt in LINT_FORMATS:
        assert render_lint(fmt, [ERROR], summary, root=ROOT)
    with pytest.raises(ValueError, match="unknown lint format 'xml'"):
        render_lint("xml", [ERROR], summary, root=ROOT)
