#!/usr/bin/env python3
"""An example advisor: read recent decisions, propose ONE bounded change, correct itself.

    riskctl run --policies policies/ --state state.db < contexts.jsonl > decisions.jsonl
    riskctl audit --state state.db > audit.jsonl
    tools/advisor_example.py --audit audit.jsonl --policies policies/ --symbol ETH/USDT \\
        [--approved-by alice] [--plan-out plan.json]

It reads the audit log of a ``riskctl run`` (each record holds the completed context and
the decision), computes the reject rate by rule of the symbol's pre_trade orders, and
looks at one parameter: the symbol's ``max_order_qty`` (its ``spec.scoped[N]`` entry).

* ``max_order_qty`` rejects more than ``--reject-rate`` of the orders: the quoter's sizes do
  not fit the limit, so propose the 90th percentile of the rejected sizes (a loosening: it
  needs a human, given as ``--approved-by``; without one the plan is written for them);
* nothing is rejected by it and the largest order is under half the limit: propose
  tightening to 1.25 x the largest order (no approval needed);
* otherwise there is nothing to propose.

It proposes through the Python API (:mod:`riskctl.change`). A refusal with an
``allowed_range`` (a step or drift too large, a value past min/max) is corrected by
moving the value into every range given and proposing again, at most ``ATTEMPTS`` times;
a refusal without one (a protected path, a stale value) ends the run. Each step is one JSON
line on stdout. Exit 0: applied, written for approval, or nothing to do; 1: refused.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from riskctl import change
from riskctl.bundle import load_bundle
from riskctl.kinds import RiskLimits

ATTEMPTS = 3
AUTHOR = "example-advisor"


def say(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}, default=str), flush=True)


def observe(audit: Path, symbol: str) -> tuple[int, Counter[str], list[Decimal]]:
    """Orders of ``symbol`` decided at pre_trade, rejects by rule, and every order size."""
    orders, rejects, sizes = 0, Counter[str](), []
    for line in audit.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        body = record.get("body") or {}
        order = (body.get("context") or {}).get("order") or {}
        decision = body.get("decision") or {}
        if record.get("kind") != "decision" or decision.get("stage") != "pre_trade":
            continue
        if order.get("symbol") != symbol:
            continue
        orders += 1
        sizes.append(Decimal(str(order["qty"])))
        if decision.get("outcome") == "reject":
            rejects.update({h["rule_id"] for h in decision["hits"] if h["mode"] == "enforce"})
    return orders, rejects, sizes


def limit_path(policies: Path, symbol: str) -> tuple[str, str, Decimal]:
    """The RiskLimits document, the path of the symbol's own max_order_qty and its value."""
    for document in load_bundle(policies).of_kind(RiskLimits):
        for index, scoped in enumerate(document.spec.scoped):
            scope = scoped.scope
            if scope.symbol == symbol and scope.venue is None and scoped.max_order_qty:
                path = f"spec.scoped[{index}].max_order_qty"
                return document.ref, path, scoped.max_order_qty
    raise SystemExit(f"no RiskLimits scope sets max_order_qty for {symbol} alone")


def target(
    orders: int, rejects: Counter[str], sizes: list[Decimal], *, limit: Decimal, rate: Decimal
) -> Decimal | None:
    """The value to propose for max_order_qty, or None (see the module docstring)."""
    if not orders:
        return None
    if Decimal(rejects["max_order_qty"]) / orders > rate:
        rejected = sorted(s for s in sizes if s > limit)  # none: a venue's own scope rejects
        return rejected[len(rejected) * 9 // 10] if rejected else None
    largest = max(sizes)
    if rejects["max_order_qty"] == 0 and largest * 2 < limit:
        return largest * Decimal("1.25")
    return None


def corrected(value: Decimal, refusals: list[change.Refusal]) -> Decimal | None:
    """``value`` moved into every allowed range the refusals give; None when one gives none
    (nothing numeric to correct) or the ranges leave no value."""
    low, high = None, None
    for refusal in refusals:
        if refusal.allowed_range is None:
            return None
        lo, hi = refusal.allowed_range
        low = lo if low is None or (lo is not None and lo > low) else low
        high = hi if high is None or (hi is not None and hi < high) else high
    if low is not None and high is not None and low > high:
        return None
    if high is not None and value > high:
        value = high
    if low is not None and value < low:
        value = low
    return value


def advise(args: argparse.Namespace) -> int:
    orders, rejects, sizes = observe(args.audit, args.symbol)
    policy, path, limit = limit_path(args.policies, args.symbol)
    rates = {rule: f"{Decimal(n) / orders:.4f}" for rule, n in rejects.items()} if orders else {}
    say("observed", symbol=args.symbol, orders=orders, reject_rate_by_rule=rates, limit=limit)
    value = target(orders, rejects, sizes, limit=limit, rate=args.reject_rate)
    if value is None or value == limit:
        say("nothing-to-propose", symbol=args.symbol)
        return 0
    for attempt in range(1, ATTEMPTS + 1):
        proposal = {
            "author": AUTHOR,
            "rationale": f"{args.symbol} max_order_qty {limit} -> {value}: reject rate by rule "
            f"{rates} over {orders} orders",
            "changes": [{"policy": policy, "path": path, "from": str(limit), "to": str(value)}],
        }
        plan = change.propose(proposal, policies=args.policies)
        refusals = [r.to_json() for r in plan.refusals]
        say("proposed", attempt=attempt, to=value, acceptable=plan.acceptable, refusals=refusals)
        if plan.acceptable:
            return finish(plan, args)
        fixed = corrected(value, plan.refusals)
        if fixed is None or fixed == value:
            say("gave-up", reason="a refusal gives no value to correct to", refusals=refusals)
            return 1
        say("corrected", was=value, to=fixed, codes=[r.code for r in plan.refusals])
        value = fixed
    say("gave-up", reason=f"still refused after {ATTEMPTS} attempts")
    return 1


def finish(plan: change.Plan, args: argparse.Namespace) -> int:
    if plan.approval_required and not args.approved_by:
        out = args.plan_out or Path("plan.json")
        out.write_text(json.dumps(plan.to_json(), indent=2, sort_keys=True) + "\n")
        say("needs-approval", plan=str(out), apply=f"riskctl apply {out} --approved-by NAME")
        return 0
    result = change.apply(plan, approved_by=args.approved_by)
    if result.receipt is None:
        say("refused", refusals=[r.to_json() for r in result.refusals])
        return 1
    receipt = result.receipt
    say("applied", seq=receipt["seq"], hash=receipt["hash"], changes=receipt["changes"])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--audit", type=Path, required=True, help="JSON Lines of `riskctl audit --state FILE`"
    )
    parser.add_argument(
        "--policies",
        type=Path,
        default=Path("policies"),
        help="policy directory (default: policies)",
    )
    parser.add_argument("--symbol", required=True, help="the symbol to tune, e.g. ETH/USDT")
    parser.add_argument(
        "--reject-rate",
        type=Decimal,
        default=Decimal("0.1"),
        help="share of orders max_order_qty may reject before the limit is raised (default 0.1)",
    )
    parser.add_argument(
        "--approved-by", metavar="NAME", help="the human approving a loosening (not this advisor)"
    )
    parser.add_argument(
        "--plan-out",
        type=Path,
        metavar="FILE",
        help="where a plan needing approval is written (default plan.json)",
    )
    return advise(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
