"""Trading state and kill switch: ACTIVE / REDUCING / HALTED, and who pulled the switch.

The runtime calls ``on_actions`` with an enforced decision's actions (a rule's ``halt`` or
``reduce_only``), ``kill`` / ``resume`` with an operator's control, and ``effective`` when
it completes a context. Policy actions only tighten: ACTIVE -> REDUCING -> HALTED; only an
operator's ``resume`` loosens, back to ACTIVE with the switch released.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from riskctl.state.effects import Effect

__all__ = ["KillSwitch", "Mode", "Trading", "effective", "kill", "on_actions", "resume"]

Mode = Literal["ACTIVE", "REDUCING", "HALTED"]
_RANK: dict[str, int] = {"ACTIVE": 0, "REDUCING": 1, "HALTED": 2}
_FROM_ACTION: dict[str, Mode] = {"reduce_only": "REDUCING", "halt": "HALTED"}


@dataclass(frozen=True, slots=True)
class KillSwitch:
    engaged: bool = False
    by: str = ""
    reason: str = ""
    at_ms: int = 0


@dataclass(frozen=True, slots=True)
class Trading:
    mode: Mode = "ACTIVE"
    since_ms: int = 0
    reason: str = ""  # what set the mode: "rule max_daily_loss", "operator ops: ..."
    kill: KillSwitch = field(default_factory=KillSwitch)
    last_control: int = 0  # id of the last operator control applied (the store's numbering)


def tighter(a: Mode, b: Mode) -> Mode:
    return a if _RANK[a] >= _RANK[b] else b


def on_actions(
    state: Trading, actions: Iterable[str], source: str, now_ms: int
) -> tuple[Trading, tuple[Effect, ...]]:
    """Tighten the mode for ``halt`` / ``reduce_only`` among ``actions``; never loosen it."""
    target = state.mode
    for action in actions:
        target = tighter(target, _FROM_ACTION.get(action, "ACTIVE"))
    if target == state.mode:
        return state, ()
    changed = replace(state, mode=target, since_ms=now_ms, reason=source)
    return changed, (_moved(state.mode, target, source),)


def kill(
    state: Trading, *, by: str, reason: str, now_ms: int
) -> tuple[Trading, tuple[Effect, ...]]:
    """Engage the kill switch: nothing new passes, and open orders are cancelled."""
    if state.kill.engaged:
        return state, ()
    changed = replace(state, kill=KillSwitch(True, by, reason, now_ms))
    message = f"kill switch engaged by {by}: {reason}"
    return changed, (
        Effect("action", "cancel_all", "kill", message=message),
        Effect("alert", "kill_switch", "kill", message=message, detail={"status": "firing"}),
    )


def resume(
    state: Trading, *, by: str, reason: str, now_ms: int
) -> tuple[Trading, tuple[Effect, ...]]:
    """Release the kill switch and return to ACTIVE (open breakers still restrict)."""
    if not state.kill.engaged and state.mode == "ACTIVE":
        return state, ()
    source = f"operator {by}: {reason}"
    changed = replace(state, mode="ACTIVE", since_ms=now_ms, reason=source, kill=KillSwitch())
    effects = [_moved(state.mode, "ACTIVE", source)] if state.mode != "ACTIVE" else []
    if state.kill.engaged:
        effects.append(
            Effect("alert", "kill_switch", "kill", message=source, detail={"status": "resolved"})
        )
    return changed, tuple(effects)


def effective(state: Trading, *restrictions: Mode) -> Mode:
    """The mode a context sees: this state tightened by breakers' restrictions."""
    mode = state.mode
    for other in restrictions:
        mode = tighter(mode, other)
    return mode


def _moved(before: Mode, after: Mode, source: str) -> Effect:
    return Effect(
        "record",
        "trading_state",
        "trading",
        message=f"trading state {before} -> {after} ({source})",
        detail={"from": before, "to": after},
    )
