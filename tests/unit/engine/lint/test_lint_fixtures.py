"""riskctl.lint over the fixture sets: each bad file reports exactly what it declares."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from riskctl.errors import Diagnostic
from riskctl.lint import lint_paths
from riskctl.lint.catalog import CATALOG

DATA = Path(__file__).resolve().parents[3] / "data"
# One corpus for the loader and lint: every file in tests/data/bad states what lint reports.
BAD = sorted((DATA / "bad").glob("*.yaml"))
GOOD = sorted((DATA / "lint" / "good").glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (\d+):(\d+) (\S+)$", re.MULTILINE)

Found = set[tuple[int, int, str]]


def expected(path: Path) -> Found:
    return {(int(m[1]), int(m[2]), m[3]) for m in EXPECT.finditer(path.read_text())}


def found(diagnostics: tuple[Diagnostic, ...]) -> Found:
    return {(d.location.line, d.location.column, d.code) for d in diagnostics}


def test_there_are_at_least_40_bad_fixtures_and_each_declares_what_it_expects() -> None:
    assert len(BAD) >= 40
    assert len(GOOD) >= 5
    assert [p.name for p in BAD if not expected(p)] == []


def test_every_expected_code_is_in_the_catalog() -> None:
    codes = {code for path in BAD for _, _, code in expected(path)}

    assert codes - set(CATALOG) == set()


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_when_bad_fixture_is_linted_then_exactly_its_expected_findings_are_reported(
    path: Path,
) -> None:
    report = lint_paths([path])

    assert found(report.diagnostics) == expected(path)
    assert report.files == 1
    for diagnostic in report.diagnostics:
        assert diagnostic.location.path == str(path)
        assert diagnostic.message
        assert diagnostic.message[0].islower() or diagnostic.message[0] in "`'"


@pytest.mark.parametrize("path", GOOD, ids=[p.stem for p in GOOD])
def test_when_good_fixture_is_linted_then_nothing_is_reported(path: Path) -> None:
    report = lint_paths([path])

    assert report.diagnostics == ()
    assert report.files == 1


def test_when_the_good_fixtures_are_linted_together_then_only_their_waivers_act() -> None:
    report = lint_paths([DATA / "lint" / "good"])

    assert report.diagnostics == ()
    assert report.files == len(GOOD)
    assert report.waived == 2
