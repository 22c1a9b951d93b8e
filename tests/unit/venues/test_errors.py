"""riskctl.venues.errors: ccxt's exception tree, the network's errors, and redaction.

The ccxt exceptions here are raised by ccxt itself wherever that can be arranged: the real
binance class's ``handle_errors``, the base class's HTTP status table, and the real async
client's ``fetch`` against a small HTTP server on 127.0.0.1 that answers 429s, drops
connections and cuts bodies short.
"""

from __future__ import annotations

import asyncio
import json
import pickle
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import FrozenInstanceError
from typing import Any

import aiohttp
import ccxt
import ccxt.async_support as ccxt_async
import pytest
import yarl
from ccxt.base import errors as ccxt_errors
from multidict import CIMultiDict, CIMultiDictProxy

from riskctl.errors import RiskctlError
from riskctl.venues.errors import (
    CCXT_KINDS,
    VenueError,
    VenueErrorKind,
    parse_retry_after,
    translate,
)

K = VenueErrorKind
API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"  # a fake key
API_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"  # noqa: S105  # fake
SIGNATURE = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
BINANCE_ORDER_URL = "https://api.binance.com/api/v3/order"


def raised_by_binance(status: int, body: str, headers: dict[str, str] | None = None) -> Exception:
    """What the real binance class raises for an HTTP answer (its own table, then the base's)."""
    exchange = ccxt.binance({"apiKey": API_KEY, "secret": API_SECRET})
    url = f"{BINANCE_ORDER_URL}?symbol=BTCUSDT&signature={SIGNATURE}"
    parsed = json.loads(body) if body.startswith("{") else None
    try:
        exchange.handle_errors(status, "Reason", url, "POST", headers or {}, body, parsed, {}, "")
        exchange.handle_http_status_code(status, "Reason", url, "POST", body)
    except Exception as exc:  # noqa: BLE001  (whatever ccxt raised is the subject)
        return exc
    raise AssertionError(f"ccxt raised nothing for HTTP {status}")


# -- ccxt's tree ------------------------------------------------------------------------


def test_importing_errors_does_not_import_ccxt() -> None:
    code = "import sys, riskctl.venues.errors; sys.exit('ccxt' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_every_name_matched_still_exists_in_ccxt() -> None:
    for name in CCXT_KINDS:
        cls = getattr(ccxt_errors, name)
        assert issubclass(cls, ccxt.BaseError)
        assert cls.__module__ == "ccxt.base.errors"
        assert getattr(ccxt_async, name) is cls  # the async client raises the same classes


def _hierarchy() -> Iterator[tuple[str, list[str]]]:
    """(class name, its ancestors' names, nearest first) for every class in ccxt's tree."""

    def walk(tree: dict[str, Any], ancestors: list[str]) -> Iterator[tuple[str, list[str]]]:
        for name, children in tree.items():
            yield name, ancestors
            yield from walk(children, [name, *ancestors])

    yield from walk(ccxt_errors.error_hierarchy, [])


def test_the_hierarchy_lists_every_ccxt_error_class() -> None:
    listed = {name for name, _ in _hierarchy()}
    exported = {
        name
        for name in ccxt_errors.__all__
        if isinstance(getattr(ccxt_errors, name), type)
        and issubclass(getattr(ccxt_errors, name), ccxt.BaseError)
    }
    assert listed == exported
    assert len(listed) > 40


