"""riskctl.schemagen: committed schemas match the models, and they are what editors need."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel
from ruamel.yaml import YAML

from riskctl.context import CONTEXTS
from riskctl.context.base import DerivedModel
from riskctl.kinds import KINDS
from riskctl.schemagen import (
    EXTRA_KEYWORDS,
    SCHEMA_DIALECT,
    _markdown,
    check_schemas,
    file_name,
    generate_schemas,
    write_schemas,
)

REPO = Path(__file__).resolve().parents[3]
SCHEMAS = REPO / "schemas"
POLICIES = sorted((REPO / "policies").glob("*.yaml"))
GOOD = sorted((REPO / "tests" / "data" / "good").glob("*.yaml"))
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(?P<target>\S+)$")

GENERATED = generate_schemas()
POLICY_SCHEMAS = sorted([file_name(kind) for kind in KINDS] + ["policy.schema.json"])


def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(GENERATED[name])
    return loaded


def walk(node: Any, where: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every JSON object in a schema (including everything under $defs), with its pointer."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{where}/{index}")


def json_ready(value: Any) -> Any:
    """ruamel safe-loaded data as JSON types (dates would become strings; numbers stay)."""
    return json.loads(json.dumps(value, default=str))


def modeline_target(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    match = MODELINE.match(first)
    assert match, f"{path.name} does not begin with a yaml-language-server modeline: {first!r}"
    return match["target"]


# -- drift -------------------------------------------------------------------------------------


def test_committed_schemas_equal_the_generated_ones() -> None:
    committed = {p.name: p.read_text() for p in SCHEMAS.glob("*.schema.json")}

    assert sorted(committed) == sorted(GENERATED)
    stale = [name for name, text in GENERATED.items() if committed.get(name) != text]
    assert stale == [], "run `riskctl schema` to regenerate"
    assert check_schemas(SCHEMAS) == []


def test_generation_is_deterministic() -> None:
    assert generate_schemas() == GENERATED


def test_every_kind_has_a_schema_file_named_after_it() -> None:
    assert file_name("RiskLimits") == "risk-limits.schema.json"
    assert file_name("AlertThresholds") == "alert-thresholds.schema.json"
    assert set(POLICY_SCHEMAS) <= set(GENERATED)


def test_when_a_schema_is_edited_then_check_schemas_names_it(tmp_path: Path) -> None:
    write_schemas(tmp_path)
    target = tmp_path / "rules.schema.json"
    target.write_text(target.read_text().replace("Rule id", "Rule identifier"))

    assert check_schemas(tmp_path) == [f"{target}: differs from the models"]


def test_when_a_schema_is_missing_or_extra_then_check_schemas_names_it(tmp_path: Path) -> None:
    write_schemas(tmp_path)
    (tmp_path / "rules.schema.json").unlink()
    shutil.copy(tmp_path / "risk-limits.schema.json", tmp_path / "old-kind.schema.json")

    assert check_schemas(tmp_path) == [
        f"{tmp_path / 'rules.schema.json'}: missing",
        f"{tmp_path / 'old-kind.schema.json'}: no model generates it",
    ]


def test_write_schemas_writes_only_changes_and_removes_stale_files(tmp_path: Path) -> None:
    first = write_schemas(tmp_path)
    assert sorted(p.name for p in first) == sorted(GENERATED)
    (tmp_path / "gone.schema.json").write_text("{}\n")
    (tmp_path / "notes.json").write_text("{}\n")

    second = write_schemas(tmp_path)

    assert second == [tmp_path / "gone.schema.json"]
    assert not (tmp_path / "gone.schema.json").exists()
    assert (tmp_path / "notes.json").exists()
    assert check_schemas(tmp_path) == []


# -- what editors need ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_every_schema_declares_draft_2020_12_at_the_root_and_is_a_valid_schema(name: str) -> None:
    document = schema(name)

    assert document["$schema"] == SCHEMA_DIALECT == "https://json-schema.org/draft/2020-12/schema"
    assert document["$id"].endswith("/" + name)
    assert document.get("title")
    Draft202012Validator.check_schema(document)


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_every_property_in_every_schema_has_a_description(name: str) -> None:
    undescribed = [
        f"{where}/properties/{key}"
        for where, node in walk(schema(name))
        if isinstance(node.get("properties"), dict)
        for key, value in node["properties"].items()
        if not (isinstance(value, dict) and value.get("description"))
    ]

    assert undescribed == []


@pytest.mark.parametrize("name", POLICY_SCHEMAS)
def test_every_object_in_a_policy_schema_forbids_additional_properties(name: str) -> None:
    document = schema(name)
    objects = [
        (where, node)
        for where, node in walk(document)
        if node.get("type") == "object" and "properties" in node
    ]

    assert objects
    assert [where for where, node in objects if node.get("additionalProperties") is not False] == []


def test_the_union_schema_dispatches_on_kind() -> None:
    union = schema("policy.schema.json")

    assert union["discriminator"]["propertyName"] == "kind"
    assert sorted(union["discriminator"]["mapping"]) == sorted(KINDS)


# -- the example policies and the schemas --------------------------------------------------


@pytest.mark.parametrize("path", POLICIES, ids=[p.stem for p in POLICIES])
def test_every_example_policy_begins_with_a_modeline_to_its_kinds_schema(path: Path) -> None:
    target = modeline_target(path)
    kind = YAML(typ="safe").load(path.read_text())["kind"]

    assert target == f"../schemas/{file_name(kind)}"
    assert (path.parent / target).resolve().is_file()


@pytest.mark.parametrize("path", POLICIES + GOOD, ids=[p.stem for p in POLICIES + GOOD])
def test_every_valid_policy_validates_against_the_schema_its_modeline_names(path: Path) -> None:
    target = (path.parent / modeline_target(path)).resolve()
    assert target.is_file()
    document = json_ready(YAML(typ="safe").load(path.read_text()))

    errors = list(Draft202012Validator(json.loads(target.read_text())).iter_errors(document))

    assert [f"{list(e.absolute_path)}: {e.message}" for e in errors] == []


@pytest.mark.parametrize(
    "name", ["out-of-bounds", "unknown-key", "bad-format", "invalid-choice", "wrong-type"]
)
def test_a_bad_fixture_is_refused_by_the_schema_too(name: str) -> None:
    path = REPO / "tests" / "data" / "bad" / f"{name}.yaml"
    document = json_ready(YAML(typ="safe").load(path.read_text()))

    errors = list(Draft202012Validator(schema("risk-limits.schema.json")).iter_errors(document))

    assert errors


# -- item 19: what yaml-language-server and strict validators read ------------------------------

# Draft 2020-12 keywords, by where their values hold subschemas (everything else is a value).
SUBSCHEMA = {"not", "if", "then", "else", "items", "contains", "additionalProperties"} | {
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
}
SUBSCHEMA_LISTS = {"allOf", "anyOf", "oneOf", "prefixItems"}
SUBSCHEMA_MAPS = {"properties", "patternProperties", "$defs", "dependentSchemas"}
VALUE_KEYWORDS = {
    "$schema", "$id", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary",
    "$comment", "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum",
    "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
    "uniqueItems", "maxContains", "minContains", "maxProperties", "minProperties", "required",
    "dependentRequired", "format", "contentEncoding", "contentMediaType", "title",
    "description", "default", "deprecated", "readOnly", "writeOnly", "examples",
}  # fmt: skip
DRAFT_2020_12 = SUBSCHEMA | SUBSCHEMA_LISTS | SUBSCHEMA_MAPS | VALUE_KEYWORDS


def unknown_keywords(node: Any, where: str = "#") -> Iterator[str]:
    """Pointers to keywords outside 2020-12 and EXTRA_KEYWORDS, walking only schema positions."""
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        here = f"{where}/{key}"
        if key not in DRAFT_2020_12 | EXTRA_KEYWORDS:
            yield here
        elif key in SUBSCHEMA:
            yield from unknown_keywords(value, here)
        elif key in SUBSCHEMA_LISTS:
            for index, branch in enumerate(value):
                yield from unknown_keywords(branch, f"{here}/{index}")
        elif key in SUBSCHEMA_MAPS:
            for name, branch in value.items():
                yield from unknown_keywords(branch, f"{here}/{name}")


def validator_for(name: str, definition: str) -> Draft202012Validator:
    """A validator of one $defs entry of a generated schema."""
    document = schema(name)
    return Draft202012Validator({"$ref": f"#/$defs/{definition}", "$defs": document["$defs"]})


def test_the_strict_keyword_walk_finds_a_private_keyword_under_properties() -> None:
    leaked = {"properties": {"qty": {"alwaysSet": True, "type": "number"}}, "alwaysSet": 1}

    assert sorted(unknown_keywords(leaked)) == ["#/alwaysSet", "#/properties/qty/alwaysSet"]


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_when_compiled_strictly_then_every_schema_has_only_2020_12_and_editor_keywords(
    name: str,
) -> None:
    Draft202012Validator.check_schema(schema(name))

    assert list(unknown_keywords(schema(name))) == []
    assert "alwaysSet" not in GENERATED[name]


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_when_a_property_refers_to_a_model_then_its_description_sits_beside_the_ref(
    name: str,
) -> None:
    nodes = list(walk(schema(name)))
    wrapped = [where for where, node in nodes if node.get("allOf") and len(node["allOf"]) == 1]
    undescribed = [
        where
        for where, node in nodes
        if "$ref" in node
        and not (node.get("description") and node.get("markdownDescription"))
        and not where.endswith("/items")  # an item shows its class's docstring, rightly
        and "/oneOf/" not in where  # the union's kinds
    ]

    assert wrapped == []
    assert undescribed == []


@pytest.mark.parametrize(
    ("name", "definition", "field", "description"),
    [
        ("context-pre-trade.schema.json", None, "order", "The order."),
        ("context-pre-trade.schema.json", None, "market", "Top of book for the order's symbol."),
        ("context-pre-trade.schema.json", None, "state", "Trading state and kill switch."),
        ("risk-limits.schema.json", None, "metadata", None),
        ("risk-limits.schema.json", "RiskLimitsSpec", "defaults", None),
        ("risk-limits.schema.json", "ScopedLimits", "scope", None),
    ],
)
def test_when_hovering_an_object_valued_field_then_the_fields_description_is_beside_its_ref(
    name: str, definition: str | None, field: str, description: str | None
) -> None:
    document = schema(name)
    owner = document if definition is None else document["$defs"][definition]
    prop = owner["properties"][field]
    target = document["$defs"][prop["$ref"].rsplit("/", 1)[-1]]

    assert set(prop) <= {"$ref", "description", "markdownDescription", "default"}
    assert prop["description"] != target.get("description")  # not the class docstring
    assert prop["markdownDescription"]
    if description is not None:
        assert prop["description"] == description


POSITIVE_DECIMAL = ("risk-limits.schema.json", "LimitSet", "max_order_qty")


@pytest.mark.parametrize("value", ["-5", "0", "-0.001", "abc", "5 ", "1,5", "", "0e3", -5])
def test_when_a_positive_decimal_is_quoted_negative_or_malformed_then_the_schema_refuses_it(
    value: Any,
) -> None:
    name, definition, field = POSITIVE_DECIMAL

    assert list(validator_for(name, definition).iter_errors({field: value}))


@pytest.mark.parametrize("value", ["5", "0.001", "+2.5", "1e3", ".5", 5, 0.001])
def test_when_a_positive_decimal_is_a_quoted_or_plain_number_then_the_schema_accepts_it(
    value: Any,
) -> None:
    name, definition, field = POSITIVE_DECIMAL

    assert list(validator_for(name, definition).iter_errors({field: value})) == []


def test_when_a_decimal_may_be_negative_or_zero_then_its_quoted_form_may_be_too() -> None:
    position = validator_for("context-pre-trade.schema.json", "Position")
    account = validator_for("context-pre-trade.schema.json", "Account")
    balances = {"equity": 1, "available_balance": 1, "balance_age_ms": 0}

    assert list(position.iter_errors({"qty": "-5"})) == []
    assert list(account.iter_errors({**balances, "drawdown": "0"})) == []
    assert list(account.iter_errors({**balances, "drawdown": "-1"}))  # never negative
    assert list(position.iter_errors({"qty": "minus five"}))


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_every_decimal_string_form_has_a_number_pattern_and_examples_are_numbers(
    name: str,
) -> None:
    nodes = list(walk(schema(name)))
    decimal_strings = [
        (where, branch)
        for where, node in nodes
        if any(b.get("type") == "number" for b in node.get("anyOf", []))
        for branch in node["anyOf"]
        if branch.get("type") == "string"
    ]
    quoted = [
        where
        for where, node in nodes
        for value in [node.get("default"), *node.get("examples", [])]
        if isinstance(value, str) and re.fullmatch(r"[+-]?[\d.]+([eE][+-]?\d+)?", value)
    ]

    assert [where for where, branch in decimal_strings if "pattern" not in branch] == []
    assert quoted == []


def derived_models() -> list[tuple[str, type[DerivedModel]]]:
    """(schema file, model) for every context model that declares derived fields."""
    found: dict[type[DerivedModel], str] = {}

    def visit(model: type[Any], name: str) -> None:
        for info in model.model_fields.values():
            for candidate in (info.annotation, *getattr(info.annotation, "__args__", ())):
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    if issubclass(candidate, DerivedModel) and candidate.DERIVED:
                        found.setdefault(candidate, name)
                    visit(candidate, name)

    for stage, context in CONTEXTS.items():
        visit(context, f"context-{stage.replace('_', '-')}.schema.json")
    return sorted(((name, model) for model, name in found.items()), key=lambda p: p[1].__name__)


DERIVED = derived_models()


def test_the_derived_fields_the_schemas_refuse_include_order_market_and_position() -> None:
    names = {model.__name__: model.DERIVED for _, model in DERIVED}

    assert {"notional", "is_exit", "signed_qty"} <= names["Order"]
    assert {"mid", "spread_bps"} <= names["Market"]
    assert "qty_after" in names["Position"]


@pytest.mark.parametrize(("name", "model"), DERIVED, ids=[m.__name__ for _, m in DERIVED])
def test_when_a_derived_field_is_given_then_the_schema_refuses_it_and_never_suggests_it(
    name: str, model: type[DerivedModel]
) -> None:
    properties = schema(name)["$defs"][model.__name__]["properties"]
    validator = validator_for(name, model.__name__)

    for field in sorted(model.DERIVED):
        prop = properties[field]
        assert prop["readOnly"] is True
        assert prop["doNotSuggest"] is True
        assert prop["description"].startswith("Derived, read-only:")
        assert "computes" in prop["deprecationMessage"]
        refused = [e for e in validator.iter_errors({field: 1}) if list(e.path) == [field]]
        assert refused, f"{model.__name__}.{field} is accepted"


def test_when_a_pre_trade_context_has_no_derived_field_then_the_schema_accepts_its_market() -> None:
    market = validator_for("context-pre-trade.schema.json", "Market")

    assert list(market.iter_errors({"bid": 1, "ask": "2", "age_ms": 0})) == []
    assert list(market.iter_errors({"bid": 1, "ask": 2, "age_ms": 0, "mid": 1.5}))


def test_when_a_description_holds_code_then_it_has_a_markdown_description_with_code_spans() -> None:
    rules = schema("rules.schema.json")
    when = rules["$defs"]["Rule"]["properties"]["when"]

    assert "`order.notional > 50000" in when["description"]
    assert "`order.notional > 50000 and market.age_ms > 500`" in when["markdownDescription"]
    assert "schemas/context-\\*.schema.json" in when["markdownDescription"]  # `*` escaped
    coded = [
        where
        for name in GENERATED
        for where, node in walk(schema(name))
        if "`" in str(node.get("description", "")) and "markdownDescription" not in node
    ]
    assert coded == []


def test_markdown_keeps_code_spans_and_escapes_markup_outside_them() -> None:
    assert _markdown("a_b `x_y` ``up_to`` |q| *") == "a\\_b `x_y` ``up_to`` \\|q\\| \\*"
