"""Find and load policy test files; every problem is a located diagnostic, nothing partial.

A test file is read with :func:`riskctl.yamlio.read_yaml` and validated against
:class:`~riskctl.policytest.model.PolicyTest`; then, once the policies are loaded (they
supply defaults such as the instrument), each case's context is validated against its
stage's context model. A context that does not validate is a problem in the file
(``context.*`` at its line and column), not a failed case: a test that cannot be run says
nothing about the policies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from riskctl.context import CONTEXTS, StageContext
from riskctl.errors import Diagnostic, Location
from riskctl.policytest.model import Case, Expectation, PolicyTest, TimelineStep
from riskctl.validation import diagnostics_from, suggest
from riskctl.yamlio import TEST_SUFFIXES, LoadedYaml, iter_files, missing_file, read_yaml

__all__ = [
    "TEST_SUFFIXES",
    "LoadedCase",
    "LoadedStep",
    "PolicyTestFile",
    "PreparedFile",
    "find_test_files",
    "load_test_file",
    "policies_for",
    "prepare",
    "unknown_rule_ids",
    "unknown_state_names",
]


ContextBuilder = Callable[[str, Mapping[str, Any]], StageContext]


@dataclass(frozen=True, slots=True)
class LoadedStep:
    """A timeline step: the bot's context with ``now_ms`` set, and where the step is."""

    step: TimelineStep
    context: dict[str, Any]
    location: Location


@dataclass(frozen=True, slots=True)
class LoadedCase:
    """A case, its validated context (None for a timeline), and where the case starts."""

    case: Case
    context: StageContext | None
    location: Location
    steps: tuple[LoadedStep, ...] = ()


@dataclass(frozen=True, slots=True)
class PolicyTestFile:
    """One loaded test file: its validated document and its source (for locations)."""

    path: str
    document: PolicyTest
    source: LoadedYaml

    @property
    def suite(self) -> str:
        return self.document.metadata.name


@dataclass(frozen=True, slots=True)
class PreparedFile:
    """A test file whose every context validated: ready to run."""

    file: PolicyTestFile
    cases: tuple[LoadedCase, ...]


def find_test_files(paths: Sequence[Path]) -> tuple[list[Path], list[Diagnostic]]:
    """Test files under each path: a file as given, a directory's ``*.test.yaml``, sorted."""
    found: list[Path] = []
    problems: list[Diagnostic] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*.test.y*ml")
                if p.is_file() and p.name.endswith(TEST_SUFFIXES)
            )
        elif path.exists():
            found.append(path)
        else:
            problems.append(missing_file(path))
    return list(dict.fromkeys(found)), problems


def policies_for(path: Path) -> Path | None:
    """The policy directory for tests at ``path``, when no ``--policies`` is given.

    A directory is its own policy directory, and a file uses the directory it is in; if that
    holds no policy files, its parent does (tests kept in ``policies/tests/`` test
    ``policies/``). ``None`` when neither holds policies.
    """
    start = path if path.is_dir() else path.parent
    parent = start.parent if start.parent != start else start / ".."  # "." has no .parent
    for candidate in (start, parent):
        if _holds_policies(candidate):
            return candidate
    return None


def _holds_policies(directory: Path) -> bool:
    return directory.is_dir() and next(iter_files([directory]), None) is not None


def load_test_file(path: Path) -> tuple[PolicyTestFile | None, list[Diagnostic]]:
    """Load one test file and validate its structure; all problems at once.

    Contexts are validated later, by :func:`prepare`, once the policies are known.
    """
    source, problems = read_yaml(path)
    if source is None:
        return None, problems
    if not isinstance(source.data, dict):
        return None, [
            Diagnostic(
                "test.not-a-mapping",
                "the document is not a mapping; a policy test has apiVersion, kind: PolicyTest,"
                " metadata and cases",
                source.location(()),
            )
        ]
    try:
        document = PolicyTest.model_validate(source.data)
    except ValidationError as exc:
        locate = lambda p, k: source.location(p, at_key=k)  # noqa: E731
        return None, diagnostics_from(exc, locate=locate, model=PolicyTest, namespace="test")
    problems = _duplicate_names(source, document)
    if problems:
        return None, problems
    return PolicyTestFile(source.path, document, source), []


def prepare(file: PolicyTestFile, build: ContextBuilder) -> tuple[PreparedFile, list[Diagnostic]]:
    """Validate every case's context with ``build``.

    ``build`` is :meth:`riskctl.gate.Gate.context`: it fills in what the engine would (the
    instrument from the bundle) and validates as the gate does, so a case sees exactly
    what production would.
    """
    source = file.source
    cases: list[LoadedCase] = []
    problems: list[Diagnostic] = []
    for index, case in enumerate(file.document.cases):
        where = source.location(("cases", index, "name"))
        if case.timeline is not None:
            steps, found = _prepare_steps(source, index, case.timeline, build)
            problems += found
            if not found:
                cases.append(LoadedCase(case, None, where, steps))
            continue
        assert case.stage is not None
        assert case.context is not None
        context, found = _validated(source, ("cases", index), case.stage, case.context, build)
        problems += found
        if context is not None:
            cases.append(LoadedCase(case, context, where))
    return PreparedFile(file, tuple(cases)), problems


