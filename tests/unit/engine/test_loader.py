"""riskctl.loader: every fixture's problems at exact line:column, generated bad files, names."""

from __future__ import annotations

import re
import shutil
import time
from decimal import Decimal
from pathlib import Path

import pytest

from riskctl.errors import Diagnostic, PolicyLoadError, Severity
from riskctl.kinds import RiskLimits
from riskctl.loader import load_documents, load_file, load_policies
from riskctl.yamlio import MAX_FILE_BYTES

DATA = Path(__file__).resolve().parents[2] / "data"
LOADER_CODES = ("file.", "yaml.", "policy.")


def _loader_fixture(path: Path) -> bool:
    """A fixture whose expected findings are all the loader's (the rest are lint's)."""
    codes = re.findall(r"^# expect: \S+ (\S+)$", path.read_text(), re.MULTILINE)
    return bool(codes) and all(code.startswith(LOADER_CODES) for code in codes)


BAD = [p for p in sorted((DATA / "bad").glob("*.yaml")) if _loader_fixture(p)]
GOOD = sorted((DATA / "good").glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (\d+):(\d+) (\S+)$", re.MULTILINE)

Found = list[tuple[int, int, str]]


def expected(path: Path) -> Found:
    return sorted((int(m[1]), int(m[2]), m[3]) for m in EXPECT.finditer(path.read_text()))


def found(problems: list[Diagnostic]) -> Found:
    return sorted((d.location.line, d.location.column, d.code) for d in problems)


RISK_LIMITS = """\
apiVersion: riskctl/v1
kind: RiskLimits
metadata:
  name: {name}
  version: 1
  owner: desk-crypto
spec:
  environment: paper
  venues:
    - venue: binance
      account: mm-1
      symbols: [BTC/USDT]
"""


# -- the fixture walkers -------------------------------------------------------------------


def test_fixture_sets_are_present_and_every_bad_fixture_declares_its_expectations() -> None:
    assert len(BAD) >= 25
    assert len(GOOD) >= 5
    assert [p.name for p in BAD if not expected(p)] == []


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_when_bad_fixture_is_loaded_then_exactly_its_expected_problems_are_reported(
    path: Path,
) -> None:
    policies, problems = load_documents([path])

    assert found(problems) == expected(path)
    assert policies == ()
    for problem in problems:
        assert problem.location.path == str(path)
        assert problem.severity is Severity.ERROR
        assert problem.message
        assert "Input should" not in problem.message  # pydantic's phrasing is rewritten
        assert "pydantic" not in problem.message


@pytest.mark.parametrize("path", GOOD, ids=[p.stem for p in GOOD])
def test_when_good_fixture_is_loaded_then_there_are_no_diagnostics(path: Path) -> None:
    policies, problems = load_documents([path])

    assert problems == []
    assert len(policies) == 1
    assert policies[0].path == str(path)


def test_when_good_fixtures_are_loaded_together_then_every_document_loads() -> None:
    policies = load_policies([DATA / "good"])

    assert sorted(p.document.kind for p in policies) == [
        "AlertThresholds",
        "ChangeControl",
        "CircuitBreakers",
        "InventoryBands",
        "RiskLimits",
        "Rules",
    ]


def test_when_yes_is_a_label_value_then_it_stays_the_string_yes() -> None:
    policy, problems = load_file(DATA / "good" / "risk-limits-anchors.yaml")

    assert problems == []
    assert policy is not None
    assert policy.document.metadata.labels == {
        "approved": "yes",
        "reviewed": "no",
        "paging": "on",
        "tier": "1",
    }


def test_when_anchors_aliases_and_merge_keys_are_used_then_values_are_shared() -> None:
    policy, _ = load_file(DATA / "good" / "risk-limits-anchors.yaml")
    assert policy is not None
    document = policy.document
    assert isinstance(document, RiskLimits)
    spec = document.spec

    assert [v.symbols for v in spec.venues] == [["BTC/USDT", "ETH/USDT"]] * 2
    btc, eth = spec.scoped
    assert btc.max_open_orders == 200  # merged from the &house defaults
    assert btc.max_order_notional == Decimal("250000")
    assert btc.max_order_qty == Decimal("0.1")
    assert btc.price_collar_bps == Decimal("50")
    assert eth.price_collar_bps == Decimal("40")  # the explicit key beats the merged one
    assert eth.max_order_qty == Decimal("172.0600")
    assert eth.scope.venue == "okx"


@pytest.mark.parametrize(
    "name",
    ["out-of-bounds", "unknown-key", "duplicate-key", "tab-indent", "multi-document", "bad-format"],
)
@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda raw: raw.replace(b"\n", b"\r\n"), id="crlf"),
        pytest.param(lambda raw: b"\xef\xbb\xbf" + raw, id="bom"),
    ],
)
def test_when_fixture_has_crlf_line_ends_or_a_bom_then_positions_are_unchanged(
    tmp_path: Path, name: str, variant: object
) -> None:
    source = DATA / "bad" / f"{name}.yaml"
    path = tmp_path / source.name
    path.write_bytes(variant(source.read_bytes()))  # type: ignore[operator]

    _, problems = load_documents([path])

    assert found(problems) == expected(source)


# -- bad input generated at test time (bytes and sizes that should not be committed) --------


