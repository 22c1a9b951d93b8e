"""Inline waivers: reasons required, expiry through an injected date, unused waivers reported."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from riskctl.errors import Diagnostic, Location, Severity
from riskctl.lint import lint_paths
from riskctl.lint.waivers import Waivers, parse

TODAY = dt.date(2026, 6, 1)

PAPER = """\
apiVersion: riskctl/v1
kind: RiskLimits
metadata: {{name: paper, version: 1, owner: desk-crypto}}
spec:
  environment: paper
  venues:
    - venue: okx{comment}
      account: paper-1
      symbols: [ETH/USDT]
"""
VENUE_LINE = 7


def write(tmp_path: Path, comment: str, name: str = "paper.yaml") -> Path:
    path = tmp_path / name
    path.write_text(PAPER.format(comment=f"  {comment}" if comment else ""), encoding="utf-8")
    return path


def codes(path: Path, today: dt.date = TODAY) -> list[tuple[int, str]]:
    report = lint_paths([path], today=today)
    return [(d.location.line, d.code) for d in report.diagnostics]


def finding(code: str, line: int, path: str = "p.yaml") -> Diagnostic:
    return Diagnostic(code, "a finding", Location(path, line, 3))


# -- through lint_paths ------------------------------------------------------------------


def test_when_the_file_has_no_waiver_then_the_coverage_finding_is_reported(tmp_path: Path) -> None:
    assert codes(write(tmp_path, "")) == [(VENUE_LINE, "limits.coverage")]


def test_when_a_waiver_with_a_reason_is_on_the_line_then_the_finding_is_dropped_and_counted(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "# riskctl: ignore[limits.coverage] paper account, no real risk")

    report = lint_paths([path], today=TODAY)

    assert report.diagnostics == ()
    assert report.waived == 1
    assert report.files == 1


def test_when_a_waiver_has_no_reason_then_it_is_an_error_and_waives_nothing(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "# riskctl: ignore[limits.coverage]")

    assert codes(path) == [(VENUE_LINE, "limits.coverage"), (VENUE_LINE, "waiver.missing-reason")]


def test_when_a_waiver_has_only_a_date_then_the_reason_is_still_missing(tmp_path: Path) -> None:
    path = write(tmp_path, "# riskctl: ignore[limits.coverage] until: 2027-01-31")

    assert (VENUE_LINE, "waiver.missing-reason") in codes(path)


def test_when_a_waiver_names_no_code_then_it_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "# riskctl: ignore[] because")

    assert (VENUE_LINE, "waiver.missing-reason") in codes(path)


@pytest.mark.parametrize("until", ["2026-06-01", "2026-12-31"])
def test_when_the_expiry_is_today_or_later_then_the_waiver_still_applies(
    tmp_path: Path, until: str
) -> None:
    path = write(tmp_path, f"# riskctl: ignore[limits.coverage] until: {until} paper trial")

    assert codes(path) == []


def test_when_the_expiry_has_passed_then_waiver_expired_and_the_finding_comes_back(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "# riskctl: ignore[limits.coverage] until: 2026-05-31 paper trial")

    report = lint_paths([path], today=TODAY)

    assert [(d.code, d.severity) for d in report.diagnostics] == [
        ("limits.coverage", Severity.ERROR),
        ("waiver.expired", Severity.ERROR),
    ]
    assert "2026-05-31" in report.diagnostics[1].message
    assert report.waived == 0


def test_when_today_is_not_given_then_the_current_utc_date_decides_expiry(tmp_path: Path) -> None:
    expired = write(tmp_path, "# riskctl: ignore[limits.coverage] until: 2001-01-01 old", "a.yaml")
    current = write(tmp_path, "# riskctl: ignore[limits.coverage] until: 2999-01-01 new", "b.yaml")

    assert "waiver.expired" in {d.code for d in lint_paths([expired]).diagnostics}
    assert lint_paths([current]).diagnostics == ()


def test_when_the_expiry_is_not_a_date_then_waiver_bad_expiry_and_nothing_is_waived(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "# riskctl: ignore[limits.coverage] until: tomorrow paper")

    assert codes(path) == [(VENUE_LINE, "limits.coverage"), (VENUE_LINE, "waiver.bad-expiry")]


def test_when_a_waiver_suppresses_nothing_then_it_is_an_unused_warning(tmp_path: Path) -> None:
    path = write(tmp_path, "# riskctl: ignore[limits.coverage, bands.unordered] paper account")

    report = lint_paths([path], today=TODAY)

    assert [(d.code, d.severity) for d in report.diagnostics] == [
        ("waiver.unused", Severity.WARNING)
    ]
    assert "bands.unordered" in report.diagnostics[0].message
    assert report.waived == 1


def test_when_a_waiver_names_an_unknown_code_then_the_hint_suggests_the_right_one(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "# riskctl: ignore[limits.coverag] paper account")

    report = lint_paths([path], today=TODAY)

    unknown = [d for d in report.diagnostics if d.code == "waiver.unknown-code"]
    assert len(unknown) == 1
    assert unknown[0].hint is not None
    assert "limits.coverage" in unknown[0].hint


def test_when_a_waiver_is_on_another_line_then_it_does_not_apply(tmp_path: Path) -> None:
    path = tmp_path / "paper.yaml"
    text = PAPER.format(comment="").replace(
        "account: paper-1", "account: paper-1  # riskctl: ignore[limits.coverage] paper"
    )
    path.write_text(text, encoding="utf-8")

    assert codes(path) == [(VENUE_LINE, "limits.coverage"), (VENUE_LINE + 1, "waiver.unused")]


def test_when_a_loader_finding_carries_a_waiver_then_it_still_fails(tmp_path: Path) -> None:
    # The gate refuses to load this file; lint must not pass what the gate refuses.
    path = tmp_path / "rules.yaml"
    path.write_text(
        "apiVersion: riskctl/v1\nkind: Rules\n"
        "metadata: {name: r, version: 1, owner: desk-crypto}\n"
        "spec:\n  rules:\n    - id: a\n      stage: ingest\n      when: event.age_ms > 1\n"
        "      message: m\n      colour: red  # riskctl: ignore[policy.unknown-key] migrating\n",
        encoding="utf-8",
    )

    report = lint_paths([path], today=TODAY)

    assert [d.code for d in report.diagnostics] == ["policy.unknown-key"]
    assert report.waived == 0


def test_when_a_file_does_not_load_then_its_unused_waivers_are_not_reported(
    tmp_path: Path,
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(
        PAPER.format(comment="  # riskctl: ignore[limits.coverage] paper").replace("1,", "0,"),
        encoding="utf-8",
    )

    assert [code for _, code in codes(path)] == ["policy.out-of-bounds"]


def test_when_no_base_is_given_then_a_waiver_for_a_change_code_is_not_unused(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "# riskctl: ignore[limits.coverage, change.version-not-bumped] paper")

    assert codes(path) == []


# -- the Waivers class -------------------------------------------------------------------


def test_parse_reads_several_codes_an_expiry_and_the_reason() -> None:
    text = "a: 1\nb: 2  #  riskctl:  ignore[x.y, limits.coverage] until: 2027-01-31 why not\n"

    waivers, problems = parse("p.yaml", text)

    assert [d.code for d in problems] == ["waiver.unknown-code"]
    assert len(waivers) == 1
    waiver = waivers[0]
    assert (waiver.location.line, waiver.location.column) == (2, 7)
    assert waiver.codes == ("limits.coverage",)
    assert waiver.until == dt.date(2027, 1, 31)
    assert waiver.reason == "why not"


def test_when_one_comment_waives_two_codes_then_both_findings_on_the_line_are_dropped() -> None:
    texts = {"p.yaml": "x\ny  # riskctl: ignore[limits.coverage, hygiene.secret] fixture\n"}
    waivers = Waivers(texts, today=TODAY)

    kept, waived = waivers.apply(
        [finding("limits.coverage", 2), finding("hygiene.secret", 2), finding("bands.unordered", 2)]
    )

    assert [d.code for d in kept] == ["bands.unordered"]
    assert waived == 2
    assert list(waivers.findings(checked={"p.yaml"}, skipped_codes=())) == []


def test_findings_about_waivers_are_never_waived() -> None:
    waivers = Waivers({"p.yaml": "y  # riskctl: ignore[waiver.unused] no\n"}, today=TODAY)

    kept, waived = waivers.apply([finding("waiver.unused", 1)])

    assert [d.code for d in kept] == ["waiver.unused"]
    assert waived == 0


def test_when_until_is_written_without_its_colon_then_the_date_still_expires(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "# riskctl: ignore[limits.coverage] until 2026-01-31 paper account")
    assert {code for _, code in codes(path)} == {"waiver.expired", "limits.coverage"}
