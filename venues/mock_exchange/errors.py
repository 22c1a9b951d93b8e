"""Binance's error answers, as the mock sends them: an HTTP status and a ``{code, msg}`` body.

The codes and messages are Binance spot's own (its "Error codes" page), because ccxt maps
them to exception classes by code and by exact message; a paraphrase would change what the
client raises.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BinanceError",
    "bad_api_key",
    "bad_signature",
    "duplicate_order",
    "filter_failure",
    "insufficient_balance",
    "invalid_symbol",
    "mandatory",
    "missing_api_key",
    "order_does_not_exist",
    "recv_window",
    "unknown_order",
    "would_take",
]


class BinanceError(Exception):
    """A request the mock refuses, with the status and body Binance would send."""

    def __init__(self, *, status: int, code: int, msg: str) -> None:
        super().__init__(f"{status} {code} {msg}")
        self.status = status
        self.code = code
        self.msg = msg

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "msg": self.msg}


def mandatory(name: str) -> BinanceError:
    return BinanceError(
        status=400,
        code=-1102,
        msg=f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
    )


def invalid_symbol() -> BinanceError:
    return BinanceError(status=400, code=-1121, msg="Invalid symbol.")


def filter_failure(name: str) -> BinanceError:
    return BinanceError(status=400, code=-1013, msg=f"Filter failure: {name}")


def duplicate_order() -> BinanceError:
    return BinanceError(status=400, code=-2010, msg="Duplicate order sent.")


def insufficient_balance() -> BinanceError:
    return BinanceError(
        status=400, code=-2010, msg="Account has insufficient balance for requested action."
    )


def would_take() -> BinanceError:
    return BinanceError(status=400, code=-2010, msg="Order would immediately match and take.")


def unknown_order() -> BinanceError:
    """DELETE order of an unknown or closed order, and DELETE openOrders with none open."""
    return BinanceError(status=400, code=-2011, msg="Unknown order sent.")


def order_does_not_exist() -> BinanceError:
    return BinanceError(status=400, code=-2013, msg="Order does not exist.")


def bad_api_key() -> BinanceError:
    return BinanceError(
        status=401, code=-2015, msg="Invalid API-key, IP, or permissions for action."
    )


def missing_api_key() -> BinanceError:
    return BinanceError(status=401, code=-2014, msg="API-key format invalid.")


def bad_signature() -> BinanceError:
    # Binance answers -1022 with HTTP 400 (not 401); ccxt maps the code to
    # AuthenticationError before it looks at the status, so the client sees the same class.
    return BinanceError(status=400, code=-1022, msg="Signature for this request is not valid.")


def recv_window() -> BinanceError:
    return BinanceError(
        status=400, code=-1021, msg="Timestamp for this request is outside of the recvWindow."
    )
