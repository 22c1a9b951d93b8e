"""Point a real, unmodified ccxt binance client at the mock.

ccxt 4.5.90's ``binance.sign()`` builds every URL as ``urls['api'][<api section>] + '/' +
path``; the sections are ``public``, ``private`` (both ``/api/v3``: every spot endpoint the
mock serves) and ``v1``, ``sapi``, ``sapiV2..V4``, ``fapi*``, ``dapi*``, ``eapi*``, ``papi*``
for the rest. Every one of them is rebased onto the mock, keeping its path, so no call can
leave 127.0.0.1: a section the mock does not serve answers 404, which ccxt raises as
ExchangeNotAvailable. ``urls['test']`` and ``urls['demo']`` are rebased too, because
``set_sandbox_mode`` and demo trading swap them in for ``urls['api']``.

Options set, each to keep ``load_markets()`` on spot endpoints the mock serves:

* ``fetchMarkets = {'types': ['spot']}``: the default ``['spot', 'linear', 'inverse']``
  also fetches ``/fapi/v1/exchangeInfo`` and ``/dapi/v1/exchangeInfo``.
* ``fetchCurrencies = False``: with credentials set, load_markets first calls the signed
  ``/sapi/v1/capital/config/getall``; off, ccxt derives currencies from the markets.
* ``fetchMargins = False``: with credentials set, fetch_markets also calls
  ``/sapi/v1/margin/allPairs`` and ``/sapi/v1/margin/isolated/allPairs``.

Not touched: ``adjustForTimeDifference`` (False by default; if on, it calls
``/api/v3/time``, which the mock serves) and ccxt's exception tables. Note that binance's
``get_exceptions_by_url`` applies its *spot-only* code table only to URLs starting with
``https://api.binance.com/``; against the mock only the shared table applies. None of the
codes the mock sends is in the spot-only table, so this changes no exception class.
"""

from __future__ import annotations

from typing import Any

from riskctl.venues.base_url import point_urls_at

__all__ = ["SPOT_ONLY_OPTIONS", "point_ccxt_at"]

SPOT_ONLY_OPTIONS: dict[str, Any] = {
    "fetchMarkets": {"types": ["spot"]},
    "fetchCurrencies": False,
    "fetchMargins": False,
}


def point_ccxt_at(exchange: Any, base_url: str) -> None:
    """Rebase every API URL of a ccxt binance instance onto ``base_url`` and keep market
    loading to spot (see the module docstring for each option and why)."""
    api = exchange.urls.get("api")
    if not isinstance(api, dict) or not {"public", "private", "sapi"} <= api.keys():
        raise ValueError(f"{exchange.id} has no binance-style urls['api'] sections")
    base = base_url.rstrip("/")
    for section in ("api", "test", "demo", "apiBackup"):
        if isinstance(exchange.urls.get(section), dict):
            exchange.urls[section] = point_urls_at(exchange.urls[section], base)
    for key, value in SPOT_ONLY_OPTIONS.items():
        exchange.options[key] = value
