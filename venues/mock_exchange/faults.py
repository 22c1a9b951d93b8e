"""Fault injection: typed faults a test arms on the mock, and the plan that fires them.

Each fault is a frozen record. Most are *scoped*: ``endpoint`` (None: any endpoint),
``times`` (how many matching requests it hits; None: every one) and ``for_s`` (a span on
the mock's clock after which it disarms; None: no span). One fault use is consumed per
matching request. :class:`RateLimit` is different: a standing rule over the request log.

Where each fault acts in serving a request, in this order:

========================  ====================================================  ==============
fault                     what the client gets                                   request served?
========================  ====================================================  ==============
RateLimit                 429 -1003 + Retry-After over the limit; 418 when banned  no
TooManyRequests           429 (or 418) -1003 + Retry-After                       no
DropConnection            the connection closes with no answer                   no
ServerError               a 5xx, plain text or a Binance ``{code, msg}``         no
Slow                      the answer ``delay_s`` late (a client timeout first)   yes
PartialCancel             bulk cancel cancels only some orders, answers 200      partly
LoseResponse              the request IS served, then a drop or a 5xx            yes
========================  ====================================================  ==============
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from riskctl.venues.mock_exchange.requestlog import CANCEL_ALL, CREATE_ORDER, Endpoint

__all__ = [
    "DropConnection",
    "Fault",
    "FaultPlan",
    "LoseResponse",
    "PartialCancel",
    "RateLimit",
    "Reply",
    "ServerError",
    "Slow",
    "TooManyRequests",
]

_SERVER_MESSAGES = {
    -1000: "An unknown error occurred while processing the request.",
    -1001: "Internal error; unable to process your request. Please try again.",
    -1007: "Timeout waiting for response from backend server. "
    "Send status unknown; execution status unknown.",
    -1008: "Server is currently overloaded with other requests. Please try again in a few minutes.",
}
_TOO_MANY = (
    "Too many requests; current limit of IP(127.0.0.1) request weight per minute is 6000. "
    "Please use WebSocket Streams for live updates to avoid polling the API."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """An answer the mock sends: a JSON body (or text), a status and headers."""

    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)
    fault: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Scoped:
    endpoint: Endpoint | None = None
    times: int | None = 1
    for_s: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TooManyRequests(_Scoped):
    """Binance's rate-limit answer: 429 (or 418, an IP ban), code -1003, a Retry-After."""

    status: Literal[429, 418] = 429
    retry_after_s: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerError(_Scoped):
    """A 5xx before the request is served. ``binance_code`` None sends a plain-text body
    (what Binance's edge sends); a code such as -1001 or -1007 sends that JSON error."""

    status: int = 500
    binance_code: int | None = None

    def reply(self) -> Reply:
        if self.binance_code is None:
            return Reply(
                status=self.status, body=f"{self.status} Server Error", fault="ServerError"
            )
        msg = _SERVER_MESSAGES.get(self.binance_code, "Internal error.")
        return Reply(
            status=self.status, body={"code": self.binance_code, "msg": msg}, fault="ServerError"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Slow(_Scoped):
    """Serve the request ``delay_s`` seconds late; the work is done after the delay even
    if the client has given up."""

    delay_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class DropConnection(_Scoped):
    """Close the connection without answering; the request is not served."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LoseResponse(_Scoped):
    """Serve the request (an order IS created), then drop the connection (``status`` None)
    or answer that status instead of the real answer."""

    endpoint: Endpoint | None = CREATE_ORDER
    status: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PartialCancel(_Scoped):
    """DELETE openOrders cancels all but the newest ``leave_open`` orders and answers 200,
    listing what it cancelled; with ``claim_all`` it lists the ones left open too, as
    CANCELED, which they are not."""

    endpoint: Endpoint | None = CANCEL_ALL
    leave_open: int = 1
    claim_all: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimit:
    """Answer 429 -1003 (Retry-After ``retry_after_s``) to any request arriving when more
    than ``limit`` requests (or, ``weighted``, more than ``limit`` Binance weight) arrived in
    the last ``window_s`` seconds, this one included. Every request received counts,
    refused ones too (the cautious reading of Binance's IP limits). After ``ban_after``
    refusals the mock answers 418 to everything for ``ban_s`` seconds."""

    limit: int
    window_s: float = 1.0
    weighted: bool = False
    retry_after_s: int = 1
    ban_after: int | None = None
    ban_s: float = 60.0


Fault = TooManyRequests | ServerError | Slow | DropConnection | LoseResponse | PartialCancel
F = TypeVar("F", TooManyRequests, ServerError, Slow, DropConnection, LoseResponse, PartialCancel)


@dataclass(slots=True)
class _Armed:
    fault: Fault
    left: int | None
    until: float | None


class FaultPlan:
    """The faults armed on one mock; not thread-safe (the mock holds its lock)."""

    def __init__(self) -> None:
        self._armed: list[_Armed] = []
        self._limits: list[RateLimit] = []
        self._refusals = 0
        self._banned_until: float | None = None

    def inject(self, fault: Fault | RateLimit, *, now: float) -> None:
        if isinstance(fault, RateLimit):
            self._limits.append(fault)
            return
        until = now + fault.for_s if fault.for_s is not None else None
        self._armed.append(_Armed(fault=fault, left=fault.times, until=until))

    def clear(self) -> None:
        self._armed.clear()
        self._limits.clear()
        self._refusals = 0
        self._banned_until = None

    def pending(self) -> list[Fault | RateLimit]:
        return [armed.fault for armed in self._armed] + list(self._limits)

    def take(self, kind: type[F], endpoint: Endpoint, *, now: float) -> F | None:
        """The first armed fault of this kind for this endpoint, one use consumed."""
        self._armed = [a for a in self._armed if a.until is None or now < a.until]
        for armed in self._armed:
            fault = armed.fault
            if isinstance(fault, kind) and fault.endpoint in (None, endpoint):
                if armed.left is not None:
                    armed.left -= 1
                    if armed.left <= 0:
                        self._armed.remove(armed)
                return fault
        return None

    def too_many(self, endpoint: Endpoint, *, now: float, server_ms: int) -> Reply | None:
        fault = self.take(TooManyRequests, endpoint, now=now)
        if fault is None:
            return None
        return _rate_reply(
            fault.status,
            retry_after_s=fault.retry_after_s,
            banned_until_ms=server_ms + 1000 * fault.retry_after_s,
            name="TooManyRequests",
        )

    def rate_limited(
        self, *, used: Mapping[float, tuple[int, int]], now: float, server_ms: int
    ) -> Reply | None:
        """Apply the standing limits. ``used`` maps each limit's window to (requests,
        weight) received within it, this request included."""
        if self._banned_until is not None and now < self._banned_until:
            left = self._banned_until - now
            return _rate_reply(
                418,
                retry_after_s=math.ceil(left),
                banned_until_ms=server_ms + int(left * 1000),
                name="RateLimit",
            )
        for limit in self._limits:
            count, weight = used[limit.window_s]
            if (weight if limit.weighted else count) <= limit.limit:
                continue
            self._refusals += 1
            if limit.ban_after is not None and self._refusals >= limit.ban_after:
                self._banned_until = now + limit.ban_s
                return _rate_reply(
                    418,
                    retry_after_s=math.ceil(limit.ban_s),
                    banned_until_ms=server_ms + int(limit.ban_s * 1000),
                    name="RateLimit",
                )
            return _rate_reply(
                429, retry_after_s=limit.retry_after_s, banned_until_ms=server_ms, name="RateLimit"
            )
        return None

    def windows(self) -> set[float]:
        return {limit.window_s for limit in self._limits}


def _rate_reply(status: int, *, retry_after_s: int, banned_until_ms: int, name: str) -> Reply:
    msg = (
        _TOO_MANY
        if status == 429
        else (
            f"Way too many requests; IP(127.0.0.1) banned until {banned_until_ms}. "
            "Please use WebSocket Streams for live updates to avoid bans."
        )
    )
    return Reply(
        status=status,
        body={"code": -1003, "msg": msg},
        headers={"Retry-After": str(retry_after_s)},
        fault=name,
    )
