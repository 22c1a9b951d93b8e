"""Generate JSON Schemas (draft 2020-12) from the models, and check committed ones for drift.

What editors need, learnt the hard way with yaml-language-server: a ``$schema`` at the
root (pydantic writes none, and without it 2020-12 keywords are dropped), a description on
every property (copied onto ``$ref`` branches of optional models, or hover shows the
nested class's docstring), and ``additionalProperties: false`` everywhere.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from engine.context import CONTEXTS
from engine.kinds import KINDS, any_policy_adapter
from engine.policytest.schema import policy_test_schema

__all__ = ["SCHEMA_DIALECT", "check_schemas", "file_name", "generate_schemas", "write_schemas"]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID_BASE = "https://riskctl.dev/schemas/"
POLICY_TEST_SCHEMA = "policy-test.schema.json"


def file_name(kind: str) -> str:
    """``RiskLimits`` -> ``risk-limits.schema.json``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", kind).lower() + ".schema.json"


def generate_schemas() -> dict[str, str]:
    """File name -> schema text for every kind, the union, the contexts and policy tests."""
    out: dict[str, dict[str, Any]] = {}
    for kind, model in KINDS.items():
        out[file_name(kind)] = _model_schema(model, title=kind)
    union = any_policy_adapter().json_schema(by_alias=True, mode="validation")
    out["policy.schema.json"] = _finish(union, "policy.schema.json", "riskctl policy document")
    for stage, context in CONTEXTS.items():
        name = f"context-{stage.replace('_', '-')}.schema.json"
        out[name] = _model_schema(context, title=context.__name__, name=name)
    out[POLICY_TEST_SCHEMA] = _finish(policy_test_schema(), POLICY_TEST_SCHEMA, "PolicyTest")
    return {
        name: json.dumps(schema, indent=2, sort_keys=True) + "\n" for name, schema in out.items()
    }


def _model_schema(model: type[BaseModel], *, title: str, name: str | None = None) -> dict[str, Any]:
    raw = model.model_json_schema(by_alias=True, mode="validation")
    return _finish(raw, name or file_name(title), title)


def _finish(schema: dict[str, Any], name: str, title: str | None) -> dict[str, Any]:
    schema = _fix_refs(schema)
    schema["$schema"] = SCHEMA_DIALECT
    schema["$id"] = SCHEMA_ID_BASE + name
    if title:
        schema["title"] = title
    return schema


def _fix_refs(node: Any) -> Any:
    """Copy a property's description into its ``$ref`` branch so editors show it on hover."""
    if isinstance(node, list):
        return [_fix_refs(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _fix_refs(v) for k, v in node.items()}
    description = node.get("description")
    if description and "anyOf" in node:
        node["anyOf"] = [
            {**branch, "description": description} if "$ref" in branch else branch
            for branch in node["anyOf"]
        ]
    if description and "$ref" in node and len(node) == 2:
        node = {"allOf": [{"$ref": node["$ref"]}], "description": description}
    return node


def write_schemas(directory: Path) -> list[Path]:
    """Write every schema; remove stale ``*.schema.json`` files. Returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    wanted = generate_schemas()
    written = []
    for name, text in wanted.items():
        target = directory / name
        if _current(target) != text:
            target.write_text(text, encoding="utf-8")
            written.append(target)
    for stale in directory.glob("*.schema.json"):
        if stale.name not in wanted:
            stale.unlink()
            written.append(stale)
    return written


def check_schemas(directory: Path) -> list[str]:
    """Names of schema files that are missing, stale or no longer generated."""
    wanted = generate_schemas()
    problems = []
    for name, text in sorted(wanted.items()):
        target = directory / name
        current = _current(target)
        if current is None:
            problems.append(f"{target}: missing")
        elif current != text:
            problems.append(f"{target}: differs from the models")
    for extra in sorted(directory.glob("*.schema.json")):
        if extra.name not in wanted:
            problems.append(f"{extra}: no model generates it")
    return problems


def _current(target: Path) -> str | None:
    """The committed text of a schema file; None when missing, "" when unreadable."""
    if not target.exists():
        return None
    try:
        return target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""  # differs from any generated schema, so it is rewritten or reported
