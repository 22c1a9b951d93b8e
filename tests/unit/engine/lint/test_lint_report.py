"""lint_paths as a whole: its contract, and checks that span documents."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from riskctl.errors import Diagnostic, Severity
from riskctl.lint import LintReport, lint_paths

REPO = Path(__file__).resolve().parents[4]

LIMITS = """\
apiVersion: riskctl/v1
kind: RiskLimits
metadata: {{name: {name}, version: 1, owner: desk-crypto}}
spec:
  environment: paper
  venues:
    - venue: binance
      account: mm-1
      symbols: [BTC/USDT, ETH/USDT]
{rest}"""

BREAKERS = """\
apiVersion: riskctl/v1
kind: CircuitBreakers
metadata: {{name: {name}, version: 1, owner: desk-crypto}}
spec:
  breakers:
    - name: halt-on-loss
      when: pnl.daily < -{loss}
      action: halt
      cooldown_ms: 60000
      message: Loss.
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def codes(report: LintReport) -> list[str]:
    return [d.code for d in report.diagnostics]


def test_the_report_keeps_diagnostics_and_files_and_adds_waived() -> None:
    assert [f.name for f in dataclasses.fields(LintReport)] == ["diagnostics", "files", "waived"]


def test_bad_input_never_raises_and_diagnostics_come_sorted(tmp_path: Path) -> None:
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00garbage")
    (tmp_path / "list.yaml").write_text("- just\n- a list\n")
    write(tmp_path, "limits", LIMITS.format(name="l", rest="  defaults: {max_open_orders: 0}\n"))

    report = lint_paths([tmp_path, tmp_path / "missing.yaml"])

    assert report.files == 3
    assert list(report.diagnostics) == sorted(report.diagnostics, key=Diagnostic.sort_key)
    assert set(codes(report)) == {
        "file.not-utf8",
        "policy.not-a-mapping",
        "policy.out-of-bounds",
        "file.not-found",
    }


def test_semantic_checks_run_only_on_documents_that_loaded(tmp_path: Path) -> None:
    text = LIMITS.format(name="l", rest="  defaults:\n    max_order_qty: -1\n")

    report = lint_paths([write(tmp_path, "limits", text)])

    assert codes(report) == ["policy.out-of-bounds"]  # no limits.coverage for a broken file


def test_a_limit_from_any_risk_limits_document_counts_for_coverage(tmp_path: Path) -> None:
    first = (
        "  defaults:\n    max_order_qty: 1\n    max_order_notional: 1000\n"
        "    price_collar_bps: 50\n"
    )
    second = "  defaults:\n    max_daily_loss: 500\n"
    write(tmp_path, "first", LIMITS.format(name="first", rest=first))

    alone = lint_paths([tmp_path])
    write(tmp_path, "second", LIMITS.format(name="second", rest=second))
    together = lint_paths([tmp_path])

    assert codes(alone) == ["limits.coverage", "limits.coverage"]
    assert "a loss limit" in alone.diagnostics[0].message
    assert "binance BTC/USDT" in alone.diagnostics[0].message
    assert codes(together) == []


def test_breaker_names_must_be_unique_across_files(tmp_path: Path) -> None:
    write(tmp_path, "a", BREAKERS.format(name="a", loss=1000))
    write(tmp_path, "b", BREAKERS.format(name="b", loss=2000))

    report = lint_paths([tmp_path])

    assert [(Path(d.location.path).name, d.code) for d in report.diagnostics] == [
        ("b.yaml", "breaker.duplicate-name")
    ]
    assert "a.yaml:6:13" in report.diagnostics[0].message


def test_a_venue_symbol_override_tighter_than_its_symbol_scope_is_not_looser(
    tmp_path: Path,
) -> None:
    rest = (
        "  defaults: {max_order_notional: 1000, price_collar_bps: 50, max_drawdown: 500}\n"
        "  scoped:\n"
        "    - {scope: {symbol: BTC/USDT}, max_order_qty: 5}\n"
        "    - {scope: {venue: binance}, max_order_qty: 2}\n"
        "    - {scope: {venue: binance, symbol: BTC/USDT}, max_order_qty: 3}\n"
        "    - {scope: {symbol: ETH/USDT}, max_order_qty: 1}\n"
    )

    report = lint_paths([write(tmp_path, "limits", LIMITS.format(name="l", rest=rest))])

    # binance:BTC/USDT (3) tightens what would apply without it (5, from the symbol scope);
    # the symbol scope itself loosens binance's 2, which is what gets reported.
    assert [(d.location.line, d.code, d.severity) for d in report.diagnostics] == [
        (12, "limits.looser-than-parent", Severity.WARNING)
    ]


def test_a_position_limit_below_the_order_limit_is_reported_once_per_place(
    tmp_path: Path,
) -> None:
    rest = (
        "  defaults:\n    max_order_qty: 5\n    max_position_qty: 2\n"
        "    max_order_notional: 1000\n    price_collar_bps: 50\n    max_daily_loss: 500\n"
    )

    report = lint_paths([write(tmp_path, "limits", LIMITS.format(name="l", rest=rest))])

    assert [(d.location.line, d.code) for d in report.diagnostics] == [
        (12, "limits.position-below-order")
    ]
    assert "(and 1 more)" in report.diagnostics[0].message


def test_a_rule_is_shadowed_by_an_identical_rule_in_another_file(tmp_path: Path) -> None:
    rule = (
        "apiVersion: riskctl/v1\nkind: Rules\nmetadata: {{name: {name}, version: 1, owner: d}}\n"
        "spec:\n  rules:\n    - id: {name}-stale\n      stage: ingest\n"
        "      when: event.age_ms > 3000\n      message: Old.\n"
    )
    write(tmp_path, "a", rule.format(name="a"))
    write(tmp_path, "b", rule.format(name="b"))

    report = lint_paths([tmp_path])

    assert [(Path(d.location.path).name, d.code) for d in report.diagnostics] == [
        ("b.yaml", "rule.shadowed")
    ]


def test_the_example_policies_have_no_errors() -> None:
    report = lint_paths([REPO / "policies"])

    assert [d.format() for d in report.diagnostics if d.severity is Severity.ERROR] == []
