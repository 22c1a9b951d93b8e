"""Impact preview: which recorded decisions a change would flip.

Each line of a ``riskctl run`` input stream (``{"stage": ..., "context": {...}}``) is
evaluated by the pure gate with the current bundle and with the proposed one; a line whose
outcome differs is a flip. Numbers are read as exact decimals. Lines that are not such an
object are counted as skipped. The stateful runtime is not involved: contexts are decided
as recorded (state, positions and counters as the line gives them).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riskctl.bundle import PolicyBundle, load_bundle
from riskctl.decision import Decision
from riskctl.gate import Gate

if TYPE_CHECKING:
    from riskctl.change.plan import Plan

__all__ = ["MAX_SHOWN", "preview", "preview_plan"]

MAX_SHOWN = 5


def _rules(decision: Decision) -> list[str]:
    return sorted({hit.rule_id for hit in decision.hits if hit.mode == "enforce"})


def preview(stream: Path, *, before: PolicyBundle, after: PolicyBundle) -> dict[str, Any]:
    """``{"lines", "skipped", "flips", "first": [...]}`` for the stream's contexts."""
    old, new = Gate(before), Gate(after)
    lines = skipped = flips = 0
    first: list[dict[str, Any]] = []
    with stream.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            lines += 1
            try:
                item = json.loads(line, parse_float=Decimal)
            except json.JSONDecodeError:
                skipped += 1
                continue
            if not isinstance(item, dict) or not isinstance(item.get("context"), dict):
                skipped += 1
                continue
            stage = str(item.get("stage"))
            was, will = old.evaluate(stage, item["context"]), new.evaluate(stage, item["context"])
            if was.outcome == will.outcome:
                continue
            flips += 1
            if len(first) < MAX_SHOWN:
                first.append(
                    {
                        "line": number,
                        "stage": stage,
                        "before": str(was.outcome),
                        "after": str(will.outcome),
                        "rules_before": _rules(was),
                        "rules_after": _rules(will),
                    }
                )
    return {"lines": lines, "skipped": skipped, "flips": flips, "first": first}


def preview_plan(plan: Plan, stream: Path) -> dict[str, Any]:
    """:func:`preview` of the plan's files against the files as they are (a temporary copy)."""
    before = load_bundle(plan.policies)
    with tempfile.TemporaryDirectory(prefix="riskctl-impact-") as temp:
        copy = Path(temp) / "policies"
        shutil.copytree(plan.policies, copy, ignore=shutil.ignore_patterns(".riskctl"))
        for edit in plan.files:
            (copy / edit.path).write_text(edit.after, encoding="utf-8")
        after = load_bundle(copy)
    return preview(stream, before=before, after=after)
