"""The one place where ccxt's (and the network's) exceptions become riskctl's VenueError.

:func:`translate` turns any exception raised while talking to a venue into a
:class:`VenueError` with a :class:`VenueErrorKind` that says what the gateway does next::

    rate_limited     ccxt DDoSProtection, RateLimitExceeded (binance sends 429 and 418 as
                     DDoSProtection); retry after Retry-After, and trip the 429 breaker
    unavailable      ccxt NetworkError (ExchangeNotAvailable, OnMaintenance, RequestTimeout,
                     InvalidNonce), OperationFailed (BadResponse, CancelPending); asyncio and
                     builtin timeouts, OSError, aiohttp ClientError: retry within the budget
    auth             ccxt AuthenticationError (PermissionDenied, AccountSuspended): stop the venue
    order_not_found  ccxt OrderNotFound, checked before its base InvalidOrder: never retried
    rejected         every other ccxt ExchangeError (InvalidOrder, InsufficientFunds,
                     BadRequest, BadSymbol, DuplicateOrderId, NotSupported...): never retried
    unknown          anything else, ccxt's bare BaseError included: never retried

Classes are matched by walking the exception's MRO and comparing (module, class name) with
ccxt's names, nearest ancestor first, so importing this module does not import ccxt; a test
proves every name still exists in ccxt. ccxt wraps an aiohttp payload error (a connection
dropped mid-response) in a bare ExchangeError; its cause decides, so that is unavailable.
Messages are redacted: the caller's known secrets are blanked first, then
:func:`riskctl.secrets.redact` masks anything shaped like a credential.
"""

from __future__ import annotations

import dataclasses
import email.utils
import enum
import math
import re
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from riskctl.errors import RiskctlError
from riskctl.secrets import MASK, redact

__all__ = [
    "CCXT_KINDS",
    "RETRYABLE",
    "VenueError",
    "VenueErrorKind",
    "parse_retry_after",
    "translate",
]

_MAX_MESSAGE = 500  # an HTML error page from a proxy is not a message


class VenueErrorKind(enum.StrEnum):
    """What went wrong, as far as the gateway's next step is concerned."""

    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    AUTH = "auth"
    ORDER_NOT_FOUND = "order_not_found"
    REJECTED = "rejected"
    UNKNOWN = "unknown"


RETRYABLE = frozenset({VenueErrorKind.RATE_LIMITED, VenueErrorKind.UNAVAILABLE})

# ccxt class name -> kind; the nearest listed ancestor in an exception's MRO wins.
CCXT_KINDS: Mapping[str, VenueErrorKind] = {
    "DDoSProtection": VenueErrorKind.RATE_LIMITED,
    "RateLimitExceeded": VenueErrorKind.RATE_LIMITED,
    "NetworkError": VenueErrorKind.UNAVAILABLE,
    "OperationFailed": VenueErrorKind.UNAVAILABLE,
    "AuthenticationError": VenueErrorKind.AUTH,
    "OrderNotFound": VenueErrorKind.ORDER_NOT_FOUND,
    "ExchangeError": VenueErrorKind.REJECTED,
    "BaseError": VenueErrorKind.UNKNOWN,
}

# Set by Python itself on any exception (raise, contextlib, add_note): a frozen dataclass
# would refuse them, and then a VenueError could not pass through a @contextmanager.
_EXCEPTION_ATTRS = frozenset(
    {"__traceback__", "__context__", "__cause__", "__suppress_context__", "__notes__"}
)
_STATUS = re.compile(r"^\S+ (?:(?:GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS) \S+ )?([1-5]\d\d) ")


@dataclass(frozen=True)
class VenueError(RiskctlError):
    """A failed venue request: what kind, a stable code, a redacted message, what to do.

    ``code`` (``venue.<kind>``) and ``retryable`` follow from ``kind``. ``error_class`` names
    the exception it was translated from (``ccxt.InsufficientFunds``), for output lines.
    """

    kind: VenueErrorKind
    venue: str
    message: str
    retry_after_s: float | None = None
    http_status: int | None = None
    error_class: str | None = None
    code: str = field(init=False)
    retryable: bool = field(init=False)

    def __post_init__(self) -> None:
        kind = VenueErrorKind(self.kind)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "message", redact(self.message))
        object.__setattr__(self, "code", f"venue.{kind}")
        object.__setattr__(self, "retryable", kind in RETRYABLE)

    def __str__(self) -> str:
        return f"{self.code} ({self.venue}): {self.message}"

    def __reduce__(self) -> tuple[Any, ...]:
        init = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
        return (_rebuild, (type(self), init))

    def to_dict(self) -> dict[str, Any]:
        """The error as JSON-ready data, for output lines and the audit."""
        return {
            "code": self.code,
            "kind": str(self.kind),
            "message": self.message,
            "venue": self.venue,
            "retry_after_s": self.retry_after_s,
            "http_status": self.http_status,
            "error_class": self.error_class,
        }


