"""Translate pydantic validation errors into located diagnostics with stable codes.

This is the one place pydantic's error ``type`` becomes a riskctl code and its ``loc``
becomes a field path; callers supply how a path maps to a location.
"""

from __future__ import annotations

import difflib
import math
import types
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from riskctl.errors import Diagnostic, Location
from riskctl.fields import FORMATS
from riskctl.secrets import secret_kind

__all__ = ["CODES", "diagnostics_from", "field_label", "suggest"]

PathTuple = tuple[str | int, ...]
Locator = Callable[[PathTuple, bool], Location]

# pydantic error type -> stable riskctl code. Anything not listed becomes policy.invalid-value.
CODES: dict[str, str] = {
    "missing": "policy.missing-field",
    "extra_forbidden": "policy.unknown-key",
    "greater_than": "policy.out-of-bounds",
    "greater_than_equal": "policy.out-of-bounds",
    "less_than": "policy.out-of-bounds",
    "less_than_equal": "policy.out-of-bounds",
    "finite_number": "policy.not-finite",
    "too_short": "policy.wrong-length",
    "too_long": "policy.wrong-length",
    "string_too_short": "policy.wrong-length",
    "string_too_long": "policy.wrong-length",
    "string_pattern_mismatch": "policy.bad-format",
    "literal_error": "policy.invalid-choice",
    "enum": "policy.invalid-choice",
    "union_tag_invalid": "policy.invalid-choice",
    "decimal_max_digits": "policy.out-of-bounds",
    "decimal_max_places": "policy.out-of-bounds",
}


def _code(error_type: str) -> str:
    if error_type in CODES:
        return CODES[error_type]
    if error_type.endswith(("_type", "_parsing")) or error_type == "model_type":
        return "policy.wrong-type"
    return "policy.invalid-value"


def diagnostics_from(
    exc: ValidationError,
    *,
    locate: Locator,
    model: type[BaseModel] | None = None,
    namespace: str = "policy",
) -> list[Diagnostic]:
    """One diagnostic per pydantic error, located by ``locate(path, at_key)``.

    ``namespace`` names what was validated in the codes: ``policy.out-of-bounds`` for a
    policy file, ``context.out-of-bounds`` for a stage context, ``test.`` for a test file.
    """
    found = []
    for raw in exc.errors(include_url=False):
        error = raw
        path: PathTuple = tuple(error["loc"])
        at_key = error["type"] == "extra_forbidden"
        if path and path[-1] == "[key]":  # pydantic's marker for a bad mapping key
            path, at_key = path[:-1], True
        if _not_finite(error.get("input")):  # NaN/inf is the problem, whatever the field's type
            error = {**raw, "type": "finite_number", "msg": "Input should be a finite number"}
        location = locate(path, at_key)
        message, hint = _message(error, path, model)
        code = _code(error["type"]).replace("policy.", f"{namespace}.", 1)
        found.append(Diagnostic(code, message, location, hint=hint))
    return found


def _not_finite(value: Any) -> bool:
    if isinstance(value, Decimal):
        return not value.is_finite()
    return isinstance(value, float) and not math.isfinite(value)


def field_label(path: Sequence[str | int]) -> str:
    """``spec.scoped[0].max_order_qty`` for a path."""
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "the document"


def _message(
    error: ErrorDetails, path: PathTuple, model: type[BaseModel] | None
) -> tuple[str, str | None]:
    kind = error["type"]
    name = field_label(path)
    if kind == "missing":
        parent = field_label(path[:-1])
        return f"{parent} is missing the required field {path[-1]!s}", None
    if kind == "extra_forbidden":
        parent = field_label(path[:-1])
        key = str(path[-1])
        return f"{parent} has an unknown key {key!r}", suggest(key, _known_fields(model, path[:-1]))
    rule = str(error["msg"])
    if kind == "string_pattern_mismatch":
        meaning = FORMATS.get(str((error.get("ctx") or {}).get("pattern", "")))
        rule = f"it must be {meaning}" if meaning else rule
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        rule = "Input should be a mapping of field names to values"  # not pydantic's class names
    if kind == "decimal_max_places":  # context numbers: the bound that keeps sums exact
        rule = _exactness_rule(error)
    if kind == "value_error":  # a model validator's own sentence
        return f"{name}: {rule.removeprefix('Value error, ')}", None
    for lead, repl in (("Input should be", "it must be"), ("Input should", "it must")):
        if rule.startswith(lead):
            rule = repl + rule[len(lead) :]
            break
    else:
        rule = rule[:1].lower() + rule[1:]
    return f"{name} was {_show(error.get('input'))}; {rule}", None


def _exactness_rule(error: ErrorDetails) -> str:
    places = (error.get("ctx") or {}).get("decimal_places")
    return (
        f"it may carry at most {places} decimal places, "
        "so that the engine computes every sum exactly"
    )


def _show(value: Any) -> str:
    if isinstance(value, str) and (kind := secret_kind(value)):
        return f"{kind} (not shown)"  # never echo a credential into reports or logs
    if isinstance(value, Decimal):
        text = str(value)
    elif isinstance(value, str):
        text = repr(value)
    elif isinstance(value, int) and value.bit_length() > _LONG_INT_BITS:
        text = f"an integer of {_digits(value)} digits"  # repr() refuses 4,300+ digits
    elif isinstance(value, dict):
        text = "a mapping"
    elif isinstance(value, list):
        text = f"a list of {len(value)}"
    else:
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_LONG_INT_BITS = 256


def _digits(value: int) -> str:
    return f"about {int(abs(value).bit_length() * math.log10(2)):,}"


def suggest(word: str, candidates: Sequence[str]) -> str | None:
    """``did you mean 'x'?`` for the closest candidate, or ``None``."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


def _known_fields(model: type[BaseModel] | None, path: PathTuple) -> list[str]:
    target = _model_at(model, path)
    if target is None:
        return []
    return [f.alias or name for name, f in target.model_fields.items()]


def _model_at(model: type[BaseModel] | None, path: PathTuple) -> type[BaseModel] | None:
    """The model class that validates the mapping at ``path``, following fields, lists, dicts."""
    current: Any = model
    for step in path:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = _field_named(current, str(step))
            if field is None:
                return None
            current = field
        elif get_origin(current) in (list, tuple, dict):
            args = get_args(current)
            current = args[-1] if args else None
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _field_named(model: type[BaseModel], step: str) -> Any:
    for name, field in model.model_fields.items():
        if step in (name, field.alias):
            return field.annotation
    return None


def _unwrap(annotation: Any) -> Any:
    """Strip Optional / Union-with-None down to the one non-None member, if there is one."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return _unwrap(members[0])
    return annotation
