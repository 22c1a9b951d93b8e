"""Run loaded test cases through a gate and check each decision against its expectation.

The runner is deterministic and synchronous: the same bundle and cases give the same
results. A case passes when every expectation holds; a failed case carries one reason per
broken expectation, in full words, plus the decision so reports can show what fired.
A timeline case runs its steps through one fresh StatefulGate on a MemoryStore and checks
each step's expectations right after it; a broken one names the step's line.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from riskctl.bundle import PolicyBundle
from riskctl.decision import Decision
from riskctl.errors import Location
from riskctl.gate import Gate
from riskctl.policytest.coverage import (
    Coverage,
    alert_names,
    band_set_keys,
    breaker_names,
    configured_limits,
    custom_rule_ids,
    first_bands,
)
from riskctl.policytest.load import LoadedCase, LoadedStep, PreparedFile
from riskctl.policytest.model import Expectation, ExpectedAlert, StepExpectation
from riskctl.runtime import StatefulGate, Step
from riskctl.state import MemoryStore

__all__ = ["CaseResult", "FileResult", "RunResult", "check", "check_step", "run_tests"]


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One case's decision and, when it failed, why."""

    name: str
    stage: str
    location: Location
    decision: Decision
    reasons: tuple[str, ...]
    seconds: float = 0.0
    decisions: tuple[Decision, ...] = ()
    """Every step's decision, for a timeline (``decision`` is the failing or last one)."""
    reached: frozenset[tuple[str, str]] = frozenset()
    """What a timeline reached: ("breaker", name) tripped, ("band", set) moved out of its
    first band, ("alert", name) fired."""

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


_NO_BREAKERS = Coverage("breakers", (), frozenset(), verb="tripped")
_NO_BANDS = Coverage("band sets", (), frozenset(), verb="moved")
_NO_ALERTS = Coverage("alerts", (), frozenset())


@dataclass(frozen=True, slots=True)
class RunResult:
    """Every file run against one policy directory, and that bundle's rule coverage."""

    policies: str
    files: tuple[FileResult, ...]
    custom: Coverage
    limits: Coverage
    breakers: Coverage = _NO_BREAKERS
    bands: Coverage = _NO_BANDS
    alerts: Coverage = _NO_ALERTS

    @property
    def coverages(self) -> tuple[Coverage, ...]:
        """Every coverage set, in report order; the runtime's only when the bundle has some."""
        machines = (c for c in (self.breakers, self.bands, self.alerts) if c.rules)
        return (self.custom, self.limits, *machines)

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
        return tuple(c for c in self.coverages if c.below(minimum))


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
    firsts = first_bands(bundle)
    results = tuple(
        FileResult(
            p.file.path, p.file.suite, tuple(_run_case(gate, c, firsts, clock) for c in p.cases)
        )
        for p in files
    )
    cases = [c for f in results for c in f.cases]
    fired = frozenset(h.rule_id for c in cases for d in (c.decision, *c.decisions) for h in d.hits)
    reached = frozenset(r for c in cases for r in c.reached)

    def of(kind: str) -> frozenset[str]:
        return frozenset(name for k, name in reached if k == kind)

    return RunResult(
        policies=label,
        files=results,
        custom=Coverage("custom rules", custom_rule_ids(bundle), fired),
        limits=Coverage("typed limits", configured_limits(bundle), fired),
        breakers=Coverage("breakers", breaker_names(bundle), of("breaker"), verb="tripped"),
        bands=Coverage("band sets", band_set_keys(bundle), of("band"), verb="moved"),
        alerts=Coverage("alerts", alert_names(bundle), of("alert"), verb="fired"),
    )


def _run_case(
    shared: Gate, loaded: LoadedCase, firsts: dict[str, str], clock: Callable[[], float]
) -> CaseResult:
    case = loaded.case
    if loaded.steps:
        return _run_timeline(shared, loaded, firsts, clock)
    assert case.stage is not None
    assert case.expect is not None
    assert loaded.context is not None
    gate = shared.fresh()
    start = clock()
    decision = gate.evaluate(case.stage, loaded.context)
    seconds = clock() - start
    return CaseResult(
        case.name, case.stage, loaded.location, decision, check(case.expect, decision), seconds
    )


