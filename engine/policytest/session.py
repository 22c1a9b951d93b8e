"""``run_paths``: from the paths on the command line to results, or to every problem.

Which policies a test file runs against: ``policies`` when given; otherwise each PATH's own
directory (a file's directory), or its parent when that holds no policy files, so tests in
``policies/tests/`` run against ``policies/``. Nothing runs unless every test file loads,
every policy directory loads and compiles, and every rule id a case names exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from riskctl.bundle import PolicyBundle, load_bundle
from riskctl.errors import Diagnostic, Location, PolicyLoadError
from riskctl.gate import Gate
from riskctl.policytest.coverage import (
    alert_names,
    band_set_keys,
    breaker_names,
    builtin_rule_ids,
    custom_rule_ids,
)
from riskctl.policytest.load import (
    PolicyTestFile,
    PreparedFile,
    find_test_files,
    load_test_file,
    policies_for,
    prepare,
    unknown_rule_ids,
    unknown_state_names,
)
from riskctl.policytest.run import RunResult, run_tests
from riskctl.yamlio import missing_file

__all__ = ["Session", "run_paths"]


@dataclass(frozen=True, slots=True)
class Session:
    """What a run produced: results per policy directory, or the problems that stopped it."""

    results: tuple[RunResult, ...]
    problems: tuple[Diagnostic, ...]
    test_files: int

    @property
    def passed(self) -> bool:
        return not self.problems and self.test_files > 0 and all(r.passed for r in self.results)


def run_paths(paths: Sequence[Path], *, policies: Path | None = None) -> Session:
    """Find, load and run the tests under ``paths``; never raises on bad input."""
    groups, problems = _group(paths, policies)
    count = sum(len(files) for files in groups.values())
    ready: list[tuple[Path, PolicyBundle, list[PreparedFile]]] = []
    for directory, files in groups.items():
        loaded: list[PolicyTestFile] = []
        for file in files:
            test_file, found = load_test_file(file)
            problems += found
            if test_file is not None:
                loaded.append(test_file)
        bundle, prepared, found = _prepare(directory, loaded)
        problems += found
        if bundle is not None:
            ready.append((directory, bundle, prepared))
    if problems:
        return Session((), tuple(sorted(problems, key=Diagnostic.sort_key)), count)
    results = tuple(run_tests(b, prepared, label=str(d)) for d, b, prepared in ready)
    return Session(results, (), count)


def _group(
    paths: Sequence[Path], policies: Path | None
) -> tuple[dict[Path, list[Path]], list[Diagnostic]]:
    """Test files by the policy directory they run against."""
    groups: dict[Path, list[Path]] = {}
    problems: list[Diagnostic] = []
    for path in paths:
        files, missing = find_test_files([path])
        problems += missing
        if not files:
            continue
        directory = policies if policies is not None else policies_for(path)
        if directory is None:
            problems.append(
                Diagnostic(
                    "test.no-policies",
                    "found no policy files here or in the parent directory to test against",
                    Location(str(path)),
                    hint="pass --policies DIR",
                )
            )
            continue
        group = groups.setdefault(directory, [])
        group += [f for f in files if f not in group]
    return groups, problems


def _prepare(
    directory: Path, files: list[PolicyTestFile]
) -> tuple[PolicyBundle | None, list[PreparedFile], list[Diagnostic]]:
    """Load and compile ``directory``, validate the files' contexts, check their rule ids."""
    if not directory.exists():
        return None, [], [missing_file(directory)]
    try:
        bundle = load_bundle(directory)
        gate = Gate(bundle, warm=False)
    except PolicyLoadError as exc:
        return None, [], list(exc.diagnostics)
    prepared: list[PreparedFile] = []
    problems: list[Diagnostic] = []
    for file in files:
        ready, found = prepare(file, gate.context)
        prepared.append(ready)
        problems += found
    problems += unknown_rule_ids(files, set(custom_rule_ids(bundle)) | builtin_rule_ids())
    machines = {
        "breakers": breaker_names(bundle),
        "bands": band_set_keys(bundle),
        "alerts": alert_names(bundle),
    }
    problems += unknown_state_names(files, machines)
    return bundle, prepared, problems
