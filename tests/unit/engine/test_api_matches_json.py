"""The Python API names things as the JSON does (issue 14, item 16): a hit's ``mode``, a
decision's ``bundle`` (``hash``, ``versions``) and ``eval_us``; ``str(Diagnostic)`` is the
line lint prints."""

from __future__ import annotations

from pathlib import Path

from gatekit import make_gate, pre_trade

from riskctl.errors import Diagnostic, Location, Severity


def test_decision_attributes_are_the_keys_of_its_json(tmp_path: Path) -> None:
    gate = make_gate(
        tmp_path,
        {"max_order_qty": 1},
        rules=[{"id": "audit_big", "stage": "pre_trade", "when": "order.qty > 0", "mode": "audit"}],
    )
    decision = gate.evaluate("pre_trade", pre_trade(order={"qty": "2"}))
    data = decision.to_json()
    assert data["bundle"] == {
        "hash": decision.bundle.hash,
        "versions": dict(decision.bundle.versions),
    }
    assert data["eval_us"] == round(decision.eval_us, 3)
    assert [h["mode"] for h in data["hits"]] == [h.mode for h in decision.hits]
    assert {h.mode for h in decision.hits} == {"enforce", "audit"}
    for name in ("stage", "outcome", "allowed", "actions", "modifications", "hits"):
        assert hasattr(decision, name)


def test_eval_us_is_shown_to_three_decimals(tmp_path: Path) -> None:
    gate = make_gate(tmp_path, {"max_order_qty": 1})
    decision = gate.evaluate("pre_trade", pre_trade())
    shown = decision.to_json()["eval_us"]
    assert shown == round(decision.eval_us, 3)
    assert len(repr(shown).partition(".")[2]) <= 3


def test_str_of_a_diagnostic_is_the_line_lint_prints() -> None:
    where = Location("policies/btc.yaml", 12, 7, "/spec/defaults/max_order_qty")
    diagnostic = Diagnostic("policy.out-of-bounds", "max_order_qty was -5", where)
    assert (
        str(diagnostic)
        == "policies/btc.yaml:12:7: error policy.out-of-bounds: max_order_qty was -5"
    )
    warning = Diagnostic("lint.x", "m", where, Severity.WARNING, hint="h")
    assert str(warning) == "policies/btc.yaml:12:7: warning lint.x: m (h)"
