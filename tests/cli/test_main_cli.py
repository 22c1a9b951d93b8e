"""``riskctl`` itself: its version, and a description on every verb and option in --help."""

from __future__ import annotations

import argparse
from importlib import metadata

from clikit import riskctl

from riskctl.cli.main import build_parser


def _parsers(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    """The parser and every verb's parser below it, each with the command that reaches it."""
    found = [(parser.prog, parser)]
    for action in parser._actions:  # argparse keeps its actions nowhere public
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _parsers(sub)
    return found


def _undescribed(parser: argparse.ArgumentParser) -> list[str]:
    missing = []
    for action in parser._actions:
        if not (action.help or "").strip():
            missing.append(action.dest)
        if isinstance(action, argparse._SubParsersAction):
            described = {a.dest for a in action._choices_actions if (a.help or "").strip()}
            missing += [f"verb {verb}" for verb in action.choices if verb not in described]
    return missing


def test_every_verb_and_every_option_of_every_verb_has_a_description() -> None:
    parsers = _parsers(build_parser())

    assert {prog for prog, _ in parsers} >= {f"riskctl {v}" for v in ("lint", "test", "eval")}
    assert {prog: _undescribed(p) for prog, p in parsers if _undescribed(p)} == {}


def test_when_an_option_has_no_description_then_the_walk_reports_it() -> None:
    parser = build_parser()
    parser.add_argument("--bare")
    verbs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    verbs.add_parser("quiet")

    assert _undescribed(parser) == ["verb quiet", "bare"]


def test_version_prints_the_installed_distribution_version() -> None:
    done = riskctl("--version")

    assert done.returncode == 0
    assert done.stdout == f"riskctl {metadata.version('riskctl')}\n"
