"""Properties of the expression checker: only the stage's own fields, never private names."""

from __future__ import annotations

import keyword

from hypothesis import assume, given
from hypothesis import strategies as st

from riskctl.context import STAGES
from riskctl.expr import check_expression
from riskctl.symbols import Type, symbol_table

IDENT = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,12}", fullmatch=True).filter(
    lambda s: not keyword.iskeyword(s)
)
PRIVATE = st.from_regex(r"_[A-Za-z0-9_]{0,12}", fullmatch=True)
STAGE = st.sampled_from(STAGES)
ALL_PATHS = sorted({p for s in STAGES for p in symbol_table(s).fields})


@st.composite
def dotted_names(draw: st.DrawFn) -> str:
    """Random paths, and near misses built from real ones (a segment swapped or appended)."""
    if draw(st.booleans()):
        return ".".join(draw(st.lists(IDENT, min_size=1, max_size=4)))
    parts = draw(st.sampled_from(ALL_PATHS)).split(".")
    how = draw(st.sampled_from(["swap", "append", "drop-root"]))
    if how == "swap":
        parts[draw(st.integers(0, len(parts) - 1))] = draw(IDENT)
    elif how == "append":
        parts.append(draw(IDENT))
    elif len(parts) > 1:
        parts = parts[1:]
    return ".".join(parts)


@given(name=dotted_names(), stage=STAGE)
def test_when_name_is_not_in_the_stage_table_then_it_never_checks(name: str, stage: str) -> None:
    table = symbol_table(stage)
    assume(name not in table.fields)
    for text, expect in (
        (name, Type.BOOL),
        (name, Type.NUMBER),
        (f"{name} == {name}", Type.BOOL),
        (f"abs({name}) > 1", Type.BOOL),
        (f"{name} is None", Type.BOOL),
    ):
        checked, problem = check_expression(text, stage, expect=expect)
        assert checked is None, f"{text!r} checked at {stage}"
        assert problem is not None


@given(name=dotted_names(), stage=STAGE)
def test_when_unknown_name_is_refused_then_code_explains_it(name: str, stage: str) -> None:
    table = symbol_table(stage)
    assume(name not in table.fields)
    _, problem = check_expression(f"{name} == 1", stage, expect=Type.BOOL)
    assert problem is not None
    assert problem.code in {"expr.unknown-name", "expr.wrong-stage", "expr.not-a-value"}
    if problem.code == "expr.wrong-stage":
        assert any(name in symbol_table(s).fields for s in STAGES if s != stage)
    if problem.code == "expr.not-a-value":
        assert name in table.objects


@given(
    private=PRIVATE,
    base=st.sampled_from(ALL_PATHS),
    position=st.integers(0, 4),
    stage=STAGE,
    template=st.sampled_from(["{p}", "{p} > 1", "{p} == 'x'", "abs({p}) > 0", "{p} is None"]),
)
def test_when_a_name_starts_with_underscore_then_it_never_checks(
    private: str, base: str, position: int, stage: str, template: str
) -> None:
    parts = base.split(".")
    parts.insert(min(position, len(parts)), private)
    text = template.format(p=".".join(parts))
    for expect in (Type.BOOL, Type.NUMBER):
        checked, problem = check_expression(text, stage, expect=expect)
        assert checked is None, f"{text!r} checked at {stage}"
        assert problem is not None
        assert problem.code == "expr.forbidden", (text, problem)


@given(path=st.sampled_from(ALL_PATHS), stage=STAGE)
def test_when_name_is_a_number_field_of_the_stage_then_it_checks_as_a_number(
    path: str, stage: str
) -> None:
    field = symbol_table(stage).fields.get(path)
    checked, problem = check_expression(path, stage, expect=Type.NUMBER)
    if field is not None and field.type is Type.NUMBER:
        assert problem is None
        assert checked is not None
        assert checked.fields == (path,)
    else:
        assert checked is None
