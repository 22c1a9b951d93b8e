"""Gate.reload: a valid change swaps atomically; anything wrong keeps the old bundle in force."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from riskctl import Gate, Outcome

LIMITS = """\
apiVersion: riskctl/v1
kind: RiskLimits
metadata: {{name: test-limits, version: {version}, owner: tests}}
spec:
  environment: {environment}
  venues:
    - venue: binance
      account: {account}
      symbols: [{symbols}]
  defaults:
    max_order_qty: {max_order_qty}
    max_order_notional: 100000
    price_collar_bps: 500
    max_daily_loss: 1000
"""

RULES = """\
apiVersion: riskctl/v1
kind: Rules
metadata: {{name: test-rules, version: {rules_version}, owner: tests}}
spec:
  rules:
    - id: no-market-orders
      stage: pre_trade
      when: {when}
      message: m
"""


def write(
    directory: Path,
    *,
    version: int = 1,
    rules_version: int = 1,
    environment: str = "paper",
    account: str = "mm-binance-1",
    symbols: str = "BTC/USDT",
    max_order_qty: str = "5",
    when: str = "order.type == 'market'",
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "limits.yaml").write_text(
        LIMITS.format(
            version=version,
            environment=environment,
            account=account,
            symbols=symbols,
            max_order_qty=max_order_qty,
        ),
        encoding="utf-8",
    )
    rules = RULES.format(when=when, rules_version=rules_version)
    (directory / "rules.yaml").write_text(rules, encoding="utf-8")
    return directory


def order(qty: str = "1", **extra: Any) -> dict[str, Any]:
    return {
        "now_ms": 1,
        "order": {
            "venue": "binance",
            "symbol": extra.pop("symbol", "BTC/USDT"),
            "side": "buy",
            "qty": qty,
            "price": "100",
            "client_order_id": "c-1",
            "strategy": "mm",
            **extra,
        },
        "market": {"bid": "99.9", "ask": "100.1", "age_ms": 0},
        "account": {"equity": "1000", "available_balance": "1000", "balance_age_ms": 0},
    }


def snapshot(gate: Gate) -> list[tuple[Outcome, tuple[str, ...], str]]:
    """Decisions on a fixed set of orders: what must not change when a reload is refused."""
    contexts = [order("1"), order("5"), order("6"), order("7"), order("1", symbol="ETH/USDT")]
    out = []
    for context in contexts:
        decision = gate.evaluate("pre_trade", context)
        out.append((decision.outcome, tuple(h.code for h in decision.hits), decision.bundle.hash))
    return out


@pytest.fixture
def live(tmp_path) -> tuple[Gate, Path]:
    directory = write(tmp_path / "policies")
    return Gate.from_path(directory), directory


# -- valid changes ---------------------------------------------------------------------------


def test_when_a_limit_changes_then_reload_swaps_and_the_hash_changes(live) -> None:
    gate, directory = live
    before = gate.evaluate("pre_trade", order("6"))
    assert before.outcome is Outcome.REJECT
    write(directory, version=2, max_order_qty="10")
    assert gate.reload(directory) == ()
    after = gate.evaluate("pre_trade", order("6"))
    assert after.outcome is Outcome.ALLOW
    assert after.bundle.hash != before.bundle.hash
    assert after.bundle.hash == gate.bundle.hash
    assert after.bundle.versions["RiskLimits/test-limits"] == 2


def test_when_a_rule_changes_then_reload_swaps_it(live) -> None:
    gate, directory = live
    market = order("1", type="market", price=None)
    assert gate.evaluate("pre_trade", market).outcome is Outcome.REJECT
    write(directory, rules_version=2, when="order.qty > 3")
    assert gate.reload(directory) == ()
    assert gate.evaluate("pre_trade", market).outcome is Outcome.ALLOW
    assert [h.code for h in gate.evaluate("pre_trade", order("4")).hits] == [
        "rule.no-market-orders"
    ]


def test_when_only_formatting_changes_then_hash_is_the_same(live) -> None:
    gate, directory = live
    before = gate.bundle.hash
    text = (directory / "limits.yaml").read_text(encoding="utf-8")
    (directory / "limits.yaml").write_text(
        "# a comment\n" + text.replace("max_order_qty: 5", "max_order_qty: 5.0"), encoding="utf-8"
    )
    assert gate.reload(directory) == ()
    assert gate.bundle.hash == before


def test_when_symbols_are_added_then_reload_accepts_them(live) -> None:
    gate, directory = live
    eth = order("1", symbol="ETH/USDT")
    assert [h.code for h in gate.evaluate("pre_trade", eth).hits] == ["limit.unknown_instrument"]
    write(directory, version=2, symbols="BTC/USDT, ETH/USDT")
    assert gate.reload(directory) == ()
    assert gate.evaluate("pre_trade", eth).outcome is Outcome.ALLOW


# -- invalid files keep the old bundle ---------------------------------------------------------


def assert_unchanged(gate: Gate, before_hash: str, before: list[Any]) -> None:
    assert gate.bundle.hash == before_hash
    assert snapshot(gate) == before


def test_when_new_file_has_a_schema_error_then_old_bundle_stays_and_error_is_located(live) -> None:
    gate, directory = live
    before_hash, before = gate.bundle.hash, snapshot(gate)
    write(directory, version=2, max_order_qty="-1")
    problems = gate.reload(directory)
    assert [p.code for p in problems] == ["policy.out-of-bounds"]
    (problem,) = problems
    assert problem.location.path.endswith("limits.yaml")
    assert (problem.location.line, problem.location.column) == (11, 20)
    assert problem.location.pointer == "/spec/defaults/max_order_qty"
    assert problem.format().startswith(
        f"{problem.location.path}:11:20: error policy.out-of-bounds:"
    )
    assert_unchanged(gate, before_hash, before)


def test_when_new_file_has_an_unknown_key_then_old_bundle_stays(live) -> None:
    gate, directory = live
    before_hash, before = gate.bundle.hash, snapshot(gate)
    path = directory / "limits.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "    max_ordr_qty: 3\n", encoding="utf-8")
    problems = gate.reload(directory)
    assert [p.code for p in problems] == ["policy.unknown-key"]
    assert (problems[0].location.line, problems[0].location.column) == (15, 5)
    assert_unchanged(gate, before_hash, before)


def test_when_new_file_has_a_bad_expression_then_old_bundle_stays_and_error_is_located(
    live,
) -> None:
    gate, directory = live
    before_hash, before = gate.bundle.hash, snapshot(gate)
    write(directory, when="order.type == 'market' and order.qtty > 1")
    problems = gate.reload(directory)
    assert [p.code for p in problems] == ["expr.unknown-name"]
    (problem,) = problems
    assert problem.location.path.endswith("rules.yaml")
    line = (directory / "rules.yaml").read_text(encoding="utf-8").splitlines()[7]
    assert (problem.location.line, problem.location.column) == (8, line.index("order.qtty") + 1)
    assert problem.hint == "did you mean order.qty?"
    assert_unchanged(gate, before_hash, before)


@pytest.mark.parametrize(
    ("when", "code"),
    [
        ("order.__class__ == 1", "expr.forbidden"),
        ("event.age_ms > 3000", "expr.wrong-stage"),
        ("order.side == 'bye'", "expr.invalid-choice"),
        ("order.qty >", "expr.syntax"),
        ("2 ** 99999 > order.qty", "expr.forbidden"),
    ],
)
def test_when_any_expression_is_refused_then_reload_keeps_the_old_bundle(live, when, code) -> None:
    gate, directory = live
    before_hash, before = gate.bundle.hash, snapshot(gate)
    write(directory, version=3, max_order_qty="10", when=when)
    problems = gate.reload(directory)
    assert code in [p.code for p in problems]
    assert_unchanged(gate, before_hash, before)


def test_when_yaml_does_not_parse_then_reload_keeps_the_old_bundle(live) -> None:
    gate, directory = live
    before_hash, before = gate.bundle.hash, snapshot(gate)
    (directory / "limits.yaml").write_text("apiVersion: [riskctl/v1\n", encoding="utf-8")
    problems = gate.reload(directory)
    assert problems
    assert all(p.code.startswith("yaml.") for p in problems)
    assert_unchanged(gate, before_hash, before)


def test_when_path_does_not_exist_then_reload_keeps_the_old_bundle(live, tmp_path) -> None:
    gate, _ = live
    before_hash, before = gate.bundle.hash, snapshot(gate)
    problems = gate.reload(tmp_path / "nowhere")
    assert [p.code for p in problems] == ["file.not-found"]
    assert_unchanged(gate, before_hash, before)


def test_when_a_refused_reload_is_followed_by_a_good_one_then_the_good_one_applies(live) -> None:
    gate, directory = live
    write(directory, max_order_qty="-1")
    assert gate.reload(directory)
    write(directory, version=2, max_order_qty="6")
    assert gate.reload(directory) == ()
    assert gate.evaluate("pre_trade", order("6")).outcome is Outcome.ALLOW


# -- immutable keys ----------------------------------------------------------------------------


def test_when_environment_changes_then_reload_is_refused_as_immutable(live) -> None:
    gate, directory = live
    before_hash, before = gate.bundle.hash, snapshot(gate)
    write(directory, version=2, environment="production", max_order_qty="10")
    problems = gate.reload(directory)
    assert [p.code for p in problems] == ["reload.immutable-changed"]
    assert "environment" in problems[0].message
    assert problems[0].location.path.endswith("limits.yaml")
    assert_unchanged(gate, before_hash, before)


def test_when_venue_account_changes_then_reload_is_refused_as_immutable(live) -> None:
    gate, directory = live
    before_hash, before = gate.bundle.hash, snapshot(gate)
    write(directory, version=2, account="mm-binance-2", max_order_qty="10")
    problems = gate.reload(directory)
    assert [p.code for p in problems] == ["reload.immutable-changed"]
    assert "mm-binance-2" in problems[0].message
    assert_unchanged(gate, before_hash, before)


def test_when_a_venue_is_added_then_reload_is_refused_as_immutable(live) -> None:
    gate, directory = live
    before_hash, before = gate.bundle.hash, snapshot(gate)
    path = directory / "limits.yaml"
    text = (
        path.read_text(encoding="utf-8")
        .replace("version: 1", "version: 2")
        .replace(
            "  defaults:", "    - {venue: okx, account: mm-okx-1, symbols: [BTC/USDT]}\n  defaults:"
        )
    )
    path.write_text(text, encoding="utf-8")
    problems = gate.reload(directory)
    assert [p.code for p in problems] == ["reload.immutable-changed"]
    assert_unchanged(gate, before_hash, before)


def test_when_environment_and_account_both_change_then_both_are_reported(live) -> None:
    gate, directory = live
    write(directory, version=2, environment="staging", account="other")
    problems = gate.reload(directory)
    assert [p.code for p in problems] == ["reload.immutable-changed"] * 2


def two_documents(directory: Path, second: list[tuple[str, str]], version: int = 1) -> Path:
    """``a.yaml`` holds one binance account; ``b.yaml`` holds ``second``."""

    def limits(name: str, accounts: list[tuple[str, str]], version: int) -> str:
        venues = [f"    - {{venue: {v}, account: {a}, symbols: [BTC/USDT]}}" for v, a in accounts]
        return "\n".join(
            [
                "apiVersion: riskctl/v1",
                "kind: RiskLimits",
                f"metadata: {{name: {name}, version: {version}, owner: tests}}",
                "spec:",
                "  environment: paper",
                "  venues:",
                *venues,
                "  defaults: {max_order_qty: 5}",
                "  scoped: []",
                "",
            ]
        )

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "a.yaml").write_text(limits("first", [("binance", "mm-1")], 1), "utf-8")
    path = directory / "b.yaml"
    path.write_text(limits("second", second, version), "utf-8")
    return path


def test_when_an_account_is_removed_from_the_second_document_then_the_reload_points_at_it(
    tmp_path: Path,
) -> None:
    second = two_documents(tmp_path, [("okx", "mm-okx-1"), ("binance", "mm-2")])
    gate = Gate.from_path(tmp_path)
    two_documents(tmp_path, [("binance", "mm-2")], version=2)

    problems = [p for p in gate.reload(tmp_path) if p.code == "reload.immutable-changed"]

    assert len(problems) == 1
    assert problems[0].location.path == str(second)
    lines = second.read_text(encoding="utf-8").splitlines()
    assert lines[problems[0].location.line - 2] == "  venues:"  # the list under the key


def test_when_a_whole_document_is_deleted_then_the_reload_is_refused_and_names_a_file(
    tmp_path: Path,
) -> None:
    second = two_documents(tmp_path, [("okx", "mm-okx-1")])
    gate = Gate.from_path(tmp_path)
    second.unlink()

    problems = [p for p in gate.reload(tmp_path) if p.code == "reload.immutable-changed"]

    assert len(problems) == 1
    assert "okx/mm-okx-1" in problems[0].message
    assert problems[0].location.path == str(tmp_path / "a.yaml")


# -- diagnostics point at the right place ------------------------------------------------------


def test_when_bad_name_is_on_a_later_line_of_a_block_expression_then_diagnostic_points_at_it(
    live,
) -> None:
    gate, directory = live
    block = "|\n        (order.qty > 1\n         and order.qty > 3\n         and order.qtty > 2)"
    write(directory, when=block)
    problems = gate.reload(directory)
    (problem,) = problems
    assert problem.code == "expr.unknown-name"
    lines = (directory / "rules.yaml").read_text(encoding="utf-8").splitlines()
    bad_line = next(i for i, text in enumerate(lines, start=1) if "qtty" in text)
    shown = lines[problem.location.line - 1]
    assert problem.location.line == bad_line, f"points at {shown!r}, not at the line with qtty"


def test_when_reload_runs_deep_in_a_call_stack_then_a_nested_expression_never_raises(
    live,
) -> None:
    """A policy the schema accepts (under 2000 characters, under 500 parts) must load, or be
    refused with diagnostics, whatever the caller's stack depth; reload never raises."""
    gate, directory = live
    write(directory, when="not " * 240 + "state.kill_switch")

    def nested(depth: int) -> tuple[Any, ...]:
        return nested(depth - 1) if depth else gate.reload(directory)

    try:
        problems = nested(sys.getrecursionlimit() // 3)
    except RecursionError:
        pytest.fail("Gate.reload raised RecursionError instead of returning diagnostics")
    assert problems == () or all(p.code.startswith("expr.") for p in problems)
