"""State verbs: ``riskctl state show``, ``kill``, ``resume``, ``reset`` and ``audit``.

They open the same state file a running ``riskctl run`` uses. ``kill``, ``resume`` and
``reset`` post an operator control to it; the running process applies it before its next
decision and records it (who, when, why) in the audit log.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from riskctl.cli.output import print_json, print_problems
from riskctl.runtime import describe
from riskctl.state.audit import verify
from riskctl.state.errors import StoreError
from riskctl.state.memory_store import MemoryStore
from riskctl.state.sqlite_store import SqliteStore
from riskctl.state.store import AuditRecord, StateStore

__all__ = ["add_state_argument", "open_store", "register"]


def add_state_argument(
    parser: argparse.ArgumentParser, *, memory: bool = False, required: bool = True
) -> None:
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument(
        "--state", type=Path, metavar="FILE", help="the SQLite state file (created if missing)"
    )
    if memory:
        group.add_argument(
            "--memory",
            action="store_true",
            help="keep state in memory only: nothing survives the process (tests, what-ifs)",
        )


def open_store(args: argparse.Namespace) -> StateStore | None:
    """The store the arguments name; None after printing why it cannot be opened."""
    if getattr(args, "memory", False):
        return MemoryStore()
    try:
        return SqliteStore(args.state)
    except StoreError as exc:
        print_problems([exc.diagnostic])
        return None


def register(verbs: Any) -> None:
    state = verbs.add_parser(
        "state",
        help="show the runtime state kept in a state file",
        description="Read the state a `riskctl run` keeps in its state file.",
    )
    state_verbs = state.add_subparsers(
        dest="state_verb", required=True, metavar="VERB", help="what to read"
    )
    show = state_verbs.add_parser(
        "show",
        help="print trading state, breakers, bands, P&L",
        description="Print the trading state, kill switch, breakers, positions and P&L.",
    )
    add_state_argument(show)
    show.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default) or json"
    )
    show.set_defaults(run=_show)

    for verb, text in (
        ("kill", "engage the kill switch of the process running on a state file"),
        ("resume", "release the kill switch and return trading to ACTIVE"),
    ):
        parser = verbs.add_parser(verb, help=text, description=text)
        _operator_arguments(parser)
        parser.set_defaults(run=_post, verb_name=verb)

    reset = verbs.add_parser(
        "reset",
        help="close a breaker that waits for a manual reset",
        description="Close a tripped breaker whose policy says reset: manual.",
    )
    reset.add_argument("breaker", metavar="BREAKER", help="the breaker's name")
    _operator_arguments(reset)
    reset.set_defaults(run=_post, verb_name="reset")

    audit = verbs.add_parser("audit", help="print or verify the hash-chained audit log")
    add_state_argument(audit)
    audit.add_argument("--since", type=int, metavar="MS", help="records from this context time")
    audit.add_argument(
        "--verify", action="store_true", help="check every record's hash chain; exit 1 if broken"
    )
    audit.set_defaults(run=_audit)


def _operator_arguments(parser: argparse.ArgumentParser) -> None:
    add_state_argument(parser)
    parser.add_argument("--by", required=True, metavar="NAME", help="who acts (recorded)")
    parser.add_argument("--reason", required=True, metavar="TEXT", help="why (recorded)")


def _show(args: argparse.Namespace) -> int:
    store = open_store(args)
    if store is None:
        return 2
    try:
        view = describe(store.load().rows)
    finally:
        store.close()
    if args.format == "json":
        print_json(view)
    else:
        _print_text(view)
    return 0


def _print_text(view: dict[str, Any]) -> None:
    kill = view["kill_switch"]
    print(f"trading state  {view['trading_state']}")
    engaged = f"ENGAGED by {kill['by']} at {kill['at_ms']}: {kill['reason']}"
    print(f"kill switch    {engaged if kill['engaged'] else 'off'}")
    sections = ("breakers", "bands", "band_pairs", "alerts", "alert_pairs", "session",
                "positions", "feeds")  # fmt: skip
    for section in sections:
        values = view.get(section) or {}
        if not values and section.endswith("_pairs"):
            continue  # the per-pair detail of the section above: shown when there is some
        print(f"{section:<14} {'none' if not values else ''}")
        for name, value in values.items():
            shown = json.dumps(value, default=str) if isinstance(value, dict) else value
            print(f"  {name:<28} {shown}")


def _post(args: argparse.Namespace) -> int:
    store = open_store(args)
    if store is None:
        return 2
    try:
        control = store.post_control(
            args.verb_name,
            by=args.by,
            reason=args.reason,
            at_ms=int(time.time() * 1000),
            target=getattr(args, "breaker", ""),
        )
    finally:
        store.close()
    print_json(
        {
            "posted": control.verb,
            "id": control.id,
            "by": control.by,
            "reason": control.reason,
            "target": control.target,
            "at_ms": control.at_ms,
            "note": "applied by the running process before its next decision",
        }
    )
    return 0


def _audit(args: argparse.Namespace) -> int:
    store = open_store(args)
    if store is None:
        return 2
    try:
        if args.verify:
            counted = _Counted(store.audit())  # the chain is verified from its start
            problems = verify(counted, path=str(args.state))
            if problems:
                print_problems(problems)
                return 1
            print(f"audit log intact: {counted.count} records verified")
            return 0
        for record in store.audit(args.since):
            out = record.as_json()
            out["body"] = dict(record.body)
            sys.stdout.write(json.dumps(out, default=str) + "\n")
    finally:
        store.close()
    return 0


class _Counted:
    """Records passed through, counted: verify streams them, so nothing is held."""

    def __init__(self, records: Iterator[AuditRecord]) -> None:
        self._records = records
        self.count = 0

    def __iter__(self) -> Iterator[AuditRecord]:
        for record in self._records:
            self.count += 1
            yield record