def _prepare_steps(
    source: LoadedYaml, index: int, timeline: Sequence[TimelineStep], build: ContextBuilder
) -> tuple[tuple[LoadedStep, ...], list[Diagnostic]]:
    """Each step's context with ``now_ms`` from ``at_ms``, validated as the gate would, so
    a typo is a located problem; the runtime gets the bot's mapping and completes it."""
    steps: list[LoadedStep] = []
    problems: list[Diagnostic] = []
    for number, step in enumerate(timeline):
        at = ("cases", index, "timeline", number)
        context = {**step.context, "now_ms": step.at_ms}
        _, found = _validated(source, at, step.stage, context, build)
        problems += found
        steps.append(LoadedStep(step, context, source.location((*at, "at_ms"))))
    return tuple(steps), problems


def _validated(
    source: LoadedYaml,
    at: tuple[str | int, ...],
    stage: str,
    context: Mapping[str, Any],
    build: ContextBuilder,
) -> tuple[StageContext | None, list[Diagnostic]]:
    try:
        return build(stage, context), []
    except ValidationError as exc:
        locate = _in_context(source, at)
        return None, diagnostics_from(
            exc, locate=locate, model=CONTEXTS[stage], namespace="context"
        )


def _in_context(
    source: LoadedYaml, at: tuple[str | int, ...]
) -> Callable[[tuple[str | int, ...], bool], Location]:
    """Locate a context error inside the ``context`` mapping of the case or step at ``at``."""

    def locate(path: tuple[str | int, ...], at_key: bool) -> Location:
        return source.location((*at, "context", *path), at_key=at_key)

    return locate


def _duplicate_names(source: LoadedYaml, document: PolicyTest) -> list[Diagnostic]:
    seen: dict[str, int] = {}
    problems = []
    for index, case in enumerate(document.cases):
        first = seen.setdefault(case.name, index)
        if first != index:
            where = source.location(("cases", first, "name"))
            problems.append(
                Diagnostic(
                    "test.duplicate-case",
                    f"case name {case.name!r} is used twice; the first is at {where}",
                    source.location(("cases", index, "name")),
                    hint="reports and JUnit XML name cases, so names must be unique in a file",
                )
            )
    return problems


def unknown_rule_ids(files: Iterable[PolicyTestFile], known: set[str]) -> list[Diagnostic]:
    """A located problem for every ``fires``/``not_fires`` id that is not a rule in the bundle.

    A misspelt id in ``not_fires`` would otherwise pass for ever.
    """
    problems = []
    for file in files:
        for at, expect in _expectations(file.document):
            for field in ("fires", "not_fires"):
                ids: list[str] = getattr(expect, field)
                for position, rule_id in enumerate(ids):
                    if rule_id in known:
                        continue
                    path = (*at, "expect", field, position)
                    problems.append(
                        Diagnostic(
                            "test.unknown-rule",
                            f"{rule_id!r} is not a rule id in the policies under test",
                            file.source.location(path),
                            hint=suggest(rule_id, sorted(known)),
                        )
                    )
    return problems


def unknown_state_names(
    files: Iterable[PolicyTestFile], known: Mapping[str, Sequence[str]]
) -> list[Diagnostic]:
    """A located problem for every breaker, band set or alert a timeline step names that the
    bundle does not have (``known``: "breakers", "bands", "alerts" -> names).

    A misspelt breaker expected ``closed`` would otherwise pass for ever. A breaker is
    named by its name, or ``name@venue:symbol`` for a per-symbol instance.
    """
    problems = []
    for file in files:
        for at, expect in _expectations(file.document):
            for field, names in known.items():
                for name in getattr(expect, field, None) or {}:
                    base = name.split("@", 1)[0] if field == "breakers" else name
                    if base in names:
                        continue
                    problems.append(
                        Diagnostic(
                            "test.unknown-name",
                            f"{name!r} is not one of the {field} in the policies under test",
                            file.source.location((*at, "expect", field, name), at_key=True),
                            hint=suggest(base, sorted(names)),
                        )
                    )
    return problems


def _expectations(document: PolicyTest) -> Iterable[tuple[tuple[str | int, ...], Expectation]]:
    """Every expectation in the file (a case's, or each timeline step's) and where it is."""
    for index, case in enumerate(document.cases):
        if case.expect is not None:
            yield ("cases", index), case.expect
        for number, step in enumerate(case.timeline or ()):
            if step.expect is not None:
                yield ("cases", index, "timeline", number), step.expect
