"""``riskctl propose``, ``apply``, ``history``, ``rollback``: change control (issue 19).

Exit codes: 0 acceptable / applied / chain intact; 1 refused, stale or broken; 2 bad input
(a bad proposal is reported file:line:col like a policy). Refusals are printed as text or,
with ``--format json``, as objects with ``code``, ``path``, ``message`` and, where a
number bounds the change, ``limit`` and ``allowed_range``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from riskctl.atomic import write_text_atomic
from riskctl.bundle import load_bundle
from riskctl.change.apply import apply_plan
from riskctl.change.checks import Refusal
from riskctl.change.impact import preview
from riskctl.change.plan import Plan, plan_change
from riskctl.change.proposal import load_proposal, tool_definition
from riskctl.change.receipts import ChainProblem, read_receipts, verify_chain
from riskctl.change.rollback import plan_rollback
from riskctl.cli.output import print_json
from riskctl.errors import PolicyLoadError
from riskctl.schemagen import proposal_json_schema

__all__ = ["register"]

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
_FORMAT_HELP = "output format: text (default) or json (machine-readable refusals)"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def register(verbs: Any) -> None:
    _register_propose(verbs)
    _register_apply(verbs)
    _register_history(verbs)
    _register_rollback(verbs)


def _policies_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policies",
        type=Path,
        default=Path("policies"),
        metavar="DIR",
        help="policy directory (default: policies); its change log is DIR/.riskctl/changes.jsonl",
    )


def _register_propose(verbs: Any) -> None:
    parser = verbs.add_parser(
        "propose",
        help="plan a change proposal: diff, direction, ChangeControl checks; exit 1 if refused",
        description="Check a proposal (YAML or JSON) against ChangeControl and show the plan.",
    )
    parser.add_argument("proposal", nargs="?", type=Path, help="proposal file; '-' reads stdin")
    _policies_option(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text", help=_FORMAT_HELP)
    parser.add_argument("--out", type=Path, metavar="PLAN", help="write the plan JSON to PLAN")
    parser.add_argument(
        "--against",
        type=Path,
        metavar="STREAM",
        help="a riskctl run input stream (JSON Lines); report decisions the change flips",
    )
    parser.add_argument(
        "--tool-schema",
        action="store_true",
        help="print the JSON tool (function) definition an LLM agent can be given, and exit",
    )
    parser.set_defaults(run=_propose)


def _register_apply(verbs: Any) -> None:
    parser = verbs.add_parser(
        "apply",
        help="apply a plan written by propose --out; exit 1 if stale or refused",
        description="Apply a plan: stale check, atomic writes, version bump, receipt.",
    )
    parser.add_argument("plan", type=Path, help="the plan JSON written by riskctl propose --out")
    parser.add_argument(
        "--approved-by", metavar="NAME", help="the human approving (not the proposal's author)"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help=_FORMAT_HELP)
    parser.set_defaults(run=_apply)


def _register_history(verbs: Any) -> None:
    parser = verbs.add_parser(
        "history",
        help="list change receipts; --verify checks the hash chain and the files",
        description="List the change log's receipts, or verify its chain.",
    )
    _policies_option(parser)
    parser.add_argument(
        "--verify",
        action="store_true",
        help="exit 1 unless the chain is intact and the files hash to the last receipt",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help=_FORMAT_HELP)
    parser.set_defaults(run=_history)


def _register_rollback(verbs: Any) -> None:
    parser = verbs.add_parser(
        "rollback",
        help="restore the files as they were after an earlier receipt, with its own receipt",
        description="Restore an earlier state through the plan/apply path.",
    )
    _policies_option(parser)
    parser.add_argument(
        "--to",
        required=True,
        metavar="SEQ|HASH",
        help="receipt seq as history lists it (0: before the first) or its hash (8+ chars)",
    )
    parser.add_argument("--by", default="riskctl-rollback", help="who asks for the rollback")
    parser.add_argument("--approved-by", metavar="NAME", help="the human approving")
    parser.add_argument("--format", choices=("text", "json"), default="text", help=_FORMAT_HELP)
    parser.set_defaults(run=_rollback)


# -- propose ------------------------------------------------------------------------------


def _propose(args: argparse.Namespace) -> int:
    if args.tool_schema:
        print_json(tool_definition(proposal_json_schema()))
        return EXIT_OK
    if args.proposal is None:
        return _usage("give a proposal file (or --tool-schema)")
    proposal, problems, text = load_proposal(args.proposal)
    if proposal is None:
        return _bad_input(problems, args.format)
    try:
        plan = plan_change(args.policies, proposal, proposal_text=text, now=_now())
        if args.against is not None and plan.new_bundle_hash is not None:
            plan.impact = _impact(args.policies, plan, args.against)
    except PolicyLoadError as exc:
        return _bad_input(list(exc.diagnostics), args.format)
    except OSError as exc:
        return _usage(f"cannot read {exc.filename}: {exc.strerror}")
    if args.out is not None:
        write_text_atomic(args.out, json.dumps(plan.to_json(), indent=2, sort_keys=True) + "\n")
    _show_plan(plan, args.format)
    return EXIT_OK if plan.acceptable else EXIT_REFUSED


def _impact(policies: Path, plan: Plan, stream: Path) -> dict[str, Any]:
    before = load_bundle(policies)
    with tempfile.TemporaryDirectory(prefix="riskctl-impact-") as temp:
        copy = Path(temp) / "policies"
        shutil.copytree(policies, copy, ignore=shutil.ignore_patterns(".riskctl"))
        for edit in plan.files:
            (copy / edit.path).write_text(edit.after, encoding="utf-8")
        after = load_bundle(copy)
    return preview(stream, before=before, after=after)


def _show_plan(plan: Plan, fmt: str) -> None:
    data = plan.to_json()
    if fmt == "json":
        data.pop("source", None)
        print_json(data)
        return
    verdict = "acceptable" if plan.acceptable else "REFUSED"
    print(f"plan: {verdict}; base {plan.base_bundle_hash}; after {plan.new_bundle_hash}")
    for change in plan.changes:
        print(
            f"  {change['policy']}:{change['path']}: {_shown(change['from'])} -> "
            f"{_shown(change['to'])} ({change['direction']})"
        )
    for refusal in plan.refusals:
        print(f"refused: {refusal.format()}")
    if plan.approval_required:
        print("approval: needed (apply with --approved-by NAME, someone other than the author)")
    if plan.impact is not None:
        impact = plan.impact
        print(f"impact: {impact['flips']} of {impact['lines']} decision(s) flip")
        for flip in impact["first"]:
            print(
                f"  line {flip['line']} {flip['stage']}: {flip['before']} -> {flip['after']} "
                f"{flip['rules_before']} -> {flip['rules_after']}"
            )
    sys.stdout.write(plan.diff)


def _shown(value: Any) -> str:
    return str(value["decimal"]) if isinstance(value, dict) else json.dumps(value)


# -- apply, rollback ----------------------------------------------------------------------


def _apply(args: argparse.Namespace) -> int:
    try:
        saved = json.loads(args.plan.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return _usage(f"cannot read the plan {args.plan}: {exc}")
    if not isinstance(saved, dict) or saved.get("format") != "riskctl-plan/1":
        return _usage(f"{args.plan} is not a plan written by riskctl propose --out")
    return _apply_saved(saved, approved_by=args.approved_by, fmt=args.format)


def _apply_saved(saved: dict[str, Any], *, approved_by: str | None, fmt: str) -> int:
    try:
        result = apply_plan(saved, approved_by=approved_by, now=_now())
    except PolicyLoadError as exc:
        return _bad_input(list(exc.diagnostics), fmt)
    if result.receipt is None:
        _show_refusals(result.refusals, fmt)
        return EXIT_REFUSED
    receipt = result.receipt
    if fmt == "json":
        print_json({"applied": True, "receipt": _summary(receipt)})
    else:
        print(
            f"applied: receipt {receipt['seq']} {receipt['hash']}; "
            f"{receipt['old_bundle_hash']} -> {receipt['new_bundle_hash']}"
        )
    return EXIT_OK


def _rollback(args: argparse.Namespace) -> int:
    try:
        plan = plan_rollback(args.policies, args.to, author=args.by)
    except PolicyLoadError as exc:
        return _bad_input(list(exc.diagnostics), args.format)
    if plan.refusals:
        _show_refusals(plan.refusals, args.format)
        return EXIT_REFUSED
    return _apply_saved(plan.to_json(), approved_by=args.approved_by, fmt=args.format)


def _show_refusals(refusals: list[Refusal], fmt: str) -> None:
    if fmt == "json":
        print_json({"applied": False, "refusals": [r.to_json() for r in refusals]})
        return
    for refusal in refusals:
        print(f"refused: {refusal.format()}")


# -- history ------------------------------------------------------------------------------


def _summary(receipt: dict[str, Any]) -> dict[str, Any]:
    keys = ("seq", "kind", "time", "author", "approved_by", "changes", "rollback_to")
    shown = {k: receipt.get(k) for k in keys}
    shown.update(
        old_bundle_hash=receipt.get("old_bundle_hash"),
        new_bundle_hash=receipt.get("new_bundle_hash"),
        prev=receipt.get("prev"),
        hash=receipt.get("hash"),
    )
    return shown


def _history(args: argparse.Namespace) -> int:
    receipts, problems = read_receipts(args.policies)
    if args.verify:
        problems = [*problems, *verify_chain(receipts), *_files_match(args.policies, receipts)]
    if args.format == "json":
        print_json(
            {
                "receipts": [_summary(r) for r in receipts],
                "problems": [p.to_json() for p in problems],
                "verified": bool(args.verify and not problems),
            }
        )
    else:
        for receipt in receipts:
            changes = ", ".join(f"{c['policy']}:{c['path']}" for c in receipt.get("changes", []))
            print(
                f"{receipt.get('seq')} {receipt.get('time')} {receipt.get('kind')} "
                f"by {receipt.get('author')} approved by {receipt.get('approved_by')}: "
                f"{changes or receipt.get('rollback_to')} {receipt.get('hash')}"
            )
        for problem in problems:
            print(f"broken: line {problem.line}: {problem.code}: {problem.message}")
        if args.verify and not problems:
            print(f"verified: {len(receipts)} receipt(s), the files match the last one")
    return EXIT_REFUSED if problems else EXIT_OK


def _files_match(policies: Path, receipts: list[dict[str, Any]]) -> list[ChainProblem]:
    if not receipts:
        return []
    try:
        current = load_bundle(policies).hash
    except PolicyLoadError:
        current = None
    expected = receipts[-1].get("new_bundle_hash")
    if current == expected:
        return []
    return [
        ChainProblem(
            "change.files-differ",
            len(receipts),
            f"the policy files hash to {current}, not the last receipt's {expected}",
        )
    ]


def _bad_input(problems: list[Any], fmt: str) -> int:
    if fmt == "json":
        print_json({"errors": [p.to_json() for p in problems]})
    else:
        for problem in problems:
            print(problem.format(), file=sys.stderr)
    return EXIT_USAGE


def _usage(message: str) -> int:
    print(f"riskctl: error: {message}", file=sys.stderr)
    return EXIT_USAGE
