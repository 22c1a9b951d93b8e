"""Secrets never reach the terminal: lint, show and eval redact an expression's literal."""

from __future__ import annotations

import shutil
from pathlib import Path

from clikit import REPO, riskctl

AWS = "AKIAIOSFODNN7EXAMPLE"


def test_when_an_expression_compares_with_a_secret_then_lint_show_and_eval_do_not_echo_it(
    tmp_path: Path,
) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(REPO / "policies", policies, ignore=shutil.ignore_patterns("tests"))
    rules = policies / "rules.yaml"
    text = rules.read_text(encoding="utf-8").replace(
        "account.available_balance < 0.05 * account.equity", f"order.qty == '{AWS}'", 1
    )
    rules.write_text(text, encoding="utf-8")
    context = REPO / "tests" / "data" / "engine" / "contexts" / "pre_trade.json"
    for args in (
        ("lint", policies),
        ("show", policies),
        ("eval", "--policies", policies, "--stage", "pre_trade", "--input", context),
    ):
        done = riskctl(*args)
        assert done.returncode != 0
        assert "expr.type-mismatch" in done.stdout + done.stderr
        assert AWS not in done.stdout + done.stderr
