"""The decimal arithmetic context every evaluation runs under.

Decimal operators use the calling thread's context, which other libraries change (ccxt's
decimal_to_precision sets ROUND_HALF_UP and extra traps). The gate evaluates, and
validates contexts, under one fixed context so a decision never depends on who ran
before it in the thread: 50 digits (exact for every bounded context value and grid
quotient), banker's rounding, and traps that turn silent NaN or infinity into errors,
which fail closed.
"""

from __future__ import annotations

import decimal
import functools
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = [
    "ENGINE_DECIMAL",
    "derivation",
    "engine_context",
    "enter_engine_decimal",
    "under_engine_decimal",
]

ENGINE_DECIMAL = decimal.Context(
    prec=50,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

_local = threading.local()
_getcontext, _setcontext = decimal.getcontext, decimal.setcontext
P = ParamSpec("P")
R = TypeVar("R")


def engine_context() -> decimal.Context:
    """This thread's copy of the engine context, for a ``context=`` argument."""
    return _thread_context()


def _thread_context() -> decimal.Context:
    # One copy per thread: contexts carry mutable flags and must not be shared.
    context: decimal.Context | None = getattr(_local, "context", None)
    if context is None:
        context = _local.context = ENGINE_DECIMAL.copy()
    return context


def enter_engine_decimal() -> decimal.Context | None:
    """Switch this thread to the engine context; the caller's, to restore, or None.

    For the one hot path (``Gate.evaluate``) that cannot afford a decorator's call:
    ``saved = enter_engine_decimal()`` ... ``finally: if saved is not None:
    decimal.setcontext(saved)``. Everything else uses :func:`under_engine_decimal`.
    """
    saved = _getcontext()
    mine = getattr(_local, "context", None) or _thread_context()
    if saved is mine:
        return None
    _setcontext(mine)
    return saved


def under_engine_decimal(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` under the engine's decimal context; the caller's is restored after."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        # Called on every evaluation: the C functions bound once, the thread's copy read
        # straight off the thread-local.
        saved = _getcontext()
        mine = getattr(_local, "context", None) or _thread_context()
        if saved is mine:
            return func(*args, **kwargs)
        _setcontext(mine)
        try:
            return func(*args, **kwargs)
        finally:
            _setcontext(saved)

    return wrapper


def derivation(func: Callable[P, R]) -> Callable[P, R]:
    """A context's derive step: engine decimal context, and arithmetic failures as ValueError.

    pydantic turns a ValueError into a located validation error; a bare DivisionImpossible
    or Overflow would escape validation as an internal error.
    """
    exact = under_engine_decimal(func)

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return exact(*args, **kwargs)
        except decimal.DecimalException as exc:
            name = type(exc).__name__
            raise ValueError(
                f"a derived value cannot be computed ({name}); check magnitudes"
            ) from None

    return wrapper
