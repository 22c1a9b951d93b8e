"""riskctl.venues.retry: backoff with full jitter, the budget, and the lost-create hook.

Calls fail with real ccxt exceptions, classified by the real translate(); waits run on
:mod:`virtual_loop`'s virtual clock, so a 3 s Retry-After costs no real time and the
clock shows exactly how long the loop waited.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

import ccxt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from virtual_loop import START, run

from riskctl.venues.errors import VenueError, VenueErrorKind, translate
from riskctl.venues.retry import Backoff, Found, RetryBudget, call_with_retry

K = VenueErrorKind


class Script:
    """A venue call that fails with the scripted exceptions in turn, then returns ``result``."""

    def __init__(self, *failures: BaseException, result: str = "ok") -> None:
        self.failures = list(failures)
        self.result = result
        self.calls: list[float] = []

    async def __call__(self) -> str:
        self.calls.append(asyncio.get_running_loop().time() - START)
        if self.failures:
            raise self.failures.pop(0)
        return self.result


def classify(headers: dict[str, str] | None = None) -> Callable[[BaseException], VenueError]:
    return lambda exc: translate(exc, venue="binance", headers=headers)


async def call(
    fn: Callable[[], Awaitable[str]],
    *,
    backoff: Backoff = Backoff(),  # noqa: B008  (frozen)
    budget: RetryBudget = RetryBudget(),  # noqa: B008  (frozen)
    seed: int = 7,
    headers: dict[str, str] | None = None,
    **hooks: Any,
) -> str:
    return await call_with_retry(
        fn,
        venue="binance",
        classify=classify(headers),
        backoff=backoff,
        budget=budget,
        rng=random.Random(seed),
        clock=asyncio.get_running_loop().time,
        sleep=asyncio.sleep,
        **hooks,
    )


def elapsed() -> float:
    return asyncio.get_running_loop().time() - START


# -- backoff ----------------------------------------------------------------------------


@given(
    base=st.floats(0.001, 5),
    factor=st.floats(1, 4),
    cap=st.floats(5, 100),
    attempt=st.integers(0, 10_000),
    seed=st.integers(0, 2**32),
)
def test_delay_is_full_jitter_under_the_capped_exponential(
    base: float, factor: float, cap: float, attempt: int, seed: int
) -> None:
    backoff = Backoff(base_s=base, cap_s=cap, factor=factor)
    ceiling = backoff.ceiling(attempt)
    assert ceiling == min(cap, base * factor**attempt) if attempt < 500 else ceiling <= cap
    assert backoff.ceiling(attempt + 1) >= ceiling
    assert 0 <= backoff.delay(attempt, random.Random(seed)) <= ceiling


def test_delay_when_sampled_then_spreads_over_the_whole_range() -> None:
    backoff = Backoff(base_s=0.1, cap_s=10, factor=2)
    rng = random.Random(1)
    delays = [backoff.delay(3, rng) for _ in range(2_000)]
    assert backoff.ceiling(3) == pytest.approx(0.8)
    assert min(delays) < 0.02
    assert max(delays) > 0.78
    assert backoff.ceiling(10_000) == 10  # no overflow, just the cap


@pytest.mark.parametrize(
    "build",
    [
        lambda: Backoff(base_s=0),
        lambda: Backoff(base_s=2, cap_s=1),
        lambda: Backoff(factor=0.5),
        lambda: Backoff(cap_s=float("inf")),
        lambda: RetryBudget(max_attempts=0),
        lambda: RetryBudget(deadline_s=float("nan")),
    ],
)
def test_bad_backoff_or_budget_when_built_then_refused(build: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="it needs"):
        build()


# -- what is retried --------------------------------------------------------------------


def test_unavailable_when_it_clears_then_retried_with_the_backoff_delays() -> None:
    errors: list[VenueError] = []
    fn = Script(ccxt.ExchangeNotAvailable("503"), ccxt.RequestTimeout("timed out"), result="42")

    async def main() -> str:
        return await call(fn, on_error=errors.append)

    assert run(main()) == "42"
    rng, backoff = random.Random(7), Backoff()
    first, second = backoff.delay(0, rng), backoff.delay(1, rng)
    assert fn.calls == pytest.approx([0, first, first + second])
    assert [e.kind for e in errors] == [K.UNAVAILABLE, K.UNAVAILABLE]


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (ccxt.AuthenticationError("binance Invalid API-key"), K.AUTH),
        (ccxt.InsufficientFunds("binance insufficient balance"), K.REJECTED),
        (ccxt.OrderNotFound("binance Order does not exist."), K.ORDER_NOT_FOUND),
        (ccxt.BaseError("binance ???"), K.UNKNOWN),
        (ValueError("a bug"), K.UNKNOWN),
    ],
)
def test_non_retryable_when_raised_then_never_retried(exc: Exception, kind: VenueErrorKind) -> None:
    fn = Script(exc)
    with pytest.raises(VenueError) as caught:
        run(call(fn))
    assert caught.value.kind is kind
    assert fn.calls == [0]
    assert caught.value.__cause__ is None  # the raw text is not redacted: not chained


def test_budget_when_attempts_spent_then_raises_the_last_error() -> None:
    fn = Script(*(ccxt.ExchangeNotAvailable(f"binance 503 attempt {n}") for n in range(1, 10)))
    with pytest.raises(VenueError) as caught:
        run(call(fn, budget=RetryBudget(max_attempts=3, deadline_s=60)))
    assert len(fn.calls) == 3
    assert caught.value.message == "binance 503 attempt 3"
    assert caught.value.__notes__ == ["binance: gave up after 3 attempt(s)"]


def test_budget_when_the_next_wait_would_pass_the_deadline_then_stops_early() -> None:
    fn = Script(*(ccxt.ExchangeNotAvailable("503") for _ in range(50)))
    backoff = Backoff(base_s=1, cap_s=1, factor=1)

    async def main() -> float:
        with pytest.raises(VenueError):
            await call(fn, backoff=backoff, budget=RetryBudget(max_attempts=50, deadline_s=2.5))
        return elapsed()

    assert run(main()) <= 2.5
    assert 3 <= len(fn.calls) < 50  # waits of up to 1 s each, until the deadline


def test_rate_limited_when_retry_after_then_waits_at_least_that_long() -> None:
    fn = Script(ccxt.DDoSProtection("binance 429 Too Many Requests"), result="sent")

    async def main() -> str:
        return await call(fn, headers={"Retry-After": "3"})

    assert run(main()) == "sent"
    assert fn.calls[1] == pytest.approx(3)  # max(jittered delay <= 0.1 s, 3 s)


def test_rate_limited_when_retry_after_passes_the_deadline_then_raises_at_once() -> None:
    fn = Script(ccxt.DDoSProtection("binance 418 I'm a teapot"))

    async def main() -> float:
        with pytest.raises(VenueError) as caught:
            await call(fn, headers={"Retry-After": "120"})
        assert caught.value.retry_after_s == 120
        return elapsed()

    assert run(main()) == 0
    assert fn.calls == [0]


# -- the lost create --------------------------------------------------------------------


def test_before_retry_when_it_finds_the_order_then_no_second_create() -> None:
    """A create whose answer was lost: the hook looks the client order id up and finds it."""
    create = Script(ccxt.RequestTimeout("binance POST /api/v3/order"), result="second order")
    looked_up: list[tuple[float, VenueErrorKind]] = []

    async def look_up(error: VenueError) -> Found[str] | None:
        looked_up.append((elapsed(), error.kind))
        return Found("order-1")

    async def main() -> str:
        return await call(create, before_retry=look_up)

    assert run(main()) == "order-1"
    assert create.calls == [0]
    wait = Backoff().delay(0, random.Random(7))
    assert looked_up == [(pytest.approx(wait), K.UNAVAILABLE)]  # after the wait, not before


def test_before_retry_when_it_finds_nothing_then_the_create_is_retried() -> None:
    create = Script(ccxt.RequestTimeout("t1"), ccxt.ExchangeNotAvailable("503"), result="order-2")
    hooks: list[str] = []

    async def look_up(error: VenueError) -> Found[str] | None:
        hooks.append(error.message)
        return None

    assert run(call(create, before_retry=look_up)) == "order-2"
    assert len(create.calls) == 3
    assert hooks == ["t1", "503"]


def test_before_retry_when_the_look_up_fails_then_its_error_propagates_unretried() -> None:
    create = Script(ccxt.RequestTimeout("t1"), result="second order")

    async def look_up(error: VenueError) -> Found[str] | None:
        raise translate(ccxt.ExchangeNotAvailable("lookup 503"), venue="binance")

    with pytest.raises(VenueError, match="lookup 503"):
        run(call(create, before_retry=look_up))
    assert create.calls == [0]


def test_cancellation_when_waiting_to_retry_then_propagates() -> None:
    fn = Script(ccxt.ExchangeNotAvailable("503"), result="late")

    async def main() -> None:
        task = asyncio.create_task(call(fn, backoff=Backoff(base_s=5, cap_s=5, factor=1)))
        await asyncio.sleep(0.001)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(main())
    assert fn.calls == [0]


# -- invariants -------------------------------------------------------------------------

OUTCOMES = st.lists(
    st.sampled_from(["ok", "503", "timeout", "429", "auth", "rejected", "not_found"]),
    max_size=12,
)
_RAISE = {
    "503": lambda: ccxt.ExchangeNotAvailable("503"),
    "timeout": lambda: ccxt.RequestTimeout("timeout"),
    "429": lambda: ccxt.DDoSProtection("429"),
    "auth": lambda: ccxt.AuthenticationError("auth"),
    "rejected": lambda: ccxt.InvalidOrder("rejected"),
    "not_found": lambda: ccxt.OrderNotFound("not_found"),
}


def _model(
    outcomes: list[str], attempts: int, deadline: float, retry_after: float | None, seed: int
) -> tuple[str, int, float]:
    """What the loop must do: (final outcome, calls made, seconds waited), step by step."""
    rng, t = random.Random(seed), 0.0
    for calls, outcome in enumerate(outcomes, start=1):
        if outcome == "ok":
            return "done", calls, t
        wait = Backoff().delay(calls - 1, rng)
        wait = wait if retry_after is None else max(wait, retry_after)
        retryable = outcome in ("503", "timeout", "429")
        if not retryable or calls >= attempts or t + wait > deadline:
            return outcome, calls, t
        t += wait
    raise AssertionError("the script ends with ok")


@given(
    outcomes=OUTCOMES,
    attempts=st.integers(1, 6),
    deadline=st.sampled_from([0.0, 0.5, 2.0, 30.0]),
    retry_after=st.sampled_from([None, 0, 1, 10]),
    seed=st.integers(0, 1000),
)
def test_retry_loop_matches_its_model_in_calls_outcome_and_time(
    outcomes: list[str], attempts: int, deadline: float, retry_after: int | None, seed: int
) -> None:
    """Only retryable errors are retried, within both budgets; the last error is raised."""
    failures = outcomes[: outcomes.index("ok")] if "ok" in outcomes else outcomes
    fn = Script(*(_RAISE[o]() for o in failures), result="done")
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None

    async def main() -> tuple[str, float]:
        try:
            budget = RetryBudget(max_attempts=attempts, deadline_s=deadline)
            result = await call(fn, budget=budget, seed=seed, headers=headers)
        except VenueError as error:
            result = error.message
        return result, elapsed()

    result, spent = run(main())
    expected, calls, waited = _model([*failures, "ok"], attempts, deadline, retry_after, seed)
    assert (result, len(fn.calls)) == (expected, calls)
    assert spent == pytest.approx(waited)
    assert spent <= deadline
