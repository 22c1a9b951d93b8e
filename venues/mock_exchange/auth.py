"""Binance's check of a SIGNED request: the API key header, the HMAC-SHA256 signature and
the timestamp window.

Binance signs ``totalParams``, the raw query string followed directly by the raw request
body, each without its ``signature`` parameter, exactly as the bytes were sent (so the
client's own URL encoding is what is signed). The signature is the hex HMAC-SHA256 of that
text keyed by the API secret. A request is on time when
``timestamp < server_time + 1000`` and ``server_time - timestamp <= recvWindow`` (default
5000 ms).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from riskctl.venues.mock_exchange import errors

__all__ = ["sign", "verify"]


def sign(total_params: str, secret: str) -> str:
    return hmac.new(secret.encode(), total_params.encode(), hashlib.sha256).hexdigest()


def _without_signature(raw: str) -> tuple[str, str | None]:
    """The raw text with its ``signature=`` pair removed, and that signature."""
    kept, signature = [], None
    for pair in raw.split("&") if raw else []:
        if pair.startswith("signature="):
            signature = pair.removeprefix("signature=")
        else:
            kept.append(pair)
    return "&".join(kept), signature


def verify(
    *,
    api_key_header: str | None,
    raw_query: str,
    raw_body: str,
    params: Mapping[str, str],
    api_key: str,
    api_secret: str,
    server_ms: int,
) -> None:
    """Raise the BinanceError Binance answers for a bad signed request; return if it is good."""
    if not api_key_header:
        raise errors.missing_api_key()
    if not hmac.compare_digest(api_key_header.encode(), api_key.encode()):
        raise errors.bad_api_key()
    query, from_query = _without_signature(raw_query)
    body, from_body = _without_signature(raw_body)
    signature = from_query or from_body
    if not signature:
        raise errors.mandatory("signature")
    expected = sign(query + body, api_secret)
    if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
        raise errors.bad_signature()
    try:
        timestamp = int(params["timestamp"])
        recv_window = int(params.get("recvWindow", "5000"))
    except (KeyError, ValueError):
        raise errors.mandatory("timestamp") from None
    if not (timestamp < server_ms + 1000 and server_ms - timestamp <= recv_window):
        raise errors.recv_window()
