"""Generate JSON Schemas (draft 2020-12) from the models, and check committed ones for drift.

What editors need, learnt the hard way with yaml-language-server: a ``$schema`` at the
root (pydantic writes none, and without it 2020-12 keywords are dropped), a description on
every property, and ``additionalProperties: false`` everywhere. Then :func:`_for_editors`:

- a description sits beside its ``$ref`` (2020-12 allows siblings; the server keeps the
  property's own description and title, and wrapping in ``allOf`` made hover show the
  referenced class's docstring), with a ``markdownDescription`` too, so a docstring's one
  does not win;
- the string form of a decimal carries a number pattern (unsigned where the bounds are),
  so a quoted ``"-5"`` is flagged, and decimal examples and defaults are numbers;
- a derived (``readOnly``) context field is refused (``not: {}``), hidden from completion
  (``doNotSuggest``) and says why (``deprecationMessage``), while hover still explains it;
- private keywords of the models (``alwaysSet``) are dropped.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from riskctl.atomic import write_text_atomic
from riskctl.change.proposal import proposal_schema
from riskctl.context import CONTEXTS
from riskctl.kinds import KINDS, any_policy_adapter
from riskctl.policytest.schema import policy_test_schema
from riskctl.session.schema import session_line_schema

__all__ = [
    "EXTRA_KEYWORDS",
    "SCHEMA_DIALECT",
    "check_schemas",
    "file_name",
    "generate_schemas",
    "proposal_json_schema",
    "write_schemas",
]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID_BASE = "https://riskctl.dev/schemas/"
POLICY_TEST_SCHEMA = "policy-test.schema.json"
SESSION_EVENT_SCHEMA = "session-event.schema.json"
PROPOSAL_SCHEMA = "proposal.schema.json"


def file_name(kind: str) -> str:
    """``RiskLimits`` -> ``risk-limits.schema.json``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", kind).lower() + ".schema.json"


def generate_schemas() -> dict[str, str]:
    """File name -> schema text for every kind, the union, the contexts, policy tests,
    session lines and change proposals."""
    out: dict[str, dict[str, Any]] = {}
    for kind, model in KINDS.items():
        out[file_name(kind)] = _model_schema(model, title=kind)
    union = any_policy_adapter().json_schema(by_alias=True, mode="validation")
    out["policy.schema.json"] = _finish(union, "policy.schema.json", "riskctl policy document")
    for stage, context in CONTEXTS.items():
        name = f"context-{stage.replace('_', '-')}.schema.json"
        out[name] = _model_schema(context, title=context.__name__, name=name)
    out[POLICY_TEST_SCHEMA] = _finish(policy_test_schema(), POLICY_TEST_SCHEMA, "PolicyTest")
    out[SESSION_EVENT_SCHEMA] = _finish(
        session_line_schema(), SESSION_EVENT_SCHEMA, "riskctl session line"
    )
    out[PROPOSAL_SCHEMA] = proposal_json_schema()
    return {
        name: json.dumps(schema, indent=2, sort_keys=True) + "\n" for name, schema in out.items()
    }


def proposal_json_schema() -> dict[str, Any]:
    """The change proposal's schema, as written to ``schemas/proposal.schema.json``."""
    return _finish(proposal_schema(), PROPOSAL_SCHEMA, "Proposal")


def _model_schema(model: type[BaseModel], *, title: str, name: str | None = None) -> dict[str, Any]:
    raw = model.model_json_schema(by_alias=True, mode="validation")
    return _finish(raw, name or file_name(title), title)


def _finish(schema: dict[str, Any], name: str, title: str | None) -> dict[str, Any]:
    schema = _for_editors(schema)
    schema["$schema"] = SCHEMA_DIALECT
    schema["$id"] = SCHEMA_ID_BASE + name
    if title:
        schema["title"] = title
    return schema


# Keywords beyond draft 2020-12 that the schemas may carry: annotations of VS Code's JSON
# language service, which yaml-language-server reads, and pydantic's OpenAPI-style
# ``discriminator`` on the policy union (an annotation; validators ignore it).
EXTRA_KEYWORDS = frozenset(
    {"markdownDescription", "doNotSuggest", "deprecationMessage", "discriminator"}
)
PRIVATE_KEYWORDS = frozenset({"alwaysSet"})  # read by riskctl from the models, not by editors
# A JSON number as Decimal reads it from a string; POSITIVE needs a non-zero digit.
SIGNED_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
UNSIGNED_NUMBER = r"^\+?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
POSITIVE_NUMBER = r"^\+?(?=[0-9.]*[1-9])(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"