@pytest.mark.parametrize(("name", "ancestors"), list(_hierarchy()), ids=str)
def test_every_ccxt_class_maps_to_the_kind_its_nearest_base_implies(
    name: str, ancestors: list[str]
) -> None:
    cls = getattr(ccxt, name)
    assert [c.__name__ for c in cls.__mro__[1 : len(ancestors) + 1]] == ancestors
    nearest = next(n for n in [name, *ancestors] if n in CCXT_KINDS)
    assert translate(cls("binance says no"), venue="binance").kind is CCXT_KINDS[nearest]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("RateLimitExceeded", K.RATE_LIMITED),
        ("DDoSProtection", K.RATE_LIMITED),
        ("ExchangeNotAvailable", K.UNAVAILABLE),
        ("OnMaintenance", K.UNAVAILABLE),
        ("NetworkError", K.UNAVAILABLE),
        ("RequestTimeout", K.UNAVAILABLE),
        ("InvalidNonce", K.UNAVAILABLE),
        ("BadResponse", K.UNAVAILABLE),
        ("AuthenticationError", K.AUTH),
        ("PermissionDenied", K.AUTH),
        ("AccountSuspended", K.AUTH),
        ("AccountNotEnabled", K.AUTH),
        ("OrderNotFound", K.ORDER_NOT_FOUND),  # an InvalidOrder, found first
        ("InvalidOrder", K.REJECTED),
        ("InsufficientFunds", K.REJECTED),
        ("BadRequest", K.REJECTED),
        ("BadSymbol", K.REJECTED),
        ("DuplicateOrderId", K.REJECTED),
        ("NotSupported", K.REJECTED),
        ("ExchangeError", K.REJECTED),
        ("BaseError", K.UNKNOWN),
    ],
)
def test_ccxt_class_when_translated_then_its_kind(name: str, kind: VenueErrorKind) -> None:
    error = translate(getattr(ccxt, name)("binance says no"), venue="binance")
    assert error.kind is kind
    assert error.code == f"venue.{kind}"
    assert error.retryable is (kind in (K.RATE_LIMITED, K.UNAVAILABLE))
    assert error.error_class == f"ccxt.{name}"


def test_order_not_found_is_an_invalid_order_in_ccxt_and_not_rejected_here() -> None:
    assert issubclass(ccxt.OrderNotFound, ccxt.InvalidOrder)
    exc = raised_by_binance(400, '{"code":-2013,"msg":"Order does not exist."}')
    assert type(exc) is ccxt.OrderNotFound
    assert translate(exc, venue="binance").kind is K.ORDER_NOT_FOUND


@pytest.mark.parametrize("status", [429, 418])
def test_binance_rate_limit_when_answered_then_ddos_protection_and_rate_limited(
    status: int,
) -> None:
    """binance reports 429 and 418 (IP banned) as DDoSProtection, not RateLimitExceeded."""
    headers = {"Retry-After": "7"}
    exc = raised_by_binance(status, '{"code":-1003,"msg":"Too many requests."}', headers)
    assert type(exc) is ccxt.DDoSProtection
    assert not isinstance(exc, ccxt.RateLimitExceeded)
    error = translate(exc, venue="binance", headers=headers)
    assert (error.kind, error.http_status, error.retry_after_s) == (K.RATE_LIMITED, status, 7)
    assert error.retryable


@pytest.mark.parametrize(
    ("status", "body", "kind", "cls"),
    [
        (
            400,
            '{"code":-2010,"msg":"Account has insufficient balance for requested action."}',
            K.REJECTED,
            "InsufficientFunds",
        ),
        (
            401,
            '{"code":-2015,"msg":"Invalid API-key, IP, or permissions."}',
            K.AUTH,
            "AuthenticationError",
        ),
        (400, '{"code":-1013,"msg":"Filter failure: LOT_SIZE"}', K.REJECTED, "InvalidOrder"),
        (
            400,
            '{"code":-1021,"msg":"Timestamp outside of the recvWindow."}',
            K.UNAVAILABLE,
            "InvalidNonce",
        ),
        (503, "Service Unavailable", K.UNAVAILABLE, "ExchangeNotAvailable"),
        (504, "Gateway Timeout", K.UNAVAILABLE, "RequestTimeout"),
    ],
)
def test_binance_answers_when_translated_then_their_kinds(
    status: int, body: str, kind: VenueErrorKind, cls: str
) -> None:
    exc = raised_by_binance(status, body)
    assert type(exc).__name__ == cls
    assert translate(exc, venue="binance").kind is kind


def test_http_status_when_in_ccxt_message_then_read() -> None:
    base_format = raised_by_binance(503, "Service Unavailable")  # id METHOD url status ...
    assert translate(base_format, venue="binance").http_status == 503
    no_status = raised_by_binance(
        400, '{"code":-2010,"msg":"Account has insufficient balance for requested action."}'
    )
    assert translate(no_status, venue="binance").http_status is None


