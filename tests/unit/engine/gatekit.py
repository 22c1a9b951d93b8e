"""Shared builders for engine tests: write a small policy bundle, make contexts.

Imported by the test modules beside it (pytest puts this directory on sys.path).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from riskctl import Gate

VENUES = [
    ("binance", "mm-binance-1", ["BTC/USDT", "ETH/USDT"]),
    ("okx", "mm-okx-1", ["BTC/USDT", "ETH/USDT"]),
]


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return _mapping(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    return json.dumps(value)


def _mapping(values: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {_value(v)}" for k, v in values.items()) + "}"


def make_gate(
    directory: Path,
    defaults: dict[str, Any] | None = None,
    *,
    scoped: tuple[tuple[dict[str, str], dict[str, Any]], ...] = (),
    rules: list[dict[str, Any]] | None = None,
) -> Gate:
    """Write a RiskLimits document (and a Rules document) into ``directory``; load a Gate."""
    lines = [
        "apiVersion: riskctl/v1",
        "kind: RiskLimits",
        "metadata: {name: test-limits, version: 1, owner: tests}",
        "spec:",
        "  environment: paper",
        "  venues:",
        *(f"    - {{venue: {v}, account: {a}, symbols: [{', '.join(s)}]}}" for v, a, s in VENUES),
        f"  defaults: {_mapping(defaults or {})}",
        "  scoped:" if scoped else "  scoped: []",
        *(f"    - {_mapping({'scope': s, **lim})}" for s, lim in scoped),
    ]
    (directory / "limits.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if rules:
        doc = [
            "apiVersion: riskctl/v1",
            "kind: Rules",
            "metadata: {name: test-rules, version: 1, owner: tests}",
            "spec:",
            "  rules:",
            *(f"    - {json.dumps({'message': 'm', **rule})}" for rule in rules),
        ]
        (directory / "rules.yaml").write_text("\n".join(doc) + "\n", encoding="utf-8")
    return Gate.from_path(directory)


def pre_trade(**parts: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "now_ms": 1_700_000_000_000,
        "order": {
            "venue": "binance",
            "symbol": "BTC/USDT",
            "side": "buy",
            "qty": "1",
            "price": "100",
            "client_order_id": "c-1",
            "strategy": "mm",
        },
        "market": {"bid": "99.9", "ask": "100.1", "age_ms": 0},
        "position": {"qty": "0"},
        "account": {"equity": "1000000", "available_balance": "1000000", "balance_age_ms": 0},
        "state": {"trading_state": "ACTIVE", "kill_switch": False},
    }
    for part, values in parts.items():
        data[part].update(values)
    return data
