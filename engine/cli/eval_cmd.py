"""``riskctl eval --policies DIR --stage STAGE --input FILE``: print the decision as JSON.

Exit 0 when the context was evaluated, whatever the outcome; 2 when the policies or the
input are bad, with every problem located (file:line:col and JSON pointer).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from riskctl.cli.output import print_json
from riskctl.context import CONTEXTS
from riskctl.errors import Diagnostic, PolicyLoadError
from riskctl.gate import Gate
from riskctl.validation import diagnostics_from
from riskctl.yamlio import parse_yaml, read_yaml

__all__ = ["register", "run"]

_EMPTY = "the context is empty: the input holds no JSON or YAML document"


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "eval",
        help="evaluate one stage context and print the decision",
        description="Evaluate one stage context against the policies; print the decision JSON.",
    )
    parser.add_argument(
        "--policies",
        type=Path,
        nargs="+",
        default=[Path("policies")],
        metavar="PATH",
        help="policy files or directories (default: policies)",
    )
    parser.add_argument(
        "--stage", required=True, choices=tuple(CONTEXTS), help="the stage the context is for"
    )
    parser.add_argument(
        "--input",
        required=True,
        metavar="FILE",
        help="context as JSON or YAML; '-' reads standard input",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        gate = Gate.from_path(*args.policies)
    except PolicyLoadError as exc:
        return _fail(exc.diagnostics)
    if args.input == "-":
        source, problems = parse_yaml(sys.stdin.read(), "<stdin>", long_ints=True, empty=_EMPTY)
    else:
        source, problems = read_yaml(Path(args.input), args.input, long_ints=True, empty=_EMPTY)
    if source is None:
        return _fail(problems)
    model = CONTEXTS[args.stage]
    try:
        context = gate.context(args.stage, source.data)
    except ValidationError as exc:
        if model.cancel_in(source.data):  # a cancel is never blocked: the gate says why
            print_json(gate.evaluate(args.stage, source.data).to_json())
            return 0
        located = diagnostics_from(
            exc, locate=lambda p, k: source.location(p, at_key=k), model=model, namespace="context"
        )
        return _fail(located)
    print_json(gate.evaluate(args.stage, context).to_json())
    return 0


def _fail(problems: Any) -> int:
    for problem in sorted(problems, key=Diagnostic.sort_key):
        print(problem.format(), file=sys.stderr)
    return 2
