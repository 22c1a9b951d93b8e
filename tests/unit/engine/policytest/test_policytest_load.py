"""riskctl.policytest.load: discovery, the policy-directory rule, located problems."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from riskctl.bundle import load_bundle
from riskctl.gate import Gate
from riskctl.policytest.load import (
    find_test_files,
    load_test_file,
    policies_for,
    prepare,
    unknown_rule_ids,
)
from riskctl.yamlio import iter_files

REPO = Path(__file__).resolve().parents[4]
DATA = REPO / "tests" / "data" / "policytest"
POLICIES = DATA / "policies"
BAD = sorted((DATA / "bad").glob("*.test.yaml"))
EXPECT = re.compile(r"^# expect: (\d+):(\d+) (\S+)$", re.MULTILINE)


def expected(path: Path) -> list[tuple[int, int, str]]:
    return sorted((int(m[1]), int(m[2]), m[3]) for m in EXPECT.finditer(path.read_text()))


def problems_of(path: Path) -> list[tuple[int, int, str]]:
    """Every problem a test file has against the fixture policies, as (line, column, code)."""
    loaded, found = load_test_file(path)
    if loaded is not None:
        gate = Gate(load_bundle(POLICIES), warm=False)
        _, found = prepare(loaded, gate.context)
        found += unknown_rule_ids([loaded], {"duplicate-id", "no-market-orders", "max_order_qty"})
    assert all(d.location.path == str(path) for d in found)
    return sorted((d.location.line, d.location.column, d.code) for d in found)


def test_every_bad_fixture_declares_what_it_expects() -> None:
    assert len(BAD) >= 8
    assert [p.name for p in BAD if not expected(p)] == []


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_when_a_bad_test_file_is_loaded_then_exactly_its_expected_problems_are_reported(
    path: Path,
) -> None:
    assert problems_of(path) == expected(path)


def test_a_good_file_loads_with_every_case_located_at_its_name() -> None:
    path = POLICIES / "tests" / "small.test.yaml"
    loaded, problems = load_test_file(path)
    assert problems == []
    assert loaded is not None

    prepared, problems = prepare(loaded, Gate(load_bundle(POLICIES), warm=False).context)

    assert problems == []
    assert loaded.suite == "small"
    assert [(c.location.line, c.location.column) for c in prepared.cases] == [
        (6, 11),
        (16, 11),
        (20, 11),
        (28, 11),
    ]
    assert prepared.cases[0].context.order.qty == 0.5  # type: ignore[attr-defined]


def test_find_test_files_walks_directories_takes_files_as_given_and_reports_missing(
    tmp_path: Path,
) -> None:
    (tmp_path / "sub").mkdir()
    for name in ("b.test.yaml", "a.test.yml", "policy.yaml", "sub/c.test.yaml", "x.test.json"):
        (tmp_path / name).write_text("{}\n")
    missing = tmp_path / "nope"

    found, problems = find_test_files([tmp_path, tmp_path / "policy.yaml", missing])

    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "a.test.yml",
        "b.test.yaml",
        "sub/c.test.yaml",
        "policy.yaml",
    ]
    assert [(d.code, d.location.path) for d in problems] == [("file.not-found", str(missing))]


def test_policies_for_is_the_directory_itself_or_its_parent_when_it_has_no_policies(
    tmp_path: Path,
) -> None:
    shutil.copytree(POLICIES, tmp_path / "policies")
    tests = tmp_path / "policies" / "tests"

    assert policies_for(tmp_path / "policies") == tmp_path / "policies"
    assert policies_for(tests) == tmp_path / "policies"
    assert policies_for(tests / "small.test.yaml") == tmp_path / "policies"
    (tmp_path / "empty" / "lonely").mkdir(parents=True)
    assert policies_for(tmp_path / "empty" / "lonely") is None


def test_a_policy_directory_walk_skips_test_files_but_a_named_file_is_kept(
    tmp_path: Path,
) -> None:
    (tmp_path / "limits.yaml").write_text("{}\n")
    (tmp_path / "limits.test.yaml").write_text("{}\n")
    (tmp_path / "more.test.yml").write_text("{}\n")

    assert list(iter_files([tmp_path])) == [tmp_path / "limits.yaml"]
    assert list(iter_files([tmp_path / "more.test.yml"])) == [tmp_path / "more.test.yml"]
