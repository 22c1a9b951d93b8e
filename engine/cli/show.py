"""``riskctl show PATH...``: a one-screen summary of a loaded policy bundle.

Documents with versions and owners, the limits that apply to each (venue, symbol) after
scope resolution, and how many custom rules guard each stage.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from riskctl.bundle import PolicyBundle, load_bundle
from riskctl.cli.output import print_json
from riskctl.errors import PolicyLoadError
from riskctl.kinds import RiskLimits, Rules
from riskctl.limits import resolve_limits
from riskctl.ruleset import compile_bundle

__all__ = ["register", "run"]

# The limits a reviewer scans first, in the order shown.
HEADLINE = (
    ("max_order_qty", "order qty"),
    ("max_order_notional", "order notional"),
    ("price_collar_bps", "collar bps"),
    ("max_position_qty", "position qty"),
    ("max_daily_loss", "daily loss"),
)


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "show",
        help="summarise a policy bundle",
        description="Summarise a policy bundle: documents, resolved limits, rules per stage.",
    )
    parser.add_argument("paths", nargs="+", type=Path, help="policy files or directories")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="report format: text or json"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        bundle = load_bundle(*args.paths)
        compile_bundle(bundle)  # show only what the gate would load
    except PolicyLoadError as exc:
        for diagnostic in exc.diagnostics:
            print(diagnostic.format(), file=sys.stderr)
        return 1
    if args.format == "json":
        print_json(describe(bundle))
    else:
        print(render(bundle))
    return 0


def describe(bundle: PolicyBundle) -> dict[str, Any]:
    """The summary as data: documents, resolved limits per scope, rules per stage."""
    return {
        "hash": bundle.hash,
        "documents": [
            {
                "ref": p.document.ref,
                "version": p.document.metadata.version,
                "owner": p.document.metadata.owner,
                "path": p.path,
            }
            for p in bundle.policies
        ],
        "limits": {
            f"{venue} {symbol}": {name: str(value) for name, value in limits.items()}
            for (venue, symbol), limits in _resolved(bundle).items()
        },
        "rules_per_stage": dict(_rules_per_stage(bundle)),
    }


def render(bundle: PolicyBundle) -> str:
    lines = [f"bundle {bundle.hash}", ""]
    width = max(len(p.document.ref) for p in bundle.policies)
    for policy in bundle.policies:
        doc = policy.document
        lines.append(
            f"  {doc.ref:<{width}}  v{doc.metadata.version:<4} "
            f"{doc.metadata.owner:<16} {policy.path}"
        )
    resolved = _resolved(bundle)
    if resolved:
        lines += ["", "  " + f"{'venue symbol':<20}" + "".join(f"{t:>16}" for _, t in HEADLINE)]
        for (venue, symbol), limits in resolved.items():
            cells = "".join(f"{limits.get(name, '-')!s:>16}" for name, _ in HEADLINE)
            lines.append(f"  {venue + ' ' + symbol:<20}{cells}")
    stages = _rules_per_stage(bundle)
    if stages:
        lines += ["", "  custom rules: " + ", ".join(f"{s} {n}" for s, n in stages.items())]
    kinds = Counter(p.document.kind for p in bundle.policies)
    lines += ["", "  " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))]
    return "\n".join(lines)


def _resolved(bundle: PolicyBundle) -> dict[tuple[str, str], dict[str, Any]]:
    """Limits in force per (venue, symbol): when several RiskLimits documents set one, the
    gate enforces all of them, so the tightest (smallest) is what applies."""
    documents = bundle.of_kind(RiskLimits)
    pairs = {pair for document in documents for pair in document.spec.pairs()}
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for venue, symbol in sorted(pairs):
        merged: dict[str, Any] = {}
        for document in documents:
            for name, (value, _) in resolve_limits(document, venue, symbol).items():
                known = merged.get(name)
                tighter = isinstance(value, int | Decimal) and not isinstance(value, bool)
                merged[name] = min(known, value) if known is not None and tighter else value
        out[(venue, symbol)] = merged
    return out


def _rules_per_stage(bundle: PolicyBundle) -> Counter[str]:
    return Counter(rule.stage for doc in bundle.of_kind(Rules) for rule in doc.spec.rules)
