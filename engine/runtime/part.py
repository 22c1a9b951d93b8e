"""What the runtime asks of each machine it drives: one small protocol for all of them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from riskctl.context.base import StageContext
from riskctl.decision import Decision
from riskctl.runtime.completion import Completion
from riskctl.state.effects import Effect
from riskctl.state.store import Control

__all__ = ["Part", "Scope"]

Scope = tuple[str, str]


class Part(Protocol):
    """One machine's binding to the runtime. Its rows are stored as ``(machine, key)``.

    Per evaluation the runtime calls, in order: ``tick`` (time moved to ``now_ms``),
    ``complete`` (set the fields it owns), and, when the completed context was valid,
    ``apply`` (transitions from the context and the decision). ``dirty`` hands over the
    values changed since the last commit.
    """

    machine: str

    def load(self, rows: Mapping[str, str]) -> None:
        """Restore from committed rows (key -> JSON text) of this machine."""
        ...

    def tick(self, now_ms: int) -> list[Effect]: ...

    def complete(self, stage: str, scope: Scope | None, completion: Completion) -> None: ...

    def apply(
        self, stage: str, ctx: StageContext, decision: Decision, now_ms: int
    ) -> list[Effect]: ...

    def control(self, control: Control, now_ms: int) -> list[Effect]:
        """An operator control (``reset``); the parts it is not for return nothing."""
        ...

    def dirty(self) -> dict[str, Any]:
        """key -> state value (None: delete the row) changed since the last call."""
        ...

    def describe(self) -> dict[str, Any]:
        """This machine's section of ``riskctl state show``."""
        ...
