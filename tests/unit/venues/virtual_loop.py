"""An asyncio event loop whose clock is virtual: time jumps to the next timer when all is idle.

``loop.time()`` returns virtual seconds, so ``asyncio.sleep`` and every ``call_later`` run on
it; the selector, instead of blocking, advances the clock by the timeout the loop asked to
wait. Time therefore moves only when every task is idle, and a task resumed by a future
resumes at the same virtual instant the future was resolved. When nothing is ready and no
timer is set while the main coroutine is unfinished, tasks wait on something nobody will
ever resolve: the selector raises :class:`DeadlockError` (a lost wakeup) instead of hanging.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

START = 1_000.0  # a virtual start time away from zero, so "unset" and "at 0" never blur


class DeadlockError(RuntimeError):
    """The loop went idle with no timer set: some task waits for a wakeup that never comes."""


class _AdvancingSelector(selectors.DefaultSelector):
    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        events: list[tuple[selectors.SelectorKey, int]] = super().select(0)
        if events or timeout == 0:
            return events
        if timeout is None:
            raise DeadlockError("every task is waiting and no timer is set")
        self._loop.now += timeout
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop on a virtual clock that starts at :data:`START`."""

    def __init__(self) -> None:
        self.now = START
        super().__init__(_AdvancingSelector(self))

    def time(self) -> float:
        return self.now


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on a fresh virtual-time loop; leftover tasks are cancelled."""
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(main)
