"""Every diagnostic code riskctl can produce is in CATALOG, with a one-line description."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from riskctl.lint import lint_paths
from riskctl.lint.catalog import CATALOG
from riskctl.validation import CODES

REPO = Path(__file__).resolve().parents[4]
ENGINE = REPO / "engine"
DATA = REPO / "tests" / "data"
QUOTED_CODE = re.compile(r"""["']([a-z]+\.[a-z0-9]+(?:-[a-z0-9]+)+)["']""")
CODE_SHAPE = re.compile(r"^[a-z]+\.[a-z0-9]+(?:-[a-z0-9]+)*$")

NOT_CODES = {
    "riskctl.policy-test": "the JUnit failure type of a failed policy test, not a diagnostic",
}


def engine_sources() -> list[Path]:
    return sorted(ENGINE.rglob("*.py"))


def test_every_quoted_code_in_engine_is_in_the_catalog() -> None:
    quoted = {
        (path.relative_to(REPO).as_posix(), code)
        for path in engine_sources()
        for code in QUOTED_CODE.findall(path.read_text(encoding="utf-8"))
    }

    missing = sorted((where, code) for where, code in quoted if code not in CATALOG)
    assert [(w, c) for w, c in missing if c not in NOT_CODES] == []


def test_every_literal_code_given_to_diagnostic_or_expr_problem_is_in_the_catalog() -> None:
    literal = set()
    for path in engine_sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(getattr(node, "func", None), "id", None)
            if isinstance(node, ast.Call) and name in ("Diagnostic", "ExprProblem") and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    literal.add(first.value)

    assert literal
    assert literal - set(CATALOG) == set()


def test_every_code_the_pydantic_translation_produces_is_in_the_catalog() -> None:
    assert set(CODES.values()) | {"policy.wrong-type", "policy.invalid-value"} <= set(CATALOG)


def test_every_code_reported_on_any_fixture_is_in_the_catalog() -> None:
    report = lint_paths([DATA])

    assert {d.code for d in report.diagnostics} - set(CATALOG) == set()


def test_catalog_entries_are_well_formed() -> None:
    assert [code for code in CATALOG if not CODE_SHAPE.match(code)] == []
    for code, text in CATALOG.items():
        assert text.endswith("."), code
        assert "\n" not in text, code
        assert len(text) <= 100, code