def _setattr(self: VenueError, name: str, value: Any) -> None:
    if name not in _EXCEPTION_ATTRS:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
    object.__setattr__(self, name, value)


setattr(VenueError, "__setattr__", _setattr)  # noqa: B010  (replaces the frozen dataclass's)


def _rebuild(cls: type[VenueError], init: dict[str, Any]) -> VenueError:
    return cls(**init)


def translate(
    exc: BaseException,
    *,
    venue: str,
    headers: Mapping[str, str] | None = None,
    secrets: Collection[str] = (),
    now_epoch_s: float | None = None,
) -> VenueError:
    """The VenueError for ``exc`` raised by ``venue``; a VenueError is returned unchanged.

    ``headers`` are the response's (ccxt keeps them in ``exchange.last_response_headers``;
    its exceptions do not carry them); their Retry-After, in seconds or as an HTTP-date
    measured from ``now_epoch_s`` (default: now), becomes ``retry_after_s``. They are ignored
    when no response came (a timeout, a dropped connection): ccxt then leaves the previous
    response's headers in place. ``secrets`` are strings (the API key and secret) blanked
    from the message before anything else.
    """
    if isinstance(exc, VenueError):
        return exc
    kind, status = _classify(exc)
    answered = not any(_is_transport(e) for e in _causes(exc))
    return VenueError(
        kind=kind,
        venue=venue,
        message=_message(exc, secrets),
        retry_after_s=parse_retry_after(headers if answered else None, now_epoch_s=now_epoch_s),
        http_status=status,
        error_class=_class_name(exc),
    )


def parse_retry_after(
    headers: Mapping[str, str] | None, *, now_epoch_s: float | None = None
) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP-date), or None."""
    value = next((v for k, v in (headers or {}).items() if k.lower() == "retry-after" and v), None)
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # "-0000": UTC, origin unknown (RFC 5322)
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now_epoch_s is None else now_epoch_s)
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _classify(exc: BaseException) -> tuple[VenueErrorKind, int | None]:
    """(kind, HTTP status if known) from the class tree, nearest ccxt ancestor first."""
    for cls in type(exc).__mro__:
        module = cls.__module__
        if module.startswith("ccxt.") and cls.__name__ in CCXT_KINDS:
            kind = CCXT_KINDS[cls.__name__]
            if cls.__name__ == "ExchangeError" and exc.__cause__ is not None:
                cause, _ = _classify(exc.__cause__)  # a dropped connection ccxt calls generic
                kind = cause if cause is VenueErrorKind.UNAVAILABLE else kind
            return kind, _status_in(str(exc))
        if module.startswith("aiohttp.") and cls.__name__ == "ClientError":
            status = getattr(exc, "status", None)
            if isinstance(status, int) and 100 <= status <= 599:
                return _kind_of_status(status), status
            return VenueErrorKind.UNAVAILABLE, None
    if isinstance(exc, OSError):  # TimeoutError (asyncio's too), ConnectionError, socket errors
        return VenueErrorKind.UNAVAILABLE, None
    return VenueErrorKind.UNKNOWN, None


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from (ccxt raises ``from`` aiohttp's)."""
    chain = [exc]
    while (cause := chain[-1].__cause__) is not None and cause not in chain:
        chain.append(cause)
    return chain


def _is_transport(exc: BaseException) -> bool:
    """No response arrived: a socket, timeout or aiohttp failure that carries no status."""
    if isinstance(exc, OSError):
        return True
    aiohttp = any(c.__module__.startswith("aiohttp.") for c in type(exc).__mro__)
    return aiohttp and not isinstance(getattr(exc, "status", None), int)


def _kind_of_status(status: int) -> VenueErrorKind:
    if status in (418, 429):
        return VenueErrorKind.RATE_LIMITED
    if status in (401, 403):
        return VenueErrorKind.AUTH
    if status == 408 or status >= 500:
        return VenueErrorKind.UNAVAILABLE
    return VenueErrorKind.REJECTED


def _status_in(message: str) -> int | None:
    """The HTTP status ccxt writes into its messages: ``id [METHOD url] 429 reason body``."""
    match = _STATUS.match(message)
    return int(match.group(1)) if match else None


def _message(exc: BaseException, secrets: Collection[str]) -> str:
    try:
        text = str(exc) or type(exc).__name__
    except Exception:  # noqa: BLE001  (a broken __str__ must not hide the error it describes)
        text = type(exc).__name__
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = redact(text)  # before cutting, so a cut never leaves half a secret unrecognised
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _class_name(exc: BaseException) -> str:
    cls = type(exc)
    if cls.__module__.startswith("ccxt."):
        return f"ccxt.{cls.__name__}"
    if cls.__module__ == "builtins":
        return cls.__name__
    return f"{cls.__module__}.{cls.__qualname__}"
