"""The scope index resolves exactly as a scan of every scoped entry would (issue 14, item 20)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from riskctl.kinds import RiskLimits
from riskctl.kinds.risk_limits import LIMIT_FIELDS
from riskctl.limits import resolve_limits
from riskctl.scope_index import scope_index

VENUES = ["binance", "okx"]
SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]


def _scan(document: RiskLimits, venue: str, symbol: str) -> dict[str, tuple[Any, str]]:
    """The resolution rule written plainly: widest first, file order within a level."""
    matching = [
        (s.scope.specificity(), s.scope.label(), s)
        for s in document.spec.scoped
        if s.scope.matches(venue, symbol)
    ]
    layers = [(-1, "*:*", document.spec.defaults), *sorted(matching, key=lambda x: x[0])]
    values: dict[str, tuple[Any, str]] = {}
    for _, label, limits in layers:
        for name in LIMIT_FIELDS:
            if getattr(limits, name) is not None:
                values[name] = (getattr(limits, name), label)
    return values


scopes = st.fixed_dictionaries(
    {},
    optional={"venue": st.sampled_from([*VENUES, "kraken"]), "symbol": st.sampled_from(SYMBOLS)},
)
entries = st.lists(
    st.builds(
        lambda scope, qty, pos: {"scope": scope, "max_order_qty": qty, "max_position_qty": pos},
        scopes,
        st.one_of(st.none(), st.integers(1, 50)),
        st.one_of(st.none(), st.integers(1, 50)),
    ),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(scoped=entries, default_qty=st.one_of(st.none(), st.integers(1, 50)))
def test_indexed_resolution_equals_a_scan_of_every_entry(
    scoped: list[dict[str, Any]], default_qty: int | None
) -> None:
    document = RiskLimits.model_validate(
        {
            "apiVersion": "riskctl/v1",
            "kind": "RiskLimits",
            "metadata": {"name": "p", "version": 1, "owner": "t"},
            "spec": {
                "environment": "paper",
                "venues": [{"venue": v, "account": f"a-{v}", "symbols": SYMBOLS} for v in VENUES],
                "defaults": {} if default_qty is None else {"max_order_qty": default_qty},
                "scoped": [{k: v for k, v in e.items() if v is not None} for e in scoped],
            },
        }
    )
    index = scope_index(document)
    for venue in [*VENUES, "kraken"]:
        for symbol in SYMBOLS:
            assert resolve_limits(document, venue, symbol) == _scan(document, venue, symbol)
    for entry in document.spec.scoped:
        scope = entry.scope
        expected = [p for p in index.pairs if scope.matches(*p)]
        assert index.covered(scope.venue, scope.symbol) == expected
