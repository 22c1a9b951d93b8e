"""tools/mutate.py generates the mutants it promises, and applies exactly one at a time."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

TOOL = Path(__file__).resolve().parents[2] / "tools" / "mutate.py"


def load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutate_tool", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutate_tool"] = module
    spec.loader.exec_module(module)
    return module


mutate = load_tool()

SOURCE = '''\
"""Docstring: 1 < 2 is not code."""


def f(a: int, b: int) -> bool:
    """Also not code."""
    if not a:
        return min(a, b) + 1 >= b
    return a < b and True
'''


def test_when_a_tiny_module_is_mutated_then_every_operator_gives_its_mutant() -> None:
    found = [(m.line, m.mutation) for m in mutate.mutants_of("m.py", SOURCE)]

    assert sorted(found) == sorted(
        [
            (4, "early return"),
            (6, "not removed"),
            (7, "return None"),
            (7, ">= -> >"),
            (7, "+ -> -"),
            (7, "min -> max"),
            (7, "1 -> 2"),
            (7, "1 -> 0"),
            (8, "return None"),
            (8, "and -> or"),
            (8, "< -> <="),
            (8, "True -> False"),
        ]
    )


def test_when_a_mutant_is_applied_then_only_that_change_is_in_the_code() -> None:
    by_name = {m.mutation: m for m in mutate.mutants_of("m.py", SOURCE)}
    original = {}
    exec(compile(SOURCE, "m.py", "exec"), original)  # noqa: S102  # our own test source
    mutated: dict[str, object] = {}
    code = mutate.mutated_source(SOURCE, by_name["< -> <="])
    exec(compile(code, "m.py", "exec"), mutated)  # noqa: S102

    assert "a <= b" in code
    assert "min(a, b) + 1 >= b" in code
    assert original["f"](2, 2) is False
    assert mutated["f"](2, 2) is True  # type: ignore[operator]


def test_when_a_module_holds_rule_text_then_the_expression_in_the_string_is_mutated() -> None:
    source = 'RULE = "order.qty > {v} and not state.kill_switch"\n'
    found = mutate.mutants_of("engine/builtins.py", source)
    texts = {m.mutation: mutate.mutated_source(source, m) for m in found}

    assert set(texts) == {"rule text > -> >=", "rule text and -> or", "rule text not removed"}
    assert "order.qty >= {v} and (not state.kill_switch)" in texts["rule text > -> >="]
    assert mutate.mutants_of("engine/other.py", source) == []


def test_when_equivalents_are_listed_then_comments_and_blank_lines_are_ignored(tmp_path) -> None:
    listed = tmp_path / "eq.txt"
    entry = "engine/x.py | if a < b | c: |  < -> <=  # same at the bound\n"
    listed.write_text("# header\n\n" + entry, "utf-8")

    assert mutate.load_equivalents(listed) == {"engine/x.py | if a < b | c: | < -> <="}


def test_when_lines_move_then_an_equivalent_mutant_keeps_its_key() -> None:
    (before,) = [m for m in mutate.mutants_of("m.py", SOURCE) if m.mutation == "< -> <="]
    moved = SOURCE.replace("def f(", "X = 0\n\n\ndef f(")
    (after,) = [m for m in mutate.mutants_of("m.py", moved) if m.mutation == "< -> <="]

    assert after.line == before.line + 3
    assert after.stable_key == before.stable_key == "m.py | return a < b and True | < -> <="


def test_when_a_line_text_repeats_then_its_key_names_the_unique_line_above() -> None:
    source = "def f(a):\n    x = a  # one\n    return x > 1\n\n\ndef g(a):\n    return x > 1\n"
    keys = sorted(m.stable_key for m in mutate.mutants_of("m.py", source) if "->" in m.mutation)

    assert "m.py | x = a ... return x > 1 | > -> >=" in keys
    assert "m.py | def g(a): ... return x > 1 | > -> >=" in keys
