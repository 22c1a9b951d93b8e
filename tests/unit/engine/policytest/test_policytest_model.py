"""riskctl.policytest.model and schema: the test-file format, and the schema editors use."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, get_args

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError
from ruamel.yaml import YAML

from riskctl.context import CONTEXTS, STAGES
from riskctl.decision import ACTIONS
from riskctl.fields import Stage
from riskctl.policytest.model import Action, PolicyTest
from riskctl.policytest.schema import policy_test_schema
from riskctl.schemagen import generate_schemas

REPO = Path(__file__).resolve().parents[4]
EXAMPLES = sorted((REPO / "policies" / "tests").glob("*.test.yaml"))
FIXTURES = sorted(
    p for p in (REPO / "tests" / "data" / "policytest").rglob("*.test.yaml") if "bad" not in p.parts
)
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(?P<target>\S+)$")


def load(path: Path) -> Any:
    return json.loads(json.dumps(YAML(typ="safe").load(path.read_text()), default=str))


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads((REPO / "schemas" / "policy-test.schema.json").read_text())
    return Draft202012Validator(schema)


def test_actions_and_stages_match_the_engine() -> None:
    assert get_args(Action) == ACTIONS
    assert get_args(Stage) == STAGES == tuple(CONTEXTS)


def test_the_committed_schema_is_the_generated_one() -> None:
    committed = (REPO / "schemas" / "policy-test.schema.json").read_text()

    assert generate_schemas()["policy-test.schema.json"] == committed


def test_the_schema_types_each_case_context_by_its_stage() -> None:
    schema = policy_test_schema()
    branches = schema["$defs"]["Case"]["allOf"]

    stages = [b["if"]["properties"]["stage"]["const"] for b in branches]
    refs = [b["then"]["properties"]["context"]["$ref"] for b in branches]
    assert stages == list(CONTEXTS)
    assert refs == [f"#/$defs/{model.__name__}" for model in CONTEXTS.values()]
    for ref in refs:
        assert ref.rsplit("/", 1)[-1] in schema["$defs"]


def test_there_are_example_tests_for_every_stage() -> None:
    cases = [case for path in EXAMPLES for case in load(path)["cases"]]
    stages = {case["stage"] for case in cases if "stage" in case}
    timed = {step["stage"] for case in cases for step in case.get("timeline", ())}

    assert len(EXAMPLES) >= 5
    assert stages == set(STAGES)
    assert {"pre_trade", "fill", "monitor", "order_send", "ingest"} <= timed


@pytest.mark.parametrize("path", EXAMPLES + FIXTURES, ids=lambda p: p.name)
def test_every_test_file_begins_with_a_modeline_to_the_policy_test_schema(path: Path) -> None:
    first = path.read_text().splitlines()[0]
    match = MODELINE.match(first)

    assert match, first
    target = (path.parent / match["target"]).resolve()
    assert target == REPO / "schemas" / "policy-test.schema.json"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_validates_against_the_schema_and_the_model(
    path: Path, validator: Draft202012Validator
) -> None:
    document = load(path)

    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]

    assert errors == []
    assert PolicyTest.model_validate(document).cases


def test_the_schema_refuses_a_context_key_its_stage_does_not_have(
    validator: Draft202012Validator,
) -> None:
    document = load(EXAMPLES[0])
    document["cases"][0]["context"]["not_a_field"] = 1
    document["cases"][0]["expect"]["outcome"] = "deny"

    paths = sorted(str(list(e.absolute_path)) for e in validator.iter_errors(document))

    assert paths == ["['cases', 0, 'context']", "['cases', 0, 'expect', 'outcome']"]


def test_the_model_forbids_unknown_keys_and_requires_the_envelope() -> None:
    with pytest.raises(ValidationError) as caught:
        PolicyTest.model_validate(
            {"kind": "PolicyTest", "metadata": {"name": "x", "owner": "y"}, "cases": []}
        )

    problems = {(e["type"], e["loc"]) for e in caught.value.errors()}
    assert problems == {("missing", ("apiVersion",)), ("extra_forbidden", ("metadata", "owner"))}
