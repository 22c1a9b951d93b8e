"""``riskctl propose``, ``apply``, ``history``, ``rollback``: change control (issue 19).

Each verb is a thin layer over :mod:`riskctl.change.api`. Exit codes: 0 acceptable /
applied / chain intact / nothing due; 1 refused, stale or broken; 2 bad input (a bad
proposal is reported file:line:col like a policy). Refusals are printed as text or, with
``--format json``, as objects with ``code``, ``path``, ``message`` and, where a number
bounds the change, ``limit`` and ``allowed_range``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from riskctl import change as api
from riskctl.atomic import write_text_atomic
from riskctl.change.checks import Refusal
from riskctl.change.impact import preview_plan
from riskctl.change.plan import PLAN_FORMAT, Plan, plan_change
from riskctl.change.proposal import load_proposal
from riskctl.change.restore import plan_rollback
from riskctl.cli.output import print_json
from riskctl.errors import PolicyLoadError

__all__ = ["register"]

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
POLICIES = Path("policies")
_FORMAT_HELP = "output format: text (default) or json (machine-readable refusals)"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def register(verbs: Any) -> None:
    _register_propose(verbs)
    _register_apply(verbs)
    _register_history(verbs)
    _register_rollback(verbs)


def _policies_option(parser: argparse.ArgumentParser, *, default: Path | None = POLICIES) -> None:
    parser.add_argument(
        "--policies",
        type=_directory,
        default=default,  # not a given value: checked where it is used (_missing)
        metavar="DIR",
        help="policy directory (default: policies); its change log is DIR/.riskctl/changes.jsonl",
    )


def _directory(text: str) -> Path:
    """A --policies value: an existing directory, or a usage error naming it (a typo must
    not read as "no change log, nothing to do")."""
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: no such directory")
    return path


def _missing(policies: Path | None) -> int | None:
    """A usage error when the default policies/ is not there (given values are checked by
    _directory); None when the directory exists."""
    if policies is None or policies.is_dir():
        return None
    return _usage(f"{policies}: no such directory (give --policies DIR)")


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
        help="apply a plan written by propose --out (or --expire-due); exit 1 if refused",
        description="Apply a plan: stale check, atomic writes, version bump, receipt. With "
        "--expire-due: revert the temporary overrides whose expires_at has passed.",
    )
    parser.add_argument(
        "plan", nargs="?", type=Path, help="the plan JSON written by riskctl propose --out"
    )
    parser.add_argument(
        "--approved-by", metavar="NAME", help="the human approving (not the proposal's author)"
    )
    parser.add_argument(
        "--expire-due",
        action="store_true",
        help="instead of a plan: revert every override of --policies whose expires_at has "
        "passed, each with an expiry receipt; exit 0 when none is due or all were reverted",
    )
    _policies_option(parser, default=None)  # a plan names its own directory
    parser.add_argument(
        "--now",
        type=_iso_time,
        metavar="ISO",
        help="with --expire-due: the time to expire at, ISO 8601 with a zone "
        "(default: the current UTC time)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help=_FORMAT_HELP)
    parser.set_defaults(run=_apply)


def _iso_time(text: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no zone; add Z or +00:00")
    return when


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
        print_json(api.tool_schema())
        return EXIT_OK
    if args.proposal is None:
        return _usage("give a proposal file (or --tool-schema)")
    if (missing := _missing(args.policies)) is not None:
        return missing
    proposal, problems, text = load_proposal(args.proposal)
    if proposal is None:
        return _bad_input(problems, args.format)
    try:
        plan = plan_change(args.policies, proposal, proposal_text=text, now=_now())
        if args.against is not None and plan.new_bundle_hash is not None:
            plan.impact = preview_plan(plan, args.against)
    except PolicyLoadError as exc:
        return _bad_input(list(exc.diagnostics), args.format)
    except OSError as exc:
        return _usage(f"cannot read {exc.filename}: {exc.strerror}")
    if args.out is not None:
        write_text_atomic(args.out, json.dumps(plan.to_json(), indent=2, sort_keys=True) + "\n")
    _show_plan(plan, args.format)
    return EXIT_OK if plan.acceptable else EXIT_REFUSED


def _show_plan(plan: Plan, fmt: str) -> None:
    data = plan.to_json()
    if fmt == "json":
        data.pop("source", None)
        print_json(data)
        return
    verdict = "acceptable" if plan.acceptable else "REFUSED"
    print(f"plan: {verdict}; base {plan.base_bundle_hash}; after {plan.new_bundle_hash}")
    expires = (plan.source.get("proposal") or {}).get("expires_at")
    if expires:
        print(f"temporary: reverts itself at {expires} (riskctl run, apply --expire-due)")
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
    if args.expire_due:
        if args.plan is not None or args.approved_by is not None:
            return _usage("--expire-due takes --policies, not a plan or --approved-by")
        if (missing := _missing(args.policies or POLICIES)) is not None:
            return missing
        return _expire_due(args.policies or POLICIES, now=args.now or _now(), fmt=args.format)
    if args.plan is None:
        return _usage("give a plan file (or --expire-due --policies DIR)")
    if args.now is not None or args.policies is not None:
        return _usage("--now and --policies are for --expire-due; a plan names its directory")
    try:
        saved = json.loads(args.plan.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return _usage(f"cannot read the plan {args.plan}: {exc}")
    if not isinstance(saved, dict) or saved.get("format") != PLAN_FORMAT:
        return _usage(f"{args.plan} is not a plan written by riskctl propose --out")
    return _apply_saved(saved, approved_by=args.approved_by, fmt=args.format)


def _apply_saved(saved: dict[str, Any], *, approved_by: str | None, fmt: str) -> int:
    try:
        result = api.apply(saved, approved_by=approved_by, now=_now())
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
    if (missing := _missing(args.policies)) is not None:
        return missing
    try:
        plan = plan_rollback(args.policies, args.to, author=args.by)
    except PolicyLoadError as exc:
        return _bad_input(list(exc.diagnostics), args.format)
    if plan.refusals:
        _show_refusals(plan.refusals, args.format)
        return EXIT_REFUSED
    return _apply_saved(plan.to_json(), approved_by=args.approved_by, fmt=args.format)


def _expire_due(policies: Path, *, now: dt.datetime, fmt: str) -> int:
    try:
        report = api.expire_due(policies, now=now)
    except PolicyLoadError as exc:
        return _bad_input(list(exc.diagnostics), fmt)
    if fmt == "json":
        print_json(report.to_json())
        return EXIT_OK if report.ok else EXIT_REFUSED
    for refusal in report.refusals:
        print(f"refused: {refusal.format()}")
    if not report.expired and not report.refusals:
        print(f"expire: nothing due at {now.isoformat()}")
    for item in report.expired:
        receipt = item.result.receipt
        if receipt is None:
            for refusal in item.result.refusals:
                print(f"override {item.seq}: refused: {refusal.format()}")
            continue
        print(f"expired: override {item.seq} (expires_at {item.expires_at.isoformat()}): "
              f"receipt {receipt['seq']} {receipt['hash']}")  # fmt: skip
        for reverted in receipt.get("changes", []):
            print(f"  reverted {reverted['policy']}:{reverted['path']}: "
                  f"{_shown(reverted['from'])} -> {_shown(reverted['to'])}")  # fmt: skip
        for kept in receipt.get("superseded", []):
            print(f"  superseded {kept['policy']}:{kept['path']}: changed since the override "
                  f"(now {_shown(kept['current'])}); left as it is")  # fmt: skip
    return EXIT_OK if report.ok else EXIT_REFUSED


def _show_refusals(refusals: list[Refusal], fmt: str) -> None:
    if fmt == "json":
        print_json({"applied": False, "refusals": [r.to_json() for r in refusals]})
        return
    for refusal in refusals:
        print(f"refused: {refusal.format()}")


# -- history ------------------------------------------------------------------------------


def _summary(receipt: dict[str, Any]) -> dict[str, Any]:
    keys = ("seq", "kind", "time", "author", "approved_by", "changes", "rollback_to",
            "reverts", "reverts_seq", "superseded", "watchdog")  # fmt: skip
    shown = {k: receipt.get(k) for k in keys}
    shown.update(
        old_bundle_hash=receipt.get("old_bundle_hash"),
        new_bundle_hash=receipt.get("new_bundle_hash"),
        prev=receipt.get("prev"),
        hash=receipt.get("hash"),
    )
    return shown


def _history(args: argparse.Namespace) -> int:
    if (missing := _missing(args.policies)) is not None:
        return missing
    found = api.history(args.policies, verify=args.verify)
    receipts, problems = found.receipts, found.problems
    if args.format == "json":
        print_json(
            {
                "receipts": [_summary(r) for r in receipts],
                "problems": [p.to_json() for p in problems],
                "verified": found.verified,
            }
        )
    else:
        for receipt in receipts:
            print(
                f"{receipt.get('seq')} {receipt.get('time')} {receipt.get('kind')} "
                f"by {receipt.get('author')} approved by {receipt.get('approved_by')}: "
                f"{_what(receipt)} {receipt.get('hash')}"
            )
        for problem in problems:
            print(f"broken: line {problem.line}: {problem.code}: {problem.message}")
        if found.verified:
            print(f"verified: {len(receipts)} receipt(s), the files match the last one")
    return EXIT_REFUSED if problems else EXIT_OK


def _what(receipt: dict[str, Any]) -> str:
    """What a receipt did, in a few words, for the history listing."""
    changed = ", ".join(f"{c['policy']}:{c['path']}" for c in receipt.get("changes", []))
    kind = receipt.get("kind")
    if kind == "expiry":
        return f"expiry of {receipt.get('reverts_seq')}: {changed or 'nothing left to revert'}"
    if kind == "watchdog":
        metric = (receipt.get("watchdog") or {}).get("metric")
        return f"watchdog reverted {receipt.get('reverts_seq')} ({metric})"
    expires = (receipt.get("proposal") or {}).get("expires_at")
    if kind == "change" and expires:
        return f"{changed} (until {expires})"
    return changed or f"to {receipt.get('rollback_to')}"


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
