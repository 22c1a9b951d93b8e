"""A cancelled dust exit leaves the position unclosable: a cancel closes nothing."""

from __future__ import annotations

from test_mutation_gaps import CONFORMANCE, dust_exit

from riskctl import Gate, Outcome


def test_when_a_dust_exit_is_cancelled_then_the_position_stays_unclosable() -> None:
    gate = Gate.from_path(CONFORMANCE / "instruments.yaml", CONFORMANCE / "limits-reject.yaml")
    assert gate.evaluate("pre_trade", dust_exit()).outcome is Outcome.REJECT
    cancel = dust_exit()
    cancel["order"]["action"] = "cancel"

    assert gate.evaluate("pre_trade", cancel).outcome is Outcome.ALLOW

    # Nothing was sent that could close the position; it is still dust.
    assert ("binance", "TICK1/USDT") in gate.unclosable()
