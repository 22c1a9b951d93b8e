"""Reach: scopes and instruments that match nothing traded, traded pairs without instruments."""

from __future__ import annotations

from pathlib import Path

from riskctl.lint import lint_paths

LIMITS = """apiVersion: riskctl/v1
kind: RiskLimits
metadata: {{name: desk, version: 1, owner: desk-crypto}}
spec:
  environment: paper
  venues:
    - venue: kraken
      account: mm-kraken-1
      symbols: [BTC/USD]
  defaults:
    max_order_qty: 1
    max_order_notional: 100000
    price_collar_bps: 50
    max_daily_loss: 10000{extra}
"""

RULES = """apiVersion: riskctl/v1
kind: Rules
metadata: {{name: guards, version: 1, owner: desk-crypto}}
spec:
  rules:
    - id: venue-only
      stage: pre_trade
      when: order.qty > 0.5
      scope: {scope}
      message: m
"""

INSTRUMENTS = """apiVersion: riskctl/v1
kind: Instruments
metadata: {{name: venues, version: 1, owner: desk-crypto}}
spec:
  instruments:
    - {{venue: kraken, symbol: {symbol}, price_increment: 0.1}}
"""


def findings(directory: Path) -> list[tuple[str, int, int, str]]:
    report = lint_paths([directory])
    return [
        (Path(d.location.path).name, d.location.line, d.location.column, d.code)
        for d in report.diagnostics
    ]


def write(directory: Path, **files: str) -> Path:
    for name, text in files.items():
        (directory / f"{name}.yaml").write_text(text, encoding="utf-8")
    return directory


def test_a_rule_scoped_to_a_misspelt_venue_is_reported_at_its_scope(tmp_path: Path) -> None:
    write(tmp_path, limits=LIMITS.format(extra=""), rules=RULES.format(scope="{venue: krakn}"))
    assert findings(tmp_path) == [("rules.yaml", 9, 14, "scope.outside-universe")]


def test_a_rule_scoped_to_a_pair_nobody_trades_is_reported(tmp_path: Path) -> None:
    scope = "{venue: kraken, symbol: ETH/USD}"
    write(tmp_path, limits=LIMITS.format(extra=""), rules=RULES.format(scope=scope))
    assert findings(tmp_path) == [("rules.yaml", 9, 14, "scope.outside-universe")]


def test_a_rule_scoped_inside_the_universe_is_fine(tmp_path: Path) -> None:
    scope = "{venue: kraken, symbol: BTC/USD}"
    write(tmp_path, limits=LIMITS.format(extra=""), rules=RULES.format(scope=scope))
    assert findings(tmp_path) == []


def test_an_instrument_for_a_misspelt_symbol_is_reported(tmp_path: Path) -> None:
    write(
        tmp_path,
        limits=LIMITS.format(extra=""),
        instruments=INSTRUMENTS.format(symbol="BTC/USDT"),
    )
    assert findings(tmp_path) == [("instruments.yaml", 6, 31, "instruments.outside-universe")]


def test_a_traded_pair_with_conformance_and_no_instrument_is_reported(tmp_path: Path) -> None:
    write(tmp_path, limits=LIMITS.format(extra="\n    conformance: {}"))
    assert findings(tmp_path) == [("limits.yaml", 7, 14, "instruments.missing")]


def test_conformance_without_requiring_an_instrument_needs_none(tmp_path: Path) -> None:
    extra = "\n    conformance: {require_instrument: false}"
    write(tmp_path, limits=LIMITS.format(extra=extra))
    assert findings(tmp_path) == []


def test_the_example_policies_reach_everything_they_name() -> None:
    root = Path(__file__).resolve().parents[4] / "policies"
    codes = {d.code for d in lint_paths([root]).diagnostics}
    assert not codes & {
        "scope.outside-universe",
        "instruments.outside-universe",
        "instruments.missing",
    }
