"""``riskctl``: the command line. One module per verb; this one only dispatches.

Exit codes: 0 success; 1 findings, failed tests or a rejected proposal; 2 usage or
internal error. Bad input never ends in a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import Any

from riskctl.cli import (
    change_cmd,
    eval_cmd,
    lint,
    run_cmd,
    schema,
    show,
    state_cmd,
    test_cmd,
)
from riskctl.errors import redact

__all__ = ["main"]

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # argparse exits with 2 too
        self.print_usage(sys.stderr)
        print(f"riskctl: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="riskctl", description="A risk gate for trading bots, as policy-as-code.")
    parser.add_argument(
        "--version", action="version", version=f"riskctl {_version()}", help="print the version"
    )
    verbs = parser.add_subparsers(
        dest="verb", required=True, parser_class=_Parser, metavar="VERB", help="what to do"
    )
    for module in (lint, test_cmd, schema, show, eval_cmd, run_cmd, state_cmd, change_cmd):
        module.register(verbs)
    _register_venue_commands(verbs)
    return parser


def _register_venue_commands(verbs: Any) -> None:
    """``config``, ``cancel-all``, ``reconcile``: the tool layer assembles venue commands; the
    module imports nothing heavy until a command runs, so this costs no start-up time."""
    from riskctl.venues import cli as venue_cli  # noqa: PLC0415  # the CLI layer, not the engine

    venue_cli.register(verbs)


def _version() -> str:
    try:
        return metadata.version("riskctl")
    except metadata.PackageNotFoundError:  # running from a tree that was never installed
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except KeyboardInterrupt:
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001  # the CLI's last line of defence: report, never trace
        print(f"riskctl: internal error: {redact(f'{type(exc).__name__}: {exc}')}", file=sys.stderr)
        return EXIT_USAGE
    return code


if __name__ == "__main__":
    raise SystemExit(main())
