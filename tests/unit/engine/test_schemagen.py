"""engine.schemagen: committed schemas match the models, and they are what editors need."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from engine.kinds import KINDS
from engine.schemagen import (
    SCHEMA_DIALECT,
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
