"""The JSON Schema of policy test files, with every case's context typed by its stage.

The model keeps ``context`` a plain mapping (the loader validates it against the stage's
context model, for located errors). The schema does better for editors: each case gets an
``if stage == X then context is XContext`` branch, with the context models in ``$defs``,
so completion and hover work inside contexts too.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from riskctl.context import CONTEXTS
from riskctl.policytest.model import PolicyTest

__all__ = ["policy_test_schema"]


def policy_test_schema() -> dict[str, Any]:
    """PolicyTest's schema; ``$defs`` holds its own models and every stage context model."""
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (PolicyTest, "validation"),
        *((model, "validation") for model in CONTEXTS.values()),
    ]
    refs, top = models_json_schema(models, by_alias=True, ref_template="#/$defs/{model}")
    definitions: dict[str, Any] = top["$defs"]
    root: dict[str, Any] = definitions.pop(_def_name(refs[(PolicyTest, "validation")]))
    case = definitions["Case"]
    case["allOf"] = [
        {
            "if": {
                "properties": {"stage": {"const": stage, "description": f"The {stage} stage."}},
                "required": ["stage"],
            },
            "then": {
                "properties": {
                    "context": {
                        "$ref": refs[(model, "validation")]["$ref"],
                        "description": f"The {stage} context: {_summary(model)}",
                    }
                }
            },
        }
        for stage, model in CONTEXTS.items()
    ]
    root["$defs"] = definitions
    return root


def _summary(model: type) -> str:
    doc = (model.__doc__ or model.__name__).strip()
    return doc.splitlines()[0]


def _def_name(ref: dict[str, Any]) -> str:
    return str(ref["$ref"]).rsplit("/", 1)[-1]
