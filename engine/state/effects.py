"""What a state transition asks the runtime to do or record: one small record for all machines."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Effect", "EffectKind", "Scope"]

Scope = tuple[str, str]  # (venue, symbol); "*" for any
EffectKind = Literal["action", "alert", "record"]


@dataclass(frozen=True, slots=True)
class Effect:
    """One thing a transition produced.

    - ``action``: a trading action the runtime carries out: ``halt``, ``reduce_only``,
      ``cancel_all``, ``flatten``, ``pause_symbol``, ``resume``.
    - ``alert``: an alert event (``detail["status"]`` pending, firing or resolved) for sinks.
    - ``record``: something only written to the audit log (a quarantined fill, a band move).

    ``source`` says which machine and which instance produced it, e.g.
    ``breaker:daily-loss-halt``, ``band:binance/BTC/USDT``, ``alert:daily-loss``, ``kill``.
    ``detail`` is JSON-able (Decimals as strings are the codec's job, not the producer's).
    """

    kind: EffectKind
    name: str
    source: str
    scope: Scope | None = None
    message: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "name": self.name, "source": self.source}
        if self.scope is not None:
            out["scope"] = {"venue": self.scope[0], "symbol": self.scope[1]}
        if self.message:
            out["message"] = self.message
        if self.detail:
            out["detail"] = {k: _plain(v) for k, v in self.detail.items()}
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)  # Decimal and anything else: its exact text