@pytest.mark.parametrize(
    "raw", [b"", b"\n\n\n", b"   \n"], ids=["zero-bytes", "blank-lines", "spaces"]
)
def test_when_file_is_empty_then_yaml_empty_at_1_1(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "empty.yaml"
    path.write_bytes(raw)

    policies, problems = load_documents([path])

    assert policies == ()
    assert found(problems) == [(1, 1, "yaml.empty")]


def test_when_file_is_not_utf8_then_file_not_utf8_at_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    text = RISK_LIMITS.format(name="x").replace("desk-crypto", "d\xe9sk")
    path.write_bytes(text.encode("latin-1"))

    _, problems = load_documents([path])

    assert found(problems) == [(6, 11, "file.not-utf8")]  # "  owner: d" is 10 characters


def test_when_file_is_larger_than_one_mib_then_file_too_large(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    text = RISK_LIMITS.format(name="huge")
    path.write_text(text + "#" * (MAX_FILE_BYTES - len(text)) + "\n")

    _, problems = load_documents([path])

    assert found(problems) == [(1, 1, "file.too-large")]


def test_when_file_is_an_alias_bomb_then_too_many_nodes_quickly(tmp_path: Path) -> None:
    lines = ["apiVersion: riskctl/v1", "kind: RiskLimits", "l0: &l0 [lol, lol, lol, lol, lol]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 10)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    started = time.perf_counter()

    _, problems = load_documents([path])

    assert time.perf_counter() - started < 2.0
    assert found(problems) == [(1, 1, "yaml.too-many-nodes")]


def test_when_path_does_not_exist_then_file_not_found_and_other_paths_still_load(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "nope.yaml"
    good = DATA / "good" / "inventory-bands.yaml"

    policies, problems = load_documents([missing, good])

    assert [(d.code, d.location.path) for d in problems] == [("file.not-found", str(missing))]
    assert [p.document.ref for p in policies] == ["InventoryBands/good-bands"]


def test_when_directory_holds_no_policy_files_then_file_no_policies(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("nothing here\n")

    policies, problems = load_documents([tmp_path])

    assert policies == ()
    assert [(d.code, d.location.path) for d in problems] == [("file.no-policies", str(tmp_path))]


# -- names and whole-set behaviour ---------------------------------------------------------


def test_when_two_files_define_the_same_kind_and_name_then_policy_duplicate_name(
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(RISK_LIMITS.format(name="same"))
    second.write_text("# a copy\n" + RISK_LIMITS.format(name="same"))

    _, problems = load_documents([tmp_path])

    assert found(problems) == [(5, 9, "policy.duplicate-name")]  # b.yaml "  name: same"
    (problem,) = problems
    assert problem.location.path == str(second)
    assert problem.location.pointer == "/metadata/name"
    assert problem.message == (
        f"RiskLimits/same is defined twice; the first definition is at {first}:4:9"
    )
    assert problem.hint is not None


def test_when_two_kinds_share_a_name_then_both_load(tmp_path: Path) -> None:
    (tmp_path / "limits.yaml").write_text(RISK_LIMITS.format(name="shared"))
    (tmp_path / "rules.yaml").write_text(
        "apiVersion: riskctl/v1\nkind: Rules\nmetadata: {name: shared, version: 1, owner: me}\n"
        "spec:\n  rules:\n    - {id: r, stage: monitor, when: pnl.daily < 0, message: m}\n"
    )

    policies, problems = load_documents([tmp_path])

    assert problems == []
    assert sorted(p.document.ref for p in policies) == ["RiskLimits/shared", "Rules/shared"]


def test_when_several_files_are_bad_then_every_problem_of_every_file_is_reported_at_once(
    tmp_path: Path,
) -> None:
    names = ["out-of-bounds.yaml", "unknown-key.yaml", "yaml-syntax.yaml"]
    for name in names:
        shutil.copy(DATA / "bad" / name, tmp_path / name)
    shutil.copy(DATA / "good" / "rules-minimal.yaml", tmp_path / "rules-minimal.yaml")

    policies, problems = load_documents([tmp_path])

    assert [p.document.ref for p in policies] == ["Rules/minimal-rules"]
    for name in names:
        mine = [d for d in problems if d.location.path == str(tmp_path / name)]
        assert found(mine) == expected(DATA / "bad" / name)
    assert len(problems) == sum(len(expected(DATA / "bad" / n)) for n in names)


def test_when_any_file_is_bad_then_load_policies_raises_and_returns_nothing(
    tmp_path: Path,
) -> None:
    shutil.copy(DATA / "good" / "circuit-breakers.yaml", tmp_path / "a-good.yaml")
    shutil.copy(DATA / "bad" / "not-finite.yaml", tmp_path / "b-bad.yaml")

    with pytest.raises(PolicyLoadError) as caught:
        load_policies([tmp_path])

    problems = list(caught.value.diagnostics)
    assert {d.location.path for d in problems} == {str(tmp_path / "b-bad.yaml")}
    assert found(problems) == expected(DATA / "bad" / "not-finite.yaml")
    assert str(caught.value).startswith("4 problem(s) in policy files\n")
    assert f"{tmp_path / 'b-bad.yaml'}:15:23: error policy.not-finite: " in str(caught.value)


def test_when_every_file_is_good_then_load_policies_returns_them_in_file_order() -> None:
    policies = load_policies([DATA / "good"])

    assert [p.path for p in policies] == [str(p) for p in GOOD]


def test_diagnostics_carry_json_pointer_and_format_as_path_line_col_severity_code() -> None:
    path = DATA / "bad" / "out-of-bounds.yaml"
    _, problems = load_documents([path])

    first = next(d for d in problems if d.location.line == 17)
    assert first.location.pointer == "/spec/defaults/max_order_notional"
    assert first.format() == (
        f"{path}:17:25: error policy.out-of-bounds: "
        "spec.defaults.max_order_notional was -5; it must be greater than 0"
    )
    assert first.to_json() == {
        "path": str(path),
        "line": 17,
        "column": 25,
        "pointer": "/spec/defaults/max_order_notional",
        "code": "policy.out-of-bounds",
        "severity": "error",
        "message": "spec.defaults.max_order_notional was -5; it must be greater than 0",
        "hint": None,
    }
