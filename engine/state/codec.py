"""State values to JSON text and back, exactly: one mechanism for every machine's state.

Machine states are frozen dataclasses of Decimal, int, str, bool, None, tuples and nested
dataclasses; pydantic's TypeAdapter encodes and decodes them (Decimals as exact strings),
so no machine writes its own serializer.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import TypeAdapter

__all__ = ["decode", "encode"]

T = TypeVar("T")


_adapters: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(cls: type[Any]) -> TypeAdapter[Any]:
    adapter = _adapters.get(cls)
    if adapter is None:
        adapter = _adapters[cls] = TypeAdapter(cls)
    return adapter


def encode(value: Any) -> str:
    """JSON text of a state value (its dataclass type is not stored: the key says it)."""
    return _adapter(type(value)).dump_json(value).decode()


def decode(cls: type[T], text: str) -> T:
    """The state value of type ``cls`` that ``encode`` wrote."""
    value: T = _adapter(cls).validate_json(text)
    return value
