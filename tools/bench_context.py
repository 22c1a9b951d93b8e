"""Benchmark raw dict -> context: pydantic's model_validate against the compiled fast path.

Run: ``.venv/bin/python tools/bench_context.py`` (``--quick`` for a smoke run).

The contexts are the policy tests' own (policies/tests/*.test.yaml), read as a bot's JSON
would arrive (ints, floats, strings), per stage. Both sides do the whole job ``Gate``
does before deciding: fill the bundle's defaults (``with_defaults``: the instrument), then
validate and derive. Each context is timed both ways back to back (paired), the garbage
collector off, under the engine's decimal context as in ``evaluate``; the median over
repeats is reported. Every fast result is checked equal to model_validate's first; a
context the fast path defers on is counted (it then costs a little more than today).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from riskctl.context import CONTEXTS
from riskctl.gate import Gate
from riskctl.money import under_engine_decimal

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fastctx_prototype import fast_validate  # beside this script, not installed

ROOT = Path(__file__).resolve().parent.parent


def contexts_by_stage() -> dict[str, list[dict[str, Any]]]:
    """The policy tests' contexts, plain Python values as json.loads would give."""
    found: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((ROOT / "policies" / "tests").glob("*.test.yaml")):
        document = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
        for case in document.get("cases", []):
            steps = case.get("timeline") or [case]  # a timeline's steps are contexts too
            for step in steps:
                at = {"now_ms": step["at_ms"]} if "at_ms" in step else {}
                found.setdefault(step["stage"], []).append({**step["context"], **at})
    return found


def _time(run: Callable[[], object], number: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(number):
        run()
    return (time.perf_counter_ns() - start) / number / 1000


@under_engine_decimal
def bench_stage(
    gate: Gate, stage: str, data: list[dict[str, Any]], number: int, repeat: int
) -> str:
    model = CONTEXTS[stage]
    completed = [gate.complete(stage, d) for d in data]
    deferred = sum(fast_validate(model, c) is None for c in completed)
    for item in completed:
        fast = fast_validate(model, item)
        if fast is not None and not _same(fast, model.model_validate(item)):
            sys.exit(f"{stage}: the fast path differs from model_validate on {item}")

    def today() -> None:
        for d in data:
            with contextlib.suppress(ValueError):  # an invalid test context: rejected both ways
                model.model_validate(gate.complete(stage, d))

    def fast_path() -> None:
        for d in data:
            completed = gate.complete(stage, d)
            if fast_validate(model, completed) is None:
                with contextlib.suppress(ValueError):
                    model.model_validate(completed)

    before, after = [], []
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeat):  # paired: both in each repeat, back to back
            before.append(_time(today, number) / len(data))
            after.append(_time(fast_path, number) / len(data))
    finally:
        gc.enable()
    old, new = statistics.median(before), statistics.median(after)
    return (
        f"{stage:<11} {len(data):>4} {old:>9.2f} {new:>9.2f} {old / new:>6.2f}x"
        f" {deferred:>5} deferred"
    )


@under_engine_decimal
def breakdown(gate: Gate, data: dict[str, Any], number: int, repeat: int) -> str:
    """Where today's pre_trade µs go: the models' Python hooks, and pydantic-core's rest."""
    model = CONTEXTS["pre_trade"]
    completed = gate.complete("pre_trade", data)
    built: Any = model.model_validate(completed)
    hooks: dict[str, Callable[[], object]] = {
        "refuse derived keys (x3)": lambda: [
            type(getattr(built, part))._refuse_derived(completed[part])
            for part in ("order", "market", "position")
            if part in completed
        ],
        "Order._one_size": built.order._one_size,
        "Market._derive": built.market._derive,
        "PreTradeContext._derive": built._derive,
    }
    if built.instrument is not None:
        hooks["Instrument._bounds_ordered"] = built.instrument._bounds_ordered

    def median(run: Callable[[], object]) -> float:
        return statistics.median(_time(run, number) for _ in range(repeat))

    gc.collect()
    gc.disable()
    try:
        total = median(lambda: model.model_validate(completed))
        costs = {name: median(run) for name, run in hooks.items()}
    finally:
        gc.enable()
    lines = [f"pre_trade ordinary order, model_validate: {total:.2f} µs, of which"]
    lines += [f"  {name:<28} {cost:>6.2f} µs" for name, cost in costs.items()]
    rest = total - sum(costs.values())
    lines.append(f"  {'pydantic-core and the rest':<28} {rest:>6.2f} µs")
    return "\n".join(lines)


def _same(one: Any, other: Any) -> bool:
    return bool(one == other and one.model_dump() == other.model_dump())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats, for a smoke run")
    args = parser.parse_args(argv)
    number, repeat = (5, 3) if args.quick else (200, 9)
    gate = Gate.from_path(ROOT / "policies")
    print(f"{'stage':<11} {'ctxs':>4} {'today µs':>9} {'fast µs':>9} {'ratio':>7}")
    stages = contexts_by_stage()
    ordinary = stages["pre_trade"][:1]  # "an ordinary one-BTC quote passes"
    print(bench_stage(gate, "pre_trade", ordinary, number * 10, repeat), "(ordinary order)")
    for stage, data in stages.items():
        print(bench_stage(gate, stage, data, number, repeat))
    print(breakdown(gate, ordinary[0], number * 10, repeat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
