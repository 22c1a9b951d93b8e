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

from riskctl.errors import PolicyLoadError
from riskctl.loader import LoadedPolicy, load_policies
from riskctl.money import engine_context
from riskctl.policy import PolicyDocument

__all__ = ["PolicyBundle", "canonical_json", "load_bundle"]

D = TypeVar("D", bound=PolicyDocument)


@dataclass(frozen=True, slots=True)
class PolicyBundle:
    """Validated documents plus content hashes that ignore formatting and comments.

    ``hash`` covers the whole bundle; ``digests`` maps each ``Kind/name`` to the hash of
    that document alone (a reload compares them to catch a change under an old version).
    """

    policies: tuple[LoadedPolicy, ...]
    hash: str = field(init=False)
    versions: Mapping[str, int] = field(init=False, hash=False, compare=False)
    digests: Mapping[str, str] = field(init=False, hash=False, compare=False)

    def __post_init__(self) -> None:
        docs = sorted((p.document for p in self.policies), key=lambda d: d.ref)
        parts = [canonical_json(d.model_dump(mode="python", by_alias=True)) for d in docs]
        payload = b"[" + b",".join(parts) + b"]"  # == canonical_json of the list: same hash
        object.__setattr__(self, "hash", _sha256(payload))
        digests = {d.ref: _sha256(part) for d, part in zip(docs, parts, strict=True)}
        object.__setattr__(self, "digests", MappingProxyType(digests))
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


def load_bundle(*paths: str | Path, serving: bool = False) -> PolicyBundle:
    """Load a file or directory (or several) into a bundle; raise PolicyLoadError if any is bad.

    ``serving=True`` (use it for a bundle that will decide real orders) also refuses a
    bundle with lint errors: see :func:`riskctl.serving.serving_problems`.
    """
    bundle = PolicyBundle(load_policies(paths or (Path("policies"),)))
    if serving:
        from riskctl.serving import serving_problems  # noqa: PLC0415  # serving -> lint -> bundle

        problems = serving_problems(bundle)
        if problems:
            raise PolicyLoadError(
                f"{len(problems)} problem(s) make the bundle unfit to serve", problems
            )
    return bundle


def _sha256(payload: bytes) -> str:
    return "sha256:" + hashlib.sha256(payload).hexdigest()


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
