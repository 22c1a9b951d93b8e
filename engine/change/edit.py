"""Edit YAML text in place: replace one scalar's characters, leave every other byte alone.

The file is composed with ruamel.yaml (round-trip, YAML 1.2) to find the exact start and
end of the scalar a path names; only those characters are replaced. Dumping the whole
round-trip tree instead would keep comments and key order but may re-wrap long flow
mappings (``{name: WARN, up_to: 0.75, ...}``) and re-indent lists, so untouched lines
would not stay byte-identical.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from riskctl.change.selector import FieldPath

__all__ = ["EditError", "render_value", "replace_scalars"]


class EditError(Exception):
    """The path does not name a scalar in the file (missing, a mapping, a list or an alias)."""


def render_value(value: Any) -> str:
    """A value as YAML text: decimals exact, flags true/false, strings double-quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int):
        return format(Decimal(value), "f")
    return json.dumps(str(value))


def replace_scalars(text: str, edits: dict[FieldPath, str]) -> str:
    """``text`` with the scalar at each path replaced by the given YAML text."""
    try:
        root = YAML(typ="rt").compose(io.StringIO(text))
    except YAMLError as exc:
        raise EditError(f"the file does not parse: {exc}") from exc
    spans = []
    for path, new in edits.items():
        node = _scalar_at(root, path)
        spans.append((node.start_mark.index, node.end_mark.index, new))
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + _keep_comment_column(text, end, len(new) - (end - start))
    return text


def _keep_comment_column(text: str, end: int, grown: int) -> str:
    """The rest of the text after a scalar, its padding adjusted so a comment stays put."""
    pad = len(text) - end - len(text[end:].lstrip(" "))
    if grown == 0 or pad == 0 or text[end + pad : end + pad + 1] != "#":
        return text[end:]
    return " " * max(1, pad - grown) + text[end + pad :]


def _scalar_at(root: Node | None, path: FieldPath) -> ScalarNode:
    node = root
    for step in path:
        node = _child(node, step)
        if node is None:
            raise EditError("no such field in the document")
    if not isinstance(node, ScalarNode):
        raise EditError("the field holds a mapping or a list, not a single value")
    if node.anchor is not None:
        raise EditError("the value is a YAML anchor; edit it by hand")
    return node


def _child(node: Node | None, step: str | int) -> Node | None:
    if isinstance(node, MappingNode) and isinstance(step, str):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == step:
                return value  # type: ignore[no-any-return]
        return None
    if isinstance(node, SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        return node.value[step]  # type: ignore[no-any-return]
    return None
