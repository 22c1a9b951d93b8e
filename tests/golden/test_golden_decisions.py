"""Decisions on the golden stream are exactly the recorded ones (issue 15).

The speed work rewrites decision building, the generated rule code and raw-dict
validation; none of it may change a decision. tools/golden_stream.py generates 100,000
seeded contexts over every stage and path (thresholds, modifications, invalid and hostile
input) and recorded what the gate decided on them before any of that work; this test
decides the whole stream again on a fresh gate and compares every decision's JSON.

Re-record (``tools/golden_stream.py --record``) only for an intended change of decisions,
with the reason in the commit message.
"""

from __future__ import annotations

import decimal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import golden_stream  # a tool, imported from tools/ like the benchmarks

SHOWN = 5  # differing decisions shown in a failure


@pytest.fixture(scope="module")
def recording() -> golden_stream.Recording:
    return golden_stream.load_recording()


@pytest.fixture(scope="module")
def cases() -> list[golden_stream.Case]:
    # The stream is generated under Python's default decimal context, as --record does: a
    # library used earlier in the same process (ccxt sets the global context) must not
    # change the numbers it spells.
    with decimal.localcontext(decimal.Context()):
        return list(golden_stream.stream())


def test_golden_stream_when_generated_again_then_it_is_the_recorded_stream(
    recording: golden_stream.Recording, cases: list[golden_stream.Case]
) -> None:
    assert recording.header["seed"] == golden_stream.SEED
    assert len(cases) == recording.header["cases"] == len(recording.lines)
    assert len(cases) >= golden_stream.COUNT
    assert golden_stream.stream_digest(cases) == recording.header["stream"], (
        "tools/golden_stream.py generates a different stream than the recorded one;"
        " re-record it (--record) in a commit that changes no decision"
    )


@pytest.mark.slow
def test_golden_decisions_when_the_stream_is_decided_on_a_fresh_gate_then_all_match(
    recording: golden_stream.Recording, cases: list[golden_stream.Case]
) -> None:
    decided = golden_stream.evaluate(cases)
    problems = golden_stream.differences(cases, recording.lines, decided.lines, limit=SHOWN)
    problems += golden_stream.bundle_problems(recording, decided)
    assert not problems, "\n".join(problems)


def test_golden_stream_when_built_then_every_stage_and_path_is_covered(
    cases: list[golden_stream.Case],
) -> None:
    stages = {c.stage for c in cases}
    assert stages == {
        "ingest",
        "signal",
        "pre_trade",
        "order_send",
        "fill",
        "monitor",
        "post_trade",
    }
    kinds = {c.kind.split(" ")[0] for c in cases}
    assert {"ordinary", "limit", "special", "invalid"} <= kinds
    assert sum(c.prebuilt for c in cases) > len(cases) // 5
    assert {n for n, _ in golden_stream.LIMIT_CASES[("okx", "BTC/USDT")]} <= {
        c.kind.removeprefix("limit ") for c in cases
    }


def test_golden_differences_when_a_decision_differs_then_context_and_both_are_shown(
    cases: list[golden_stream.Case],
) -> None:
    expected = ['{"outcome":"allow"}', '{"outcome":"reject"}']
    actual = ['{"outcome":"allow"}', '{"outcome":"allow"}']
    shown = golden_stream.differences(cases[:2], expected, actual)
    assert shown[0].startswith("1 of 2 decisions differ")
    assert "case 1 " in shown[1]
    assert "context:" in shown[1]
    assert 'expected: {"outcome":"reject"}' in shown[1]
    assert 'actual:   {"outcome":"allow"}' in shown[1]
