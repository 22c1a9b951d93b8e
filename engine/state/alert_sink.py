"""JSONL alert sink: appends each alert event as one JSON line, flushed per line.

The runtime hands it the ``alert`` effects of a committed transition:
``sink.write_alerts(effects, at_ms=now_ms)``. Lines carry ``alert``, ``status``, ``severity``,
``value`` (exact text), ``labels``, ``channels`` and ``at_ms``; an ``of_limit`` alert's also
``of_limit``, ``limit``, ``level`` and ``share_pct``. This is the only I/O of the
alert machinery; the machines themselves stay pure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from riskctl.state.effects import Effect

__all__ = ["JsonlAlertSink"]


class JsonlAlertSink:
    """Appends alert events to a file, one JSON object per line."""

    def __init__(self, path: str | Path) -> None:
        self._file = Path(path).open("a", encoding="utf-8")  # noqa: SIM115 -- closed by close()

    def write_alerts(self, effects: Iterable[Effect], *, at_ms: int) -> int:
        """Write the ``alert`` effects among ``effects``; return how many lines were written."""
        written = 0
        for effect in effects:
            if effect.kind == "alert":
                self._file.write(json.dumps(_line(effect, at_ms), sort_keys=True) + "\n")
                self._file.flush()
                written += 1
        return written

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> JsonlAlertSink:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


_SHARE_KEYS = ("of_limit", "limit", "level", "share_pct")


def _line(effect: Effect, at_ms: int) -> dict[str, Any]:
    detail = effect.as_json().get("detail", {})
    share = {k: detail[k] for k in _SHARE_KEYS if k in detail}
    return share | {
        "alert": effect.name,
        "source": effect.source,
        "status": detail.get("status"),
        "severity": detail.get("severity"),
        "value": detail.get("value"),
        "labels": detail.get("labels", {}),
        "channels": detail.get("channels", []),
        "at_ms": detail.get("at_ms", at_ms),
    }
