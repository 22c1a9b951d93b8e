"""A cancel never depends on compiling a program (issue 14, item 1).

Symbols such as ``BTC²/USDT`` or fullwidth ``ＢＴＣ/USDT`` pass ``str.isalnum()`` but are not
Python identifiers; generated functions once took their names from the symbol, so a cancel
for such a symbol was rejected with ``gate.error``, and only when nothing with the same
rules had compiled before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gatekit import make_gate, pre_trade

from riskctl import Outcome

ODD_SYMBOLS = ["BTC²/USDT", "ＢＴＣ/USDT", "BTC٣/USDT", "Ⅻ/USDT"]


def _send(symbol: str, kind: str) -> dict[str, Any]:
    return {
        "now_ms": 1_700_000_000_000,
        "request": {"venue": "binance", "symbol": symbol, "kind": kind},
        "venue": {"error_rate_pct": "0", "latency_ms": 5, "rate_limit_headroom_pct": "50"},
    }


def _cancel(symbol: str) -> dict[str, Any]:
    return pre_trade(order={"symbol": symbol, "action": "cancel"})


@pytest.mark.parametrize("symbol", ODD_SYMBOLS)
def test_when_a_cancel_names_a_non_identifier_symbol_then_pre_trade_allows_it(
    tmp_path: Path, symbol: str
) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 2})
    decision = gate.evaluate("pre_trade", _cancel(symbol))
    assert decision.outcome is Outcome.ALLOW, decision.to_json()


@pytest.mark.parametrize("kind", ["cancel", "cancel_all"])
@pytest.mark.parametrize("symbol", ODD_SYMBOLS)
def test_when_a_send_cancel_names_a_non_identifier_symbol_then_order_send_allows_it(
    tmp_path: Path, symbol: str, kind: str
) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 2})
    decision = gate.evaluate("order_send", _send(symbol, kind))
    assert decision.outcome is Outcome.ALLOW, decision.to_json()


@pytest.mark.parametrize("symbol", ODD_SYMBOLS)
def test_when_an_order_names_a_non_identifier_symbol_then_it_is_rejected_by_a_rule_not_an_error(
    tmp_path: Path, symbol: str
) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 2})
    decision = gate.evaluate("pre_trade", pre_trade(order={"symbol": symbol}))
    assert decision.outcome is Outcome.REJECT
    assert "gate.error" not in {hit.code for hit in decision.hits}, decision.to_json()


def test_when_symbols_compile_in_another_order_then_every_decision_is_the_same(
    tmp_path: Path,
) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 2})
    contexts = [
        ("pre_trade", pre_trade(order={"symbol": "ETH/BTC"})),
        *(("pre_trade", pre_trade(order={"symbol": s})) for s in ODD_SYMBOLS),
        *(("pre_trade", _cancel(s)) for s in ODD_SYMBOLS),
        *(("order_send", _send(s, "cancel")) for s in ODD_SYMBOLS),
    ]

    def outcomes(order: list[int]) -> dict[int, tuple[str, tuple[str, ...]]]:
        fresh = gate.fresh()
        seen = {}
        for i in order:
            decision = fresh.evaluate(*contexts[i])
            seen[i] = (str(decision.outcome), tuple(h.code for h in decision.hits))
        return seen

    forward = list(range(len(contexts)))
    assert outcomes(forward) == outcomes(forward[::-1])


def test_generated_function_names_never_carry_user_text(tmp_path: Path) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 2})
    gate.evaluate("pre_trade", pre_trade(order={"symbol": "ＢＴＣ/USDT"}))
    program = gate._rules.program("pre_trade", "binance", "ＢＴＣ/USDT")
    header = program.compiled.source.splitlines()[0]
    assert header.startswith("def pre_trade_")
    assert header.isascii()
