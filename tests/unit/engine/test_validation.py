"""riskctl.validation: stable codes, messages in full words, hints, and values kept exactly."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Literal

import pytest
from jsonschema import Draft202012Validator
from pydantic import Field, ValidationError
from ruamel.yaml import YAML

from riskctl.errors import Diagnostic, Location
from riskctl.fields import Count, Identifier, Money, Scope, StrictModel
from riskctl.kinds import KINDS, RiskLimits
from riskctl.loader import load_documents, load_file
from riskctl.validation import CODES, diagnostics_from, field_label, suggest

REPO = Path(__file__).resolve().parents[3]
BAD = REPO / "tests" / "data" / "bad"

HEADER = """\
apiVersion: riskctl/v1
kind: RiskLimits
metadata:
  name: probe
  version: 1
  owner: desk-crypto
spec:
  environment: paper
  venues:
    - venue: binance
      account: mm-1
      symbols: [BTC/USDT]
  defaults:
"""
VALUE_LINE = HEADER.count("\n") + 1  # the line written after HEADER


def problems_in(name: str) -> dict[tuple[int, int], Diagnostic]:
    _, problems = load_documents([BAD / name])
    return {(d.location.line, d.location.column): d for d in problems}


def load_limit(tmp_path: Path, line: str) -> tuple[RiskLimits | None, list[Diagnostic]]:
    path = tmp_path / "probe.yaml"
    path.write_text(HEADER + line + "\n")
    policy, problems = load_file(path)
    document = policy.document if policy is not None else None
    assert document is None or isinstance(document, RiskLimits)
    return document, problems


# -- messages in full words ------------------------------------------------------------------


def test_when_max_order_notional_is_minus_5_then_the_message_says_it_must_be_above_zero() -> None:
    problem = problems_in("out-of-bounds.yaml")[(17, 25)]

    assert problem.code == "policy.out-of-bounds"
    assert problem.message == "spec.defaults.max_order_notional was -5; it must be greater than 0"


def test_when_max_order_notional_is_1e12_then_the_message_names_the_1e10_cap() -> None:
    problem = problems_in("out-of-bounds.yaml")[(23, 27)]

    assert problem.message.startswith("spec.scoped[0].max_order_notional was 1")
    assert problem.message.endswith("; it must be less than or equal to 10000000000")


def test_when_a_count_is_zero_then_the_message_gives_the_inclusive_minimum() -> None:
    problem = problems_in("out-of-bounds.yaml")[(19, 22)]

    assert problem.message == (
        "spec.defaults.max_open_orders was 0; it must be greater than or equal to 1"
    )


def test_when_a_value_is_nan_then_the_message_says_it_must_be_finite() -> None:
    problem = problems_in("not-finite.yaml")[(15, 23)]

    assert problem.message == "spec.defaults.price_collar_bps was NaN; it must be a finite number"


@pytest.mark.parametrize(
    ("position", "message", "hint"),
    [
        (
            (15, 5),
            "spec.defaults has an unknown key 'max_ordr_notional'",
            "did you mean 'max_order_notional'?",
        ),
        ((17, 15), "spec.scoped[0].scope has an unknown key 'symbl'", "did you mean 'symbol'?"),
        ((19, 3), "spec has an unknown key 'limits'", None),
    ],
)
def test_when_a_key_is_unknown_then_the_message_names_it_and_hints_the_closest_field(
    position: tuple[int, int], message: str, hint: str | None
) -> None:
    problem = problems_in("unknown-key.yaml")[position]

    assert problem.message == message
    assert problem.hint == hint


def test_when_a_rule_key_is_misspelt_then_the_hint_comes_from_the_rule_model() -> None:
    problem = problems_in("rules-bad.yaml")[(18, 7)]

    assert problem.message == "spec.rules[0] has an unknown key 'mesage'"
    assert problem.hint == "did you mean 'message'?"


def test_when_kind_is_misspelt_then_the_message_lists_kinds_and_the_hint_names_one() -> None:
    problem = problems_in("unknown-kind.yaml")[(3, 7)]

    assert problem.message == f"kind was 'RiskLimit'; it must be one of {', '.join(sorted(KINDS))}"
    assert "AlertThresholds, ChangeControl, CircuitBreakers" in problem.message
    assert problem.hint == "did you mean 'RiskLimits'?"


def test_when_api_version_is_unknown_then_the_message_names_the_supported_one() -> None:
    problem = problems_in("unknown-api-version.yaml")[(2, 13)]

    assert problem.message == "apiVersion was 'riskctl/v2'; it must be 'riskctl/v1'"


def test_when_fields_are_missing_then_each_message_names_the_parent_and_the_field() -> None:
    messages = {p: d.message for p, d in problems_in("missing-field.yaml").items()}

    assert messages == {
        (6, 11): "metadata is missing the required field owner",
        (8, 3): "spec is missing the required field environment",
        (9, 7): "spec.venues[0] is missing the required field account",
    }


def test_when_a_choice_is_invalid_then_the_message_lists_the_choices() -> None:
    problem = problems_in("invalid-choice.yaml")[(7, 16)]

    assert problem.message == (
        "spec.environment was 'prod'; it must be 'production', 'staging', 'paper' or 'backtest'"
    )


def test_when_the_document_is_a_list_then_the_message_says_what_a_policy_is() -> None:
    problem = problems_in("not-a-mapping-list.yaml")[(3, 1)]

    assert problem.message == (
        "the document is a list; a policy is a mapping with apiVersion, kind, metadata and spec"
    )


def test_when_the_document_is_a_number_then_the_message_reads_as_english(tmp_path: Path) -> None:
    path = tmp_path / "number.yaml"
    path.write_text("42\n")

    _, problems = load_file(path)

    assert [d.code for d in problems] == ["policy.not-a-mapping"]
    assert " a int " not in problems[0].message


def test_no_message_in_any_bad_fixture_leaks_pydantic_wording_or_links() -> None:
    _, problems = load_documents([BAD])

    assert problems
    for problem in problems:
        assert "Input should" not in problem.message
        assert "errors.pydantic.dev" not in problem.message
        assert "\n" not in problem.message


# -- the code mapping --------------------------------------------------------------------------


class Probe(StrictModel):
    count: Count
    whole: int
    money: Money
    ident: Identifier
    choice: Literal["a", "b"]
    items: list[int] = Field(min_length=1)
    flag: bool
    nested: Scope
    needed: str


def test_when_pydantic_errors_are_translated_then_each_gets_its_stable_code() -> None:
    bad = {
        "count": 0,
        "whole": Decimal("2.5"),
        "money": Decimal("NaN"),
        "ident": "BAD",
        "choice": "c",
        "items": [],
        "flag": "maybe",
        "nested": [1],
        "extra": 1,
    }
    seen: list[tuple[tuple[str | int, ...], bool]] = []

    def locate(path: tuple[str | int, ...], at_key: bool) -> Location:
        seen.append((path, at_key))
        return Location("probe.yaml", len(seen), 1, "")

    with pytest.raises(ValidationError) as caught:
        Probe.model_validate(bad)
    problems = diagnostics_from(caught.value, locate=locate, model=Probe)

    codes = {seen[d.location.line - 1][0][0]: d.code for d in problems}
    assert codes == {
        "count": "policy.out-of-bounds",
        "whole": "policy.invalid-value",
        "money": "policy.not-finite",
        "ident": "policy.bad-format",
        "choice": "policy.invalid-choice",
        "items": "policy.wrong-length",
        "flag": "policy.wrong-type",
        "nested": "policy.wrong-type",
        "needed": "policy.missing-field",
        "extra": "policy.unknown-key",
    }
    assert [path for path, at_key in seen if at_key] == [("extra",)]


def test_every_mapped_code_is_one_of_the_documented_policy_codes() -> None:
    documented = {
        "policy.missing-field",
        "policy.unknown-key",
        "policy.out-of-bounds",
        "policy.not-finite",
        "policy.wrong-type",
        "policy.invalid-choice",
        "policy.bad-format",
        "policy.wrong-length",
        "policy.invalid-value",
    }

    assert set(CODES.values()) <= documented
    assert CODES["greater_than"] == "policy.out-of-bounds"
    assert CODES["finite_number"] == "policy.not-finite"
    assert CODES["extra_forbidden"] == "policy.unknown-key"


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ((), "the document"),
        (("spec",), "spec"),
        (("spec", "scoped", 0, "max_order_qty"), "spec.scoped[0].max_order_qty"),
        (("spec", "sets", 1, "bands", 2), "spec.sets[1].bands[2]"),
    ],
)
def test_field_label_reads_like_the_yaml_path(path: tuple[str | int, ...], label: str) -> None:
    assert field_label(path) == label


def test_suggest_names_the_closest_candidate_or_nothing() -> None:
    assert suggest("max_ordr_qty", ["max_order_qty", "max_open_orders"]) == (
        "did you mean 'max_order_qty'?"
    )
    assert suggest("zzz", ["max_order_qty"]) is None
    assert suggest("anything", []) is None


# -- values are taken as written, or refused -------------------------------------------------


def test_when_a_count_limit_is_a_boolean_then_it_is_refused_as_wrong_type(tmp_path: Path) -> None:
    schema = json.loads((REPO / "schemas" / "risk-limits.schema.json").read_text())
    text = HEADER + "    max_open_orders: true\n"
    assert list(Draft202012Validator(schema).iter_errors(YAML(typ="safe").load(text)))

    document, problems = load_limit(tmp_path, "    max_open_orders: true")

    assert document is None, "max_open_orders: true loaded as 1; the JSON schema refuses it"
    assert [(d.location.line, d.location.column, d.code) for d in problems] == [
        (VALUE_LINE, 22, "policy.wrong-type")
    ]


@pytest.mark.parametrize(
    "written",
    ["0.12345678901234567", "1234567.123456789012", "99999999999.99999999"],
)
def test_when_a_decimal_has_more_digits_than_a_float_holds_then_it_is_exact_or_refused(
    tmp_path: Path, written: str
) -> None:
    document, problems = load_limit(tmp_path, f"    max_order_qty: {written}")

    if document is not None:
        assert document.spec.defaults.max_order_qty == Decimal(written)
    else:
        assert [(d.location.line, d.location.column) for d in problems] == [(VALUE_LINE, 20)]


@pytest.mark.parametrize(
    ("field", "written"),
    [
        ("max_order_notional", "10000000000.0000001"),
        ("max_order_qty", "100000000000.000001"),
    ],
)
def test_when_a_limit_is_a_hair_over_its_cap_then_it_is_refused(
    tmp_path: Path, field: str, written: str
) -> None:
    document, problems = load_limit(tmp_path, f"    {field}: {written}")

    assert document is None, f"{field}: {written} is over the cap but loaded"
    assert [d.code for d in problems] == ["policy.out-of-bounds"]


def test_when_a_label_key_is_badly_formed_then_the_problem_points_at_the_key(
    tmp_path: Path,
) -> None:
    path = tmp_path / "labels.yaml"
    labelled = HEADER.replace("  owner: desk-crypto\n", "  owner: x\n  labels:\n    Bad Key: v\n")
    path.write_text(labelled + "    max_order_qty: 1\n")

    _, problems = load_file(path)

    assert [(d.location.line, d.location.column, d.code) for d in problems] == [
        (8, 5, "policy.bad-format")
    ]
    assert problems[0].location.pointer == "/metadata/labels/Bad Key"
