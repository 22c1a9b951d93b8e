"""riskctl.report.sarif: SARIF 2.1.0 that validates against the official OASIS schema."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from riskctl.errors import Diagnostic, Location, Severity
from riskctl.lint.catalog import CATALOG
from riskctl.report.sarif import SARIF_SCHEMA, render_sarif, sarif_log

REPO = Path(__file__).resolve().parents[4]
SCHEMA_FILE = REPO / "tests" / "data" / "sarif" / "sarif-schema-2.1.0.json"
SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"


@pytest.fixture(scope="module")
def validator() -> Draft4Validator:
    schema = json.loads(SCHEMA_FILE.read_text())
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def errors(validator: Draft4Validator, log: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]


DIAGNOSTICS = [
    Diagnostic(
        "policy.out-of-bounds",
        "spec.defaults.max_order_notional was -5; it must be greater than 0",
        Location("policies/risk-limits.yaml", 17, 25, "/spec/defaults/max_order_notional"),
    ),
    Diagnostic(
        "expr.unknown-name",
        "order.qtty is not a field of the pre_trade context",
        Location("policies/rules.yaml", 12, 13, "/spec/rules/0/when"),
        hint="did you mean 'order.qty'?",
    ),
    Diagnostic(
        "expr.always-same",
        "this test is always true",
        Location("policies/rules.yaml", 30, 9),
        severity=Severity.WARNING,
    ),
    Diagnostic(
        "file.no-policies", "nothing here", Location("my dir/a b.yaml"), severity=Severity.INFO
    ),
]


def test_the_vendored_schema_is_the_official_oasis_file() -> None:
    assert hashlib.sha256(SCHEMA_FILE.read_bytes()).hexdigest() == SCHEMA_SHA256
    schema = json.loads(SCHEMA_FILE.read_text())
    assert schema["id"] == SARIF_SCHEMA
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]


def test_when_findings_are_rendered_then_the_log_validates_against_the_sarif_schema(
    validator: Draft4Validator,
) -> None:
    log = json.loads(render_sarif(DIAGNOSTICS, root=REPO))

    assert errors(validator, log) == []
    assert log["version"] == "2.1.0"
    assert log["$schema"] == SARIF_SCHEMA


def test_when_there_are_no_findings_then_the_log_still_validates_with_an_empty_run(
    validator: Draft4Validator,
) -> None:
    log = sarif_log([], root=REPO)

    assert errors(validator, log) == []
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["tool"]["driver"]["rules"] == []


def test_the_validator_refuses_a_broken_log(validator: Draft4Validator) -> None:
    log = sarif_log(DIAGNOSTICS, root=REPO)
    log["runs"][0]["results"][0]["level"] = "fatal"
    del log["runs"][0]["tool"]["driver"]["name"]
    log["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0

    assert len(errors(validator, log)) == 3


def test_rules_are_the_codes_present_with_catalog_descriptions_and_stable_ids() -> None:
    driver = sarif_log(DIAGNOSTICS, root=REPO)["runs"][0]["tool"]["driver"]

    assert driver["name"] == "riskctl"
    assert [r["id"] for r in driver["rules"]] == sorted({d.code for d in DIAGNOSTICS})
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] == CATALOG[rule["id"]]


def test_results_carry_rule_level_message_and_a_relative_located_artifact() -> None:
    run = sarif_log(DIAGNOSTICS, root=REPO)["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    by_rule = {r["ruleId"]: r for r in run["results"]}

    unknown = by_rule["expr.unknown-name"]
    assert unknown["level"] == "error"
    assert unknown["message"]["text"] == (
        "order.qtty is not a field of the pre_trade context (did you mean 'order.qty'?)"
    )
    assert rules[unknown["ruleIndex"]] == "expr.unknown-name"
    physical = unknown["locations"][0]["physicalLocation"]
    assert physical == {
        "artifactLocation": {"uri": "policies/rules.yaml"},
        "region": {"startLine": 12, "startColumn": 13},
    }
    assert unknown["properties"] == {"pointer": "/spec/rules/0/when"}
    assert by_rule["expr.always-same"]["level"] == "warning"
    assert "properties" not in by_rule["expr.always-same"]
    assert by_rule["file.no-policies"]["level"] == "note"
    uri = by_rule["file.no-policies"]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri == {"uri": "my%20dir/a%20b.yaml"}


def test_absolute_paths_inside_the_root_become_relative_and_outside_become_file_uris(
    tmp_path: Path,
) -> None:
    inside = Diagnostic("yaml.syntax", "bad", Location(str(REPO / "policies" / "x.yaml"), 2, 3))
    outside = Diagnostic("yaml.syntax", "bad", Location(str(tmp_path / "y.yaml"), 2, 3))

    results = sarif_log([inside, outside], root=REPO)["runs"][0]["results"]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results]

    assert sorted(uris) == sorted(["policies/x.yaml", (tmp_path / "y.yaml").as_uri()])


def test_a_code_missing_from_the_catalog_still_gets_a_described_rule() -> None:
    new = Diagnostic("lint.brand-new-check", "something", Location("a.yaml"))

    rules = sarif_log([new], root=REPO)["runs"][0]["tool"]["driver"]["rules"]

    assert rules == [
        {
            "id": "lint.brand-new-check",
            "shortDescription": {"text": "riskctl finding lint.brand-new-check."},
        }
    ]