# -- the network ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "exc",
    [
        TimeoutError("read timed out"),  # asyncio.TimeoutError is this class since 3.11
        ConnectionResetError(104, "Connection reset by peer"),
        OSError("network is unreachable"),
        aiohttp.ClientConnectionError("refused"),
        aiohttp.ServerDisconnectedError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_network_failure_when_translated_then_unavailable(exc: BaseException) -> None:
    error = translate(exc, venue="binance", headers={"Retry-After": "30"})
    assert error.kind is K.UNAVAILABLE
    assert error.retry_after_s is None  # no response came: those headers are someone else's


def test_aiohttp_response_error_when_translated_then_by_its_status() -> None:
    url = yarl.URL("http://127.0.0.1:1/api/v3/order")
    info = aiohttp.RequestInfo(url, "POST", CIMultiDictProxy(CIMultiDict()), url)

    def answered(status: int) -> aiohttp.ClientResponseError:
        return aiohttp.ClientResponseError(info, (), status=status, message="Reason")

    assert translate(answered(429), venue="x").kind is K.RATE_LIMITED
    assert translate(answered(503), venue="x").kind is K.UNAVAILABLE
    assert translate(answered(403), venue="x").kind is K.AUTH
    assert translate(answered(400), venue="x").kind is K.REJECTED
    assert translate(answered(503), venue="x").http_status == 503


def test_anything_else_when_translated_then_unknown_and_not_retryable() -> None:
    error = translate(ValueError("bad"), venue="binance")
    assert (error.kind, error.retryable, error.error_class) == (K.UNKNOWN, False, "ValueError")


def test_exception_whose_str_fails_when_translated_then_named_by_its_class() -> None:
    class BrokenStrError(Exception):
        def __str__(self) -> str:
            raise AttributeError("no request info")

    error = translate(BrokenStrError(), venue="binance")
    assert (error.kind, error.message) == (K.UNKNOWN, "BrokenStrError")


_ANSWERS = {
    b"/429": b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Length: 2\r\n\r\n{}",
    b"/cut": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    b"/drop": b"",
}


async def _fetch_each(paths: list[str]) -> list[VenueError]:
    """Each path fetched by the real async binance client from a server on 127.0.0.1."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readline()
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        writer.write(_ANSWERS[request.split()[1]])
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    exchange = ccxt_async.binance()
    errors = []
    try:
        for path in paths:
            try:
                await exchange.fetch(f"http://127.0.0.1:{port}{path}", "GET")
            except Exception as exc:  # noqa: BLE001  (whatever ccxt raised is the subject)
                headers = exchange.last_response_headers
                errors.append(translate(exc, venue="binance", headers=headers))
            else:
                raise AssertionError(f"{path} did not fail")
    finally:
        await exchange.close()
        server.close()
        await server.wait_closed()
    return errors


def test_real_client_when_rate_limited_cut_short_or_dropped_then_kinds_and_fresh_headers() -> None:
    limited, cut, dropped = asyncio.run(_fetch_each(["/429", "/cut", "/drop"]))
    assert (limited.kind, limited.error_class, limited.retry_after_s) == (
        K.RATE_LIMITED,
        "ccxt.DDoSProtection",
        3,
    )
    # ccxt wraps aiohttp's payload error in a bare ExchangeError; the cause makes it a retry.
    assert (cut.kind, cut.error_class) == (K.UNAVAILABLE, "ccxt.ExchangeError")
    assert (dropped.kind, dropped.error_class) == (K.UNAVAILABLE, "ccxt.ExchangeNotAvailable")
    # ccxt still holds the 429's headers; a request that got no answer must not inherit them.
    assert cut.retry_after_s is None
    assert dropped.retry_after_s is None


# -- Retry-After ------------------------------------------------------------------------

NOW = 1_445_412_480.0  # Wed, 21 Oct 2015 07:28:00 GMT


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        ("0.5", 0.5),
        (" 120 ", 120.0),
        ("-3", 0.0),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:28:30 -0000", 30.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # in the past: go now
        ("soon", None),
        ("inf", None),
        ("nan", None),
        ("", None),
    ],
)
def test_retry_after_when_seconds_or_http_date_then_seconds(
    value: str, seconds: float | None
) -> None:
    assert parse_retry_after({"retry-after": value}, now_epoch_s=NOW) == seconds


def test_retry_after_when_absent_then_none() -> None:
    assert parse_retry_after(None) is None
    assert parse_retry_after({"Content-Type": "application/json"}) is None
    assert parse_retry_after({"RETRY-AFTER": "2"}) == 2


# -- redaction --------------------------------------------------------------------------


def test_message_when_it_holds_known_secrets_then_they_are_blanked() -> None:
    exc = ccxt.AuthenticationError(f"binance key {API_KEY[:20]} bad; secret={API_SECRET}")
    error = translate(exc, venue="binance", secrets=[API_KEY[:20], API_SECRET, ""])
    assert API_KEY[:20] not in error.message
    assert API_SECRET not in error.message
    assert error.message.startswith("binance key *** bad")


def test_message_when_it_holds_a_signed_url_then_the_signature_is_masked() -> None:
    exc = raised_by_binance(503, "Service Unavailable")
    error = translate(exc, venue="binance")
    assert SIGNATURE[:16] not in error.message
    assert f"{BINANCE_ORDER_URL}?symbol=BTCUSDT&signature=***" in error.message


def test_message_when_long_then_cut_after_redaction() -> None:
    secret = "Zq8" * 12  # placed across the cut at 500 characters
    exc = ccxt.ExchangeNotAvailable("x" * 480 + secret + "<html>" * 200)
    error = translate(exc, venue="binance", secrets=[secret])
    assert len(error.message) == 500
    assert error.message.endswith("…")
    assert "Zq8Zq8" not in error.message


def test_message_when_an_unknown_secret_straddles_the_cut_then_no_part_of_it_is_left() -> None:
    exc = ccxt.ExchangeNotAvailable("x" * 470 + f" signature={SIGNATURE} " + "y" * 100)
    error = translate(exc, venue="binance")  # 40 characters of it would fit before the cut
    assert SIGNATURE[:8] not in error.message
    assert "signature=***" in error.message


def test_venue_error_when_built_directly_then_its_message_is_redacted_too() -> None:
    error = VenueError(kind=K.AUTH, venue="binance", message="login failed: api_key=hunter2xyz")
    assert "hunter2xyz" not in error.message
    assert "hunter2xyz" not in str(error)
    assert "hunter2xyz" not in repr(error)


# -- the VenueError value ---------------------------------------------------------------


def test_venue_error_is_a_frozen_riskctl_error_with_derived_code() -> None:
    error = VenueError(kind="rate_limited", venue="binance", message="slow down", retry_after_s=2)  # type: ignore[arg-type]
    assert isinstance(error, RiskctlError)
    assert (error.kind, error.code, error.retryable) == (K.RATE_LIMITED, "venue.rate_limited", True)
    assert str(error) == "venue.rate_limited (binance): slow down"
    with pytest.raises(FrozenInstanceError):
        error.message = "changed"  # type: ignore[misc]
    with pytest.raises(ValueError, match="'slow' is not a valid VenueErrorKind"):
        VenueError(kind="slow", venue="binance", message="")  # type: ignore[arg-type]


def test_translate_when_given_a_venue_error_then_returns_it() -> None:
    error = VenueError(kind=K.REJECTED, venue="binance", message="no")
    assert translate(error, venue="other") is error


def test_venue_error_when_raised_through_python_machinery_then_it_survives() -> None:
    """raise-from, @contextmanager and add_note all set attributes a frozen dataclass refuses."""

    @contextmanager
    def guarded() -> Iterator[None]:
        yield

    error = VenueError(kind=K.UNAVAILABLE, venue="binance", message="503")

    def fail() -> None:
        try:
            raise KeyError("inner")
        except KeyError as inner:
            raise error from inner

    with pytest.raises(VenueError) as caught, guarded():
        fail()
    assert caught.value is error
    assert isinstance(error.__cause__, KeyError)
    error.add_note("gave up")
    assert error.__notes__ == ["gave up"]


def test_venue_error_when_pickled_then_equal() -> None:
    error = translate(raised_by_binance(429, "{}", {"Retry-After": "1"}), venue="binance")
    assert pickle.loads(pickle.dumps(error)) == error  # noqa: S301  (our own bytes)


def test_to_dict_when_dumped_then_json_with_every_field() -> None:
    error = translate(
        raised_by_binance(418, '{"code":-1003,"msg":"banned"}'),
        venue="binance",
        headers={"Retry-After": "120"},
    )
    data = json.loads(json.dumps(error.to_dict()))
    assert data == {
        "code": "venue.rate_limited",
        "kind": "rate_limited",
        "message": 'binance 418 Reason {"code":-1003,"msg":"banned"}',
        "venue": "binance",
        "retry_after_s": 120.0,
        "http_status": 418,
        "error_class": "ccxt.DDoSProtection",
    }
