"""Symbol tables: the names an expression may use at each stage, with their types.

Built once from the stage context models, so the models stay the single source of truth
for what a rule can see.
"""

from __future__ import annotations

import enum
import types
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from riskctl.context import CONTEXTS

__all__ = ["Field", "SymbolTable", "Type", "symbol_table"]


class Type(enum.Enum):
    """The value types an expression works with."""

    NUMBER = "number"
    BOOL = "bool"
    STR = "string"
    NONE = "null"


@dataclass(frozen=True, slots=True)
class Field:
    """One readable leaf field of a context: its dotted path, type and whether it may be null."""

    path: str
    type: Type
    nullable: bool
    choices: tuple[str, ...] = ()
    description: str = ""
    decimal: bool = False  # a Decimal (not an int): code generation binds literals to match


@dataclass(frozen=True, slots=True)
class SymbolTable:
    """Every leaf field of one stage's context, and the intermediate objects leading to them."""

    stage: str
    fields: dict[str, Field]
    objects: dict[str, bool]  # path -> may be null

    def children(self, prefix: str) -> list[str]:
        """Names directly under ``prefix`` ('' for the roots)."""
        dot = f"{prefix}." if prefix else ""
        names = {
            p[len(dot) :].split(".")[0] for p in (*self.fields, *self.objects) if p.startswith(dot)
        }
        return sorted(names)


@cache
def symbol_table(stage: str) -> SymbolTable:
    """The symbol table of a stage (cached: contexts never change at run time)."""
    fields: dict[str, Field] = {}
    objects: dict[str, bool] = {}
    _walk(CONTEXTS[stage], "", fields, objects, parent_nullable=False)
    return SymbolTable(stage, fields, objects)


def _walk(
    model: type[BaseModel],
    prefix: str,
    fields: dict[str, Field],
    objects: dict[str, bool],
    *,
    parent_nullable: bool,
) -> None:
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation, nullable = _strip_none(info.annotation)
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if extra.get("alwaysSet"):
            nullable = False
        nullable = nullable or parent_nullable  # a field of a missing group reads as null
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            objects[path] = nullable
            _walk(annotation, f"{path}.", fields, objects, parent_nullable=nullable)
            continue
        if get_origin(annotation) in (list, tuple, dict):
            continue  # collections are not expression values; derived fields summarise them
        kind, choices = _type_of(annotation)
        decimal = _bare(annotation) is Decimal
        fields[path] = Field(path, kind, nullable, choices, info.description or "", decimal)


def _strip_none(annotation: Any) -> tuple[Any, bool]:
    if get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        nullable = len(members) < len(get_args(annotation))
        return (members[0] if len(members) == 1 else annotation), nullable
    return annotation, False


def _bare(annotation: Any) -> Any:
    # Annotated[...] metadata is already stripped by pydantic from field annotations,
    # but nested Annotated (inside Optional) is not.
    while hasattr(annotation, "__metadata__"):
        annotation = get_args(annotation)[0]
    return annotation


def _type_of(annotation: Any) -> tuple[Type, tuple[str, ...]]:
    annotation = _bare(annotation)
    if get_origin(annotation) is Literal:
        return Type.STR, tuple(str(a) for a in get_args(annotation))
    if annotation is bool:
        return Type.BOOL, ()
    if annotation in (int, Decimal, float):
        return Type.NUMBER, ()
    if annotation is str:
        return Type.STR, ()
    raise TypeError(f"context field type {annotation!r} has no expression type")