def _run_timeline(
    shared: Gate, loaded: LoadedCase, firsts: dict[str, str], clock: Callable[[], float]
) -> CaseResult:
    """Every step through one fresh runtime; a step's reasons are prefixed with its line."""
    runtime = StatefulGate(shared.fresh(), MemoryStore(), audit=False)
    reasons: list[str] = []
    decisions: list[Decision] = []
    reached: set[tuple[str, str]] = set()
    failing: LoadedStep | None = None
    seconds = 0.0
    for number, loaded_step in enumerate(loaded.steps, start=1):
        step = loaded_step.step
        start = clock()
        result = runtime.evaluate(step.stage, loaded_step.context)
        seconds += clock() - start
        decisions.append(result.decision)
        view = runtime.describe()
        reached |= _reached(view, firsts)
        found = check_step(step.expect, result, view, firsts) if step.expect else ()
        where = f"step {number} at {loaded_step.location} ({step.stage}, at_ms {step.at_ms})"
        reasons += [f"{where}: {reason}" for reason in found]
        if found and failing is None:
            failing = loaded_step
    shown = decisions[-1] if failing is None else decisions[loaded.steps.index(failing)]
    return CaseResult(
        loaded.case.name,
        (failing or loaded.steps[-1]).step.stage,
        loaded.location,
        shown,
        tuple(reasons),
        seconds,
        tuple(decisions),
        frozenset(reached),
    )


def _reached(view: dict[str, Any], firsts: dict[str, str]) -> set[tuple[str, str]]:
    """What the runtime's state shows a timeline reached so far (for coverage)."""
    found = {("breaker", key.split("@")[0]) for key, b in view["breakers"].items() if b["trips"]}
    found |= {("band", key) for key, band in view["bands"].items() if band != firsts.get(key)}
    found |= {("alert", name) for name, a in view["alerts"].items() if a["status"] == "firing"}
    return found


def check_step(
    expect: StepExpectation, step: Step, view: dict[str, Any], firsts: dict[str, str]
) -> tuple[str, ...]:
    """Every way one timeline step breaks ``expect``: its decision, then the state after it
    (``view`` is the runtime's ``describe()``, ``firsts`` each band set's first band)."""
    reasons = list(check(expect, step.decision))
    if expect.trading_state is not None and expect.trading_state != step.trading_state:
        reasons.append(f"expected trading state {expect.trading_state}, got {step.trading_state}")
    for name, status in (expect.breakers or {}).items():
        actual = view["breakers"].get(name, {}).get("status", "closed")
        if actual != status:
            reasons.append(f"expected breaker {name} {status}, got {actual}")
    for key, band in (expect.bands or {}).items():
        if key not in firsts:
            known = ", ".join(sorted(firsts)) or "none"
            reasons.append(f"expected band set {key} in {band}; no band set has that key ({known})")
        elif (actual := view["bands"].get(key, firsts[key])) != band:
            reasons.append(f"expected band set {key} in {band}, got {actual}")
    for name, wanted in (expect.alerts or {}).items():
        reasons += _alert_reasons(name, wanted, view["alerts"].get(name, {}))
    for field, value in (expect.session or {}).items():
        got = view["session"].get(field)
        if got is None or Decimal(got) != value:
            reasons.append(f"expected session {field} {value}, got {got or 'no session yet'}")
    names = [effect.name for effect in step.effects]
    for name in expect.effects or ():
        if name not in names:
            reasons.append(
                f"expected effect {name}; the step's effects are {', '.join(names) or 'none'}"
            )
    return tuple(reasons)


def _alert_reasons(name: str, wanted: str | ExpectedAlert, actual: dict[str, Any]) -> list[str]:
    expected = wanted if isinstance(wanted, ExpectedAlert) else ExpectedAlert(status=wanted)
    status = actual.get("status", "inactive")
    severity = actual.get("severity")
    reasons = []
    if status != expected.status:
        reasons.append(f"expected alert {name} {expected.status}, got {status}")
    if expected.severity is not None and severity != expected.severity:
        reasons.append(f"expected alert {name} severity {expected.severity}, got {severity}")
    return reasons


def check(expect: Expectation, decision: Decision) -> tuple[str, ...]:
    """Every way ``decision`` breaks ``expect``, in full words; empty when it holds."""
    reasons: list[str] = []
    outcome = str(decision.outcome)
    if expect.outcome is not None and outcome != expect.outcome:
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
