"""Numbers at the edges of what Python converts: located errors and exit codes, no crashes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from clikit import REPO, riskctl

HUGE_HEX = "0x" + "f" * 5000  # more than 4,300 decimal digits: Python refuses to print it


def policies_with(tmp_path: Path, old: str, new: str, file: str = "rules.yaml") -> Path:
    target = tmp_path / "policies"
    shutil.copytree(REPO / "policies", target, ignore=shutil.ignore_patterns("tests"))
    text = (target / file).read_text(encoding="utf-8")
    assert old in text
    (target / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


@pytest.mark.parametrize("verb", ["lint", "show"])
def test_when_a_policy_holds_a_huge_hex_integer_then_lint_and_show_exit_1_with_bad_number(
    tmp_path: Path, verb: str
) -> None:
    policies = policies_with(
        tmp_path, "max_order_qty: 5 ", f"max_order_qty: {HUGE_HEX} ", "risk-limits.yaml"
    )

    done = riskctl(verb, policies)

    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert "internal error" not in output
    assert "risk-limits.yaml:" in output
    assert "error yaml.bad-number:" in output


def test_when_a_cancel_context_holds_a_huge_integer_then_eval_allows_the_cancel(
    tmp_path: Path,
) -> None:
    context = tmp_path / "cancel.yaml"
    context.write_text(
        "now_ms: 1763600000000\n"
        "request: {venue: binance, symbol: BTC/USDT, kind: cancel, client_order_id: c-1}\n"
        f"venue: {{error_rate_pct: {HUGE_HEX}}}\n",
        encoding="utf-8",
    )

    done = riskctl("eval", "--stage", "order_send", "--input", context)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["outcome"] == "allow"


def test_when_a_rule_multiplies_by_1e999_then_lint_reports_no_crash(tmp_path: Path) -> None:
    policies = policies_with(
        tmp_path, "account.available_balance < 0.05 * account.equity", "market.age_ms * 1e999 > 0"
    )

    done = riskctl("lint", policies)

    assert "internal error" not in done.stderr
    assert done.returncode == 0, done.stdout + done.stderr


def test_when_a_literal_underflows_a_float_then_lint_reasons_in_the_gates_decimals(
    tmp_path: Path,
) -> None:
    # 1e-400 is 0.0 as a float but a positive Decimal to the gate, which fires the rule.
    policies = policies_with(
        tmp_path, "account.available_balance < 0.05 * account.equity", "market.age_ms * 1e-400 > 0"
    )

    done = riskctl("lint", policies)

    assert "expr.constant-condition" not in done.stdout
    assert done.returncode == 0, done.stdout + done.stderr


def test_when_a_tiny_literal_makes_a_rule_constant_then_lint_still_finds_it(tmp_path: Path) -> None:
    policies = policies_with(
        tmp_path,
        "account.available_balance < 0.05 * account.equity",
        "abs(market.age_ms) * 1e-400 < 0",
    )

    done = riskctl("lint", policies)

    assert "expr.constant-condition" in done.stdout
