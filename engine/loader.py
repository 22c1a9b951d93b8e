"""Policy files -> validated documents, with every problem found in one pass.

The loader never returns part of a bundle: it either returns every document of every
file, or raises :class:`~riskctl.errors.PolicyLoadError` listing all diagnostics.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from riskctl.errors import Diagnostic, Location, PolicyLoadError
from riskctl.kinds import KINDS, NOT_POLICY_KINDS
from riskctl.policy import API_VERSION, PolicyDocument
from riskctl.validation import diagnostics_from, suggest
from riskctl.yamlio import LoadedYaml, content_line, iter_files, read_yaml

__all__ = ["LoadedPolicy", "load_documents", "load_policies"]


@dataclass(frozen=True, slots=True)
class LoadedPolicy:
    """A validated document and the file it came from (kept for locating later findings)."""

    document: PolicyDocument
    source: LoadedYaml

    @property
    def path(self) -> str:
        return self.source.path


def load_policies(paths: Sequence[str | Path]) -> tuple[LoadedPolicy, ...]:
    """Load every policy file under ``paths``; raise with all diagnostics if any is bad."""
    policies, problems = load_documents(paths)
    if problems:
        raise PolicyLoadError(f"{len(problems)} problem(s) in policy files", problems)
    return policies


def load_documents(
    paths: Sequence[str | Path],
) -> tuple[tuple[LoadedPolicy, ...], list[Diagnostic]]:
    """Load what loads and collect diagnostics for the rest (the lint view)."""
    roots = [Path(p) for p in paths]
    problems: list[Diagnostic] = []
    for root in roots:
        if not root.exists():
            problems.append(
                Diagnostic("file.not-found", "no such file or directory", Location(str(root)))
            )
    files = list(iter_files([r for r in roots if r.exists()]))
    if not files and not problems:
        where = ", ".join(str(r) for r in roots)
        problems.append(
            Diagnostic("file.no-policies", "no *.yaml or *.yml policy files found", Location(where))
        )
    loaded: list[LoadedPolicy] = []
    for file in files:
        policy, found = load_file(file)
        problems.extend(found)
        if policy is not None:
            loaded.append(policy)
    problems.extend(_duplicate_names(loaded))
    return tuple(loaded), problems


def load_file(path: Path) -> tuple[LoadedPolicy | None, list[Diagnostic]]:
    """Load and validate one file."""
    source, problems = read_yaml(path)
    if source is None:
        return None, problems
    data = source.data
    if not isinstance(data, dict):
        return None, [
            Diagnostic(
                "policy.not-a-mapping",
                f"the document is {_kind_of(data)}; a policy is a mapping with apiVersion, "
                "kind, metadata and spec",
                Location(source.path, content_line(source.text), 1),
            )
        ]
    model, problems = _kind_model(source, data)
    if model is None:
        return None, problems
    try:
        document = model.model_validate(data)
    except ValidationError as exc:
        return None, diagnostics_from(
            exc, locate=lambda p, k: source.location(p, at_key=k), model=model
        )
    return LoadedPolicy(document, source), []


def _kind_model(
    source: LoadedYaml, data: dict[Any, Any]
) -> tuple[type[PolicyDocument] | None, list[Diagnostic]]:
    problems: list[Diagnostic] = []
    api = data.get("apiVersion")
    if api != API_VERSION:
        problems.append(
            Diagnostic(
                "policy.unknown-api-version" if api is not None else "policy.missing-field",
                f"apiVersion was {api!r}; it must be {API_VERSION!r}"
                if api is not None
                else f"the document is missing apiVersion; write apiVersion: {API_VERSION}",
                source.location(("apiVersion",)),
            )
        )
    kind = data.get("kind")
    model = KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        known = ", ".join(sorted(KINDS))
        problems.append(
            Diagnostic(
                "policy.unknown-kind" if kind is not None else "policy.missing-field",
                f"kind was {kind!r}; it must be one of {known}"
                if kind is not None
                else f"the document is missing kind; it must be one of {known}",
                source.location(("kind",)),
                hint=(NOT_POLICY_KINDS.get(kind) or suggest(kind, list(KINDS)))
                if isinstance(kind, str)
                else None,
            )
        )
    return (model if not problems else None), problems


def _kind_of(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a plain string"
    if isinstance(value, bool):
        return "a true/false value"
    if isinstance(value, int | float | Decimal):
        return "a number"
    return "a single value"


def _duplicate_names(policies: Iterable[LoadedPolicy]) -> list[Diagnostic]:
    seen: dict[str, LoadedPolicy] = {}
    problems = []
    for policy in policies:
        ref = policy.document.ref
        first = seen.setdefault(ref, policy)
        if first is policy:
            continue
        where = first.source.location(("metadata", "name"))
        problems.append(
            Diagnostic(
                "policy.duplicate-name",
                f"{ref} is defined twice; the first definition is at {where}",
                policy.source.location(("metadata", "name")),
                hint="give each document of a kind its own metadata.name",
            )
        )
    return problems
