"""Run loaded test cases through a gate and check each decision against its expectation.

The runner is deterministic and synchronous: the same bundle and cases give the same
results. A case passes when every expectation holds; a failed case carries one reason per
broken expectation, in full words, plus the decision so reports can show what fired.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from riskctl.bundle import PolicyBundle
from riskctl.decision import Decision
from riskctl.errors import Location
from riskctl.gate import Gate
from riskctl.policytest.coverage import Coverage, configured_limits, custom_rule_ids
from riskctl.policytest.load import LoadedCase, PreparedFile
from riskctl.policytest.model import Expectation

__all__ = ["CaseResult", "FileResult", "RunResult", "check", "run_tests"]


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One case's decision and, when it failed, why."""

    name: str
    stage: str
    location: Location
    decision: Decision
    reasons: tuple[str, ...]
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.reasons


@dataclass(frozen=True, slots=True)
class FileResult:
    """The results of one test file, in case order."""

    path: str
    suite: str
    cases: tuple[CaseResult, ...]

    @property
    def failed(self) -> tuple[CaseResult, ...]:
        return tuple(c for c in self.cases if not c.passed)

    @property
    def empty(self) -> bool:
        """A file with no cases tests nothing; it fails the run."""
        return not self.cases


@dataclass(frozen=True, slots=True)
class RunResult:
    """Every file run against one policy directory, and that bundle's rule coverage."""

    policies: str
    files: tuple[FileResult, ...]
    custom: Coverage
    limits: Coverage

    @property
    def cases(self) -> tuple[CaseResult, ...]:
        return tuple(c for f in self.files for c in f.cases)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.cases) and not any(f.empty for f in self.files)

    def coverage_shortfalls(self, minimum: Decimal | None) -> tuple[Coverage, ...]:
        """The coverage sets below ``minimum`` percent; none when no minimum is set."""
        if minimum is None:
            return ()
        return tuple(c for c in (self.custom, self.limits) if c.below(minimum))


def run_tests(
    bundle: PolicyBundle,
    files: Sequence[PreparedFile],
    *,
    label: str,
    clock: Callable[[], float] = time.perf_counter,
) -> RunResult:
    """Evaluate every case of ``files`` against ``bundle``; ``label`` names it in reports.

    The bundle compiles once; each case gets a gate with fresh state, so no case sees what
    another left behind (the gate remembers dust positions, for one). Raises
    PolicyLoadError if the bundle does not compile.
    """
    gate = Gate(bundle, warm=False)
    results = tuple(
        FileResult(p.file.path, p.file.suite, tuple(_run_case(gate, c, clock) for c in p.cases))
        for p in files
    )
    fired = frozenset(h.rule_id for f in results for c in f.cases for h in c.decision.hits)
    return RunResult(
        policies=label,
        files=results,
        custom=Coverage("custom rules", custom_rule_ids(bundle), fired),
        limits=Coverage("typed limits", configured_limits(bundle), fired),
    )


def _run_case(shared: Gate, loaded: LoadedCase, clock: Callable[[], float]) -> CaseResult:
    case = loaded.case
    gate = shared.fresh()
    start = clock()
    decision = gate.evaluate(case.stage, loaded.context)
    seconds = clock() - start
    return CaseResult(
        case.name, case.stage, loaded.location, decision, check(case.expect, decision), seconds
    )


def check(expect: Expectation, decision: Decision) -> tuple[str, ...]:
    """Every way ``decision`` breaks ``expect``, in full words; empty when it holds."""
    reasons: list[str] = []
    outcome = str(decision.outcome)
    if outcome != expect.outcome:
        reasons.append(f"expected outcome {expect.outcome}, got {outcome}")
    fired = {hit.rule_id: hit for hit in decision.hits}
    reasons += [f"expected {r} to fire; it did not" for r in expect.fires if r not in fired]
    for rule_id in expect.not_fires:
        hit = fired.get(rule_id)
        if hit is not None:
            reasons.append(
                f"expected {rule_id} not to fire; it fired ({hit.action}): {hit.message}"
            )
    for action in expect.actions or ():
        if action not in decision.actions:
            present = ", ".join(decision.actions) or "none"
            reasons.append(f"expected action {action}; the decision's actions are {present}")
    if expect.modifications is not None:
        reasons += _modification_reasons(expect.modifications.model_dump(), decision)
    return tuple(reasons)


def _modification_reasons(expected: dict[str, Decimal | None], decision: Decision) -> list[str]:
    reasons = []
    for key, value in expected.items():
        if value is None:
            continue
        actual = decision.modifications.get(key)
        if actual is None:
            reasons.append(f"expected {key} to be modified to {value}; it was not modified")
        elif actual != value:
            reasons.append(f"expected {key} to be modified to {value}, got {actual}")
    return reasons
