"""An immutable, hashed set of validated policy documents."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from engine.loader import LoadedPolicy, load_policies
from engine.money import engine_context
from engine.policy import PolicyDocument

__all__ = ["PolicyBundle", "canonical_json", "load_bundle"]

D = TypeVar("D", bound=PolicyDocument)


@dataclass(frozen=True, slots=True)
class PolicyBundle:
    """Validated documents plus a content hash that ignores formatting and comments."""

    policies: tuple[LoadedPolicy, ...]
    hash: str = field(init=False)
    versions: Mapping[str, int] = field(init=False, hash=False, compare=False)

    def __post_init__(self) -> None:
        docs = sorted((p.document for p in self.policies), key=lambda d: d.ref)
        payload = canonical_json([d.model_dump(mode="python", by_alias=True) for d in docs])
        object.__setattr__(self, "hash", "sha256:" + hashlib.sha256(payload).hexdigest())
        versions = {d.ref: d.metadata.version for d in docs}
        object.__setattr__(self, "versions", MappingProxyType(versions))  # shared by decisions

    @property
    def documents(self) -> tuple[PolicyDocument, ...]:
        return tuple(p.document for p in self.policies)

    def of_kind(self, kind: type[D]) -> tuple[D, ...]:
        """Documents of one kind, in file order."""
        return tuple(p.document for p in self.policies if isinstance(p.document, kind))

    def source_of(self, ref: str) -> LoadedPolicy:
        """The loaded file that defines ``Kind/name``."""
        for policy in self.policies:
            if policy.document.ref == ref:
                return policy
        raise KeyError(ref)

    def summary(self) -> dict[str, Any]:
        return {"hash": self.hash, "versions": dict(self.versions)}


def load_bundle(*paths: str | Path) -> PolicyBundle:
    """Load a file or directory (or several) into a bundle; raise PolicyLoadError if any is bad."""
    return PolicyBundle(load_policies(paths or (Path("policies"),)))


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON: sorted keys, no spaces, Decimals normalised (1.50 == 1.5)."""
    return json.dumps(_canonical(value), sort_keys=True, separators=(",", ":")).encode()


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _decimal_text(value: Decimal) -> str:
    text = format(value.normalize(engine_context()), "f")  # never the caller's precision
    return "0" if text in ("-0", "0") else text