def _for_editors(node: Any) -> Any:
    """Rewrite a pydantic schema, bottom up, into what editors and strict validators read."""
    if isinstance(node, list):
        return [_for_editors(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _for_editors(v) for k, v in node.items() if k not in PRIVATE_KEYWORDS}
    if node.get("readOnly") is True:
        return _refused(node)
    _unwrap_ref(node)
    _pattern_decimal_strings(node)
    if _is_decimal(node):
        if "default" in node:
            node["default"] = _number(node["default"])
        if isinstance(node.get("examples"), list):
            node["examples"] = [_number(v) for v in node["examples"]]
    description = node.get("description")
    if isinstance(description, str):
        if "anyOf" in node:
            node["anyOf"] = [
                {**branch, **_described(description)} if "$ref" in branch else branch
                for branch in node["anyOf"]
            ]
        if "$ref" in node or "`" in description:
            node.update(_described(description))
    return node


def _described(description: str) -> dict[str, str]:
    return {"description": description, "markdownDescription": _markdown(description)}


def _markdown(text: str) -> str:
    """Plain text as Markdown: code spans (single or double backticks) kept, the rest escaped."""
    parts = re.split(r"(``[^`]+``|`[^`]+`)", text)
    return "".join(
        part if index % 2 else re.sub(r"([\\*_\[\]<>|#])", r"\\\1", part)
        for index, part in enumerate(parts)
    )


def _unwrap_ref(node: dict[str, Any]) -> None:
    """``{allOf: [{$ref}], ...}`` -> ``{$ref, ...}``: siblings of ``$ref`` are fine in 2020-12."""
    branches = node.get("allOf")
    if isinstance(branches, list) and len(branches) == 1 and set(branches[0]) == {"$ref"}:
        del node["allOf"]
        node["$ref"] = branches[0]["$ref"]


def _refused(node: dict[str, Any]) -> dict[str, Any]:
    """A derived field: explained on hover, never suggested, refused when given."""
    kept: dict[str, Any] = {"title": node["title"]} if "title" in node else {}
    return {
        **kept,
        **_described(str(node.get("description", "Derived by riskctl."))),
        "readOnly": True,
        "doNotSuggest": True,
        "deprecationMessage": "riskctl computes this field; remove it from the input.",
        "not": {},
    }


def _pattern_decimal_strings(node: dict[str, Any]) -> None:
    """Give the string form of a decimal (pydantic: anyOf number | string) a number pattern."""
    branches = node.get("anyOf")
    if not isinstance(branches, list):
        return
    numbers = [b for b in branches if b.get("type") == "number"]
    if len(numbers) != 1:
        return
    for index, branch in enumerate(branches):
        if branch == {"type": "string"}:
            branches[index] = {"type": "string", "pattern": _number_pattern(numbers[0])}


def _number_pattern(number: dict[str, Any]) -> str:
    exclusive, minimum = number.get("exclusiveMinimum"), number.get("minimum")
    if (exclusive is not None and exclusive >= 0) or (minimum is not None and minimum > 0):
        return POSITIVE_NUMBER
    if minimum is not None and minimum >= 0:
        return UNSIGNED_NUMBER
    return SIGNED_NUMBER


def _is_decimal(node: dict[str, Any]) -> bool:
    """True for a schema whose value may be a decimal (directly or in one of its branches)."""
    branches = node.get("anyOf")
    if not isinstance(branches, list):
        return False
    return any(b.get("type") == "number" or _is_decimal(b) for b in branches)


def _number(value: Any) -> Any:
    """A decimal string as a JSON number when the number says exactly the same; else as is."""
    if not isinstance(value, str):
        return value
    try:
        exact = Decimal(value)
    except InvalidOperation:
        return value
    if not exact.is_finite():
        return value
    if exact == exact.to_integral_value() and "e" not in value.lower():
        return int(exact)
    approx = float(exact)
    return approx if Decimal(repr(approx)) == exact else value


def write_schemas(directory: Path) -> list[Path]:
    """Write every schema; remove stale ``*.schema.json`` files. Returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    wanted = generate_schemas()
    written = []
    for name, text in wanted.items():
        target = directory / name
        if _current(target) != text:
            write_text_atomic(target, text)  # an editor never reads half a schema
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
