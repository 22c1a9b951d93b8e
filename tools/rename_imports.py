"""Rewrite references to the folders engine/ and venues/ as the installed package ``riskctl``.

The distribution maps engine/ to ``riskctl`` and venues/ to ``riskctl.venues`` (see
pyproject.toml), so nothing named engine or venues is installed. This script brings code
written against the old names up to date; it is idempotent, so run it after every merge:

    .venv/bin/python tools/rename_imports.py          # rewrite, then ruff-sort and format
    .venv/bin/python tools/rename_imports.py --check  # list what would change; exit 1 if any

What it rewrites, in *.py under engine/ venues/ tests/ tools/ and in README.md:

- ``from engine[.x] import ...`` -> ``from riskctl[.x] import ...``, and
  ``from venues[.x] import ...`` -> ``from riskctl.venues[.x] import ...``;
- ``import engine`` -> ``import riskctl``, and then the name ``engine`` it bound, everywhere
  in that file -> ``riskctl`` (``import engine.x`` is a dotted reference, below);
- dotted references in strings, comments and docstrings, where the part after the dot is a
  module of the folder or a name it exports: ``"engine.cli.main:main"``, ``python -m
  engine.cli``, ``mock.patch("engine.gate.x")``, ``:class:`~engine.errors.Diagnostic```.

Folder paths (``engine/gate.py``, ``tests/unit/engine/``) and other words are left alone.
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("engine", "venues", "tests", "tools")
DOCUMENTS = ("README.md",)
# folder -> the package it is installed as
PACKAGES = {"engine": "riskctl", "venues": "riskctl.venues"}
NOT_AFTER = r"(?<![\w./\\-])"  # not part of a longer name, a path or an attribute chain


def members(folder: Path) -> set[str]:
    """Module and subpackage names of a folder, and the names its __init__ exports."""
    names = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    names |= {p.parent.name for p in folder.glob("*/__init__.py")}
    init = folder / "__init__.py"
    if init.is_file():
        for node in ast.walk(ast.parse(init.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
            ):
                names |= {
                    e.value
                    for e in getattr(node.value, "elts", [])
                    if isinstance(e, ast.Constant) and isinstance(e.value, str)
                }
    return names


def rules(repo: Path) -> list[tuple[re.Pattern[str], str]]:
    """(pattern, replacement) pairs, applied in order; each leaves its own output alone."""
    out: list[tuple[re.Pattern[str], str]] = []
    for folder, package in PACKAGES.items():
        known = "|".join(sorted(map(re.escape, members(repo / folder)), key=len, reverse=True))
        out.append((re.compile(rf"{NOT_AFTER}{folder}\.(?=(?:{known})\b)"), f"{package}."))
    for folder, package in PACKAGES.items():
        head = re.compile(rf"^(\s*)from\s+{folder}(?=[\s.])", re.MULTILINE)
        out.append((head, rf"\1from {package}"))
    return out


BARE_IMPORT = re.compile(r"^(\s*)import\s+(engine|venues)\b(?!\s+as\b)(?=[\s.]|$)", re.MULTILINE)
AS_IMPORT = re.compile(r"^(\s*)import\s+(engine|venues)\b(?=[.\w\s]*\s+as\s)", re.MULTILINE)


def rewrite(text: str, compiled: list[tuple[re.Pattern[str], str]], *, python: bool) -> str:
    """The text with every old reference renamed; unchanged text when there is none."""
    for pattern, replacement in compiled:
        text = pattern.sub(replacement, text)
    if not python:
        return text
    text = AS_IMPORT.sub(lambda m: f"{m[1]}import {PACKAGES[m[2]]}", text)
    bound = {m[2] for m in BARE_IMPORT.finditer(text)}
    text = BARE_IMPORT.sub(lambda m: f"{m[1]}import {PACKAGES[m[2]]}", text)
    for name in bound:  # `import engine` bound `engine`; `import riskctl` binds `riskctl`
        text = re.sub(rf"{NOT_AFTER}{name}(?![\w/-])", PACKAGES[name], text)
    return text


def targets(repo: Path) -> list[Path]:
    own = Path(__file__).resolve()
    found = [p for root in SOURCES for p in sorted((repo / root).rglob("*.py"))]
    found += [repo / name for name in DOCUMENTS if (repo / name).is_file()]
    return [p for p in found if p.resolve() != own and "__pycache__" not in p.parts]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if needed")
    args = parser.parse_args(argv)
    compiled = rules(REPO)
    changed = []
    for path in targets(REPO):
        text = path.read_text(encoding="utf-8")
        new = rewrite(text, compiled, python=path.suffix == ".py")
        if new != text:
            changed.append(path)
            if not args.check:
                path.write_text(new, encoding="utf-8")
    for path in changed:
        print(f"{'would rewrite' if args.check else 'rewrote'} {path.relative_to(REPO)}")
    if args.check:
        return 1 if changed else 0
    python = [str(p) for p in changed if p.suffix == ".py"]
    if python:  # import order and line length change with the names
        ruff = [sys.executable, "-m", "ruff"]
        subprocess.run([*ruff, "check", "--select", "I", "--fix", "--quiet", *python], check=True)
        subprocess.run([*ruff, "format", "--quiet", *python], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
