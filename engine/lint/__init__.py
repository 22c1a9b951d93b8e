"""Checks beyond the schema, run by ``riskctl lint`` and before every (re)load.

:func:`lint_paths` loads what loads, then runs one check module after another over the
documents that loaded; each check only yields bare findings. This dispatcher alone
reads raw file text, applies inline waivers (:mod:`riskctl.lint.waivers`) and sorts:

==================  ============================================================
``expressions``     constant conditions, division by a value that can be 0
``consistency``     alerts, inventory bands, breakers, duplicate names, shadowed rules
``shares``          alerts whose levels are percent of a RiskLimits limit (``of_limit``)
``scopes``          RiskLimits scopes: duplicates, outside the universe, loosening
``coverage``        every traded symbol has order, notional, collar and loss limits
``watchdog``        ChangeControl watchdogs: a session_pnl drop past the loss limits
``hygiene``         nothing that looks like a credential (raw text of every file)
``changes``         with ``base``: a changed document bumps metadata.version
==================  ============================================================
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from riskctl.errors import Diagnostic
from riskctl.lint import (
    changes,
    consistency,
    coverage,
    expressions,
    hygiene,
    reach,
    scopes,
    shares,
    watchdog,
)
from riskctl.lint.catalog import CATALOG
from riskctl.lint.waivers import Waivers
from riskctl.loader import LoadedPolicy, load_documents
from riskctl.money import under_engine_decimal
from riskctl.ruleset import check_bundle
from riskctl.yamlio import TEST_SUFFIXES, iter_files, read_text

__all__ = ["LintReport", "lint_bundles_of", "lint_paths", "lint_policies", "policy_directories"]

_SEMANTIC_CHECKS = (
    expressions.check,
    consistency.check,
    shares.check,
    scopes.check,
    coverage.check,
    reach.check,
    watchdog.check,
)


@dataclass(frozen=True, slots=True)
class LintReport:
    """Every diagnostic left after waivers, how many files were read, how many were waived."""

    diagnostics: tuple[Diagnostic, ...]
    files: int
    waived: int = 0


@under_engine_decimal  # lint computes with the gate's own decimals, whatever the caller's
def lint_paths(
    paths: Sequence[str | Path],
    *,
    base: str | None = None,
    today: dt.date | None = None,
) -> LintReport:
    """Load the policies under ``paths`` and run every check; never raises on bad input.

    ``base`` (a git revision) also checks that changed documents bump metadata.version;
    ``today`` decides which waivers have expired (default: the current UTC date).
    """
    files = list(iter_files([Path(p) for p in paths if Path(p).exists()]))
    policies, problems = load_documents(paths)
    return _lint(policies, problems, _texts(files), len(files), base=base, today=today)


@under_engine_decimal
def lint_policies(
    policies: tuple[LoadedPolicy, ...], *, today: dt.date | None = None
) -> LintReport:
    """Run every check over documents already loaded, reading no file again.

    What is linted is exactly what was loaded (each document's own source text feeds the
    hygiene check and the waivers), so a file rewritten meanwhile cannot slip past: the
    gate's reload and ``load_bundle(..., serving=True)`` use this.
    """
    texts = {p.path: p.source.text for p in policies}
    return _lint(policies, [], texts, len(texts), base=None, today=today)


def _lint(
    policies: tuple[LoadedPolicy, ...],
    problems: list[Diagnostic],
    texts: dict[str, str],
    files: int,
    *,
    base: str | None,
    today: dt.date | None,
) -> LintReport:
    # What stops the gate from loading the bundle can never be waived: lint must not pass
    # a bundle that riskctl eval, test and the gate refuse.
    blocking = problems + check_bundle(policies)
    waivers = Waivers(texts, today=today or dt.datetime.now(dt.UTC).date())
    kept, waived = waivers.apply(_findings(policies, texts, base))
    kept += blocking
    skipped = [] if base is not None else [c for c in CATALOG if c.startswith("change.")]
    kept += waivers.findings(checked={p.path for p in policies}, skipped_codes=skipped)
    return LintReport(tuple(sorted(kept, key=Diagnostic.sort_key)), files, waived)


def _findings(
    policies: tuple[LoadedPolicy, ...], texts: dict[str, str], base: str | None
) -> list[Diagnostic]:
    """Bare findings of every check."""
    found: list[Diagnostic] = []
    for check in _SEMANTIC_CHECKS:
        found.extend(check(policies))
    found.extend(hygiene.check(texts))
    if base is not None:
        found.extend(changes.check(policies, base=base))
    return found


def _texts(files: list[Path]) -> dict[str, str]:
    """Raw text of every readable policy file, keyed as diagnostics name it."""
    texts: dict[str, str] = {}
    for file in files:
        text, problem = read_text(file)
        if problem is None:  # otherwise the loader reports it
            texts[str(file)] = text
    return texts


def lint_bundles_of(
    paths: Sequence[str | Path], *, base: str | None = None, today: dt.date | None = None
) -> LintReport:
    """Lint the whole policy directory of each path as one bundle, so that findings across
    files (a venue typo'd in one, the universe in another) show when one file changed."""
    reports = [lint_paths([d], base=base, today=today) for d in policy_directories(paths)]
    return LintReport(
        tuple(d for r in reports for d in r.diagnostics),
        sum(r.files for r in reports),
        sum(r.waived for r in reports),
    )


def policy_directories(paths: Sequence[str | Path]) -> tuple[Path, ...]:
    """The bundle each path belongs to: a directory itself, a file its directory.

    Policy tests (``*.test.yaml``, or anything in the ``tests/`` folder of a policy
    directory) belong to no bundle; a directory inside another one chosen is linted with it.
    """
    chosen: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            directory = path
        elif path.name.endswith(TEST_SUFFIXES) or _in_policy_tests(path):
            continue
        else:  # a missing file's directory still holds the bundle it left
            directory = path.parent if path.parent.is_dir() else path
        if directory not in chosen:
            chosen.append(directory)
    return tuple(d for d in chosen if not _inside_another(d, chosen))


def _inside_another(directory: Path, chosen: list[Path]) -> bool:
    """A directory walk is recursive: a folder inside another chosen one is linted with it."""
    inner = directory.resolve()
    return any(other.resolve() in inner.parents for other in chosen if other.is_dir())


def _in_policy_tests(file: Path) -> bool:
    return any(folder.name == "tests" and _holds_policies(folder.parent) for folder in file.parents)


def _holds_policies(folder: Path) -> bool:
    return any(
        p.suffix in (".yaml", ".yml") and p.is_file() and not p.name.endswith(TEST_SUFFIXES)
        for p in folder.glob("*.y*ml")
    )
