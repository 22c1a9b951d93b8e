"""A small AST mutation run over the engine's core modules: would the tests notice?

Each mutant changes one thing in one module (a comparison, a boolean operator, a sign, a
constant, a return, ``min``/``max``); the tests relevant to that module run against it, and
a mutant that no test fails on "survived": a behaviour nothing pins. The worktree is never
touched: each worker copies the repository once into a temp dir, writes a mutant into its
copy, runs pytest there (the copy first on PYTHONPATH) and writes the original back.

    .venv/bin/python tools/mutate.py --sample 120 --seed 1 [--jobs 2] [--json out.json]
    .venv/bin/python tools/mutate.py --module engine/grid.py --mutant "engine/grid.py:20:4 -> 5"

Known-equivalent mutants (no test can tell them apart) are listed in
tools/mutants-equivalent.txt as ``module | source line | mutation  # reason`` and left out of
the score (``mutation [n]`` for the n-th, left to right, of several alike on one line). The
entry names the mutated line by its text (stripped, without its comment), not its number, so
it still matches after edits elsewhere move the line; an entry whose line was itself changed
stops matching, and that mutant is judged again.
Too slow for CI; run it by hand when changing the core or its tests.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import queue
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EQUIVALENT_FILE = REPO / "tools" / "mutants-equivalent.txt"

# module -> (top-level names whose bodies are mutated, or None for all; tests to run first)
MODULES: dict[str, tuple[tuple[str, ...] | None, tuple[str, ...]]] = {
    "engine/decide.py": (None, ("test_gate", "test_modify", "test_limits", "test_dust")),
    "engine/limits.py": (None, ("test_limits", "test_balance", "test_gate")),
    "engine/builtins.py": (None, ("test_limits", "test_conformance", "test_balance")),
    "engine/grid.py": (None, ("test_grid", "test_conformance", "test_modify")),
    "engine/money.py": (None, ("test_gate_edges", "test_context", "test_gate")),
    "engine/modify.py": (None, ("test_modify", "test_conformance", "test_limits")),
    "engine/dust.py": (None, ("test_dust",)),
    "engine/gate.py": (None, ("test_gate", "test_gate_edges", "test_reload")),
    "engine/decision.py": (None, ("test_gate", "test_modify")),
    "engine/expr.py": (("check_expression", "_Checker"), ("test_expr", "test_codegen")),
}
# Modules whose string constants include rule expressions (the built-in checks' text):
# those are mutated too, with the same operators, inside the string.
RULE_TEXT_MODULES = frozenset({"engine/builtins.py"})
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Suites too slow or too far from the core to earn their time per mutant.
SKIPPED_TESTS = (
    "test_schemagen",
    "test_yamlio",
    "test_loader",
    "test_validation",
    "test_found_bugs",  # red by design until the engine is fixed
)

_SWAPS: dict[type, type] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.And: ast.Or,
    ast.Or: ast.And,
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
}
_SYMBOL = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.And: "and",
    ast.Or: "or",
    ast.Add: "+",
    ast.Sub: "-",
}


@dataclass(frozen=True, slots=True)
class Mutant:
    module: str
    line: int
    index: int  # position of the mutated node in ast.walk order
    variant: int  # which of the node's mutations (a constant has two: +1 and -1)
    mutation: str
    occurrence: int = 0  # n-th (left to right) of several same mutations on the line; 0: one
    text: str = ""  # the mutated line's source, stripped, without a trailing comment

    @property
    def key(self) -> str:
        """``module:line:mutation`` (what ``--mutant`` takes and the run prints)."""
        return f"{self.module}:{self.line}:{self.mutation}{self._suffix}"

    @property
    def stable_key(self) -> str:
        """``module | line text | mutation``: the equivalents file's key, kept when lines move."""
        return f"{self.module} | {self.text} | {self.mutation}{self._suffix}"

    @property
    def _suffix(self) -> str:
        return f" [{self.occurrence}]" if self.occurrence else ""


@dataclass(slots=True)
class Result:
    mutant: Mutant
    status: str  # killed / survived / timeout / equivalent / error (the harness, not scored)
    seconds: float
    killed_by: str = ""


def _variants(node: ast.AST, rule_text: bool = False) -> list[tuple[str, ast.AST | None]]:
    """The mutations of one node: (description, what replaces it; None means done in place)."""
    if rule_text and isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [(f"rule text {m}", ast.Constant(t)) for m, t in _rule_text_variants(node.value)]
    if isinstance(node, ast.Compare):
        return [
            (f"{_SYMBOL[type(op)]} -> {_SYMBOL[_SWAPS[type(op)]]}", None)
            for op in node.ops
            if type(op) in _SWAPS
        ]
    if isinstance(node, ast.BoolOp | ast.BinOp) and type(node.op) in _SWAPS:
        return [(f"{_SYMBOL[type(node.op)]} -> {_SYMBOL[_SWAPS[type(node.op)]]}", None)]
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool):
            return [(f"{value} -> {not value}", ast.Constant(not value))]
        if isinstance(value, int | float):
            return [(f"{value!r} -> {value + d!r}", ast.Constant(value + d)) for d in (1, -1)]
        return []
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return [("not removed", node.operand)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        other = {"min": "max", "max": "min"}.get(node.func.id)
        if other:
            return [(f"{node.func.id} -> {other}", None)]
        return []
    if isinstance(node, ast.Return) and node.value is not None:
        if not (isinstance(node.value, ast.Constant) and node.value.value is None):
            return [("return None", ast.Return(ast.Constant(None)))]
        return []
    if isinstance(node, ast.FunctionDef):
        return [("early return", None)]
    return []


def _rule_text_variants(text: str) -> list[tuple[str, str]]:
    """Mutants of a rule expression held in a string (``{v}`` placeholders kept)."""
    code = _PLACEHOLDER.sub(r"PH_\1", text)
    try:
        ast.parse(code, mode="eval")
    except SyntaxError:
        return []  # a message, not an expression
    inner = mutants_of("<rule>", code)
    return [
        (m.mutation, re.sub(r"PH_(\w+)", r"{\1}", mutated_source(code, m).strip())) for m in inner
    ]


def _skipped_nodes(tree: ast.Module, scope: tuple[str, ...] | None) -> set[int]:
    """Ids of nodes never mutated: annotations, docstrings, __all__, out-of-scope code."""
    skipped: set[int] = set()

    def skip(node: ast.AST | None) -> None:
        if node is not None:
            skipped.update(id(n) for n in ast.walk(node))

    for top in tree.body:
        named = getattr(top, "name", None)
        if scope is not None and named not in scope:
            skip(top)
        if isinstance(top, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in top.targets
        ):
            skip(top)
    for node in ast.walk(tree):
        if isinstance(node, ast.arg | ast.AnnAssign):
            skip(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            skip(node.returns)
        if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.Module) and _docstring(node):
            skip(node.body[0])
    return skipped


def _docstring(node: ast.FunctionDef | ast.ClassDef | ast.Module) -> bool:
    first = node.body[0] if node.body else None
    return (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )


def mutants_of(module: str, source: str, scope: tuple[str, ...] | None = None) -> list[Mutant]:
    """Every mutant of ``source`` (named ``module``), in a stable order."""
    tree = ast.parse(source)
    rule_text = module in RULE_TEXT_MODULES
    skipped = _skipped_nodes(tree, scope)
    texts = _line_texts(source)
    found = []
    columns: dict[int, int] = {}
    for index, node in enumerate(ast.walk(tree)):
        if id(node) in skipped:
            continue
        for variant, (mutation, _) in enumerate(_variants(node, rule_text)):
            line = getattr(node, "lineno", 0)
            text = texts[line - 1] if 0 < line <= len(texts) else ""
            found.append(Mutant(module, line, index, variant, mutation, text=text))
            columns[index] = getattr(node, "col_offset", 0)
    return _numbered(found, columns)


_COMMENT = re.compile(r"\s+#\s.*$")  # ruff format puts two spaces before an inline comment


def _line_texts(source: str) -> list[str]:
    """Each line as the equivalents file names it: stripped, its trailing comment cut.

    A line whose text occurs more than once in the module (``exits_exempt=False,``) is
    prefixed with the nearest line above it that occurs once (``"rule_id", ... ``), so
    every text names one line.
    """
    texts = [_COMMENT.sub("", line).strip() for line in source.splitlines()]
    counts: dict[str, int] = {}
    for text in texts:
        counts[text] = counts.get(text, 0) + 1
    named = []
    for number, text in enumerate(texts):
        above = (t for t in reversed(texts[:number]) if t and counts[t] == 1)
        anchor = next(above, "") if counts[text] > 1 else ""
        named.append(f"{anchor} ... {text}" if anchor else text)
    return named


def _numbered(found: list[Mutant], columns: dict[int, int]) -> list[Mutant]:
    """Give mutants that would share a key (same line, same mutation) an occurrence number."""
    groups: dict[tuple[int, str], list[Mutant]] = {}
    for m in found:
        groups.setdefault((m.line, m.mutation), []).append(m)
    numbered: dict[tuple[int, int], int] = {}
    for group in groups.values():
        if len(group) > 1:
            ordered = sorted(group, key=lambda m: (columns[m.index], m.index, m.variant))
            numbered.update({(m.index, m.variant): n for n, m in enumerate(ordered, 1)})
    return [replace(m, occurrence=numbered.get((m.index, m.variant), 0)) for m in found]


def mutated_source(source: str, mutant: Mutant) -> str:
    """``source`` with ``mutant`` applied, as code (comments and layout are not kept)."""
    tree = ast.parse(source)
    parents = {id(c): p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    node = next(n for i, n in enumerate(ast.walk(tree)) if i == mutant.index)
    mutation, replacement = _variants(node, mutant.module in RULE_TEXT_MODULES)[mutant.variant]
    if isinstance(node, ast.Compare):
        ops = [i for i, op in enumerate(node.ops) if type(op) in _SWAPS]
        position = ops[mutant.variant]
        node.ops[position] = _SWAPS[type(node.ops[position])]()
    elif isinstance(node, ast.BoolOp | ast.BinOp):
        node.op = _SWAPS[type(node.op)]()
    elif isinstance(node, ast.Call) and replacement is None:
        assert isinstance(node.func, ast.Name)
        node.func.id = mutation.split(" -> ")[1]
    elif isinstance(node, ast.FunctionDef):
        start = 1 if _docstring(node) else 0
        node.body.insert(start, ast.Return(ast.Constant(None)))
    else:
        assert replacement is not None
        _replace(parents[id(node)], node, replacement)
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def _replace(parent: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for name, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, name, new)
            return
        if isinstance(value, list) and any(item is old for item in value):
            value[[item is old for item in value].index(True)] = new
            return
    raise AssertionError(f"{old!r} is not a child of {parent!r}")


# -- running -------------------------------------------------------------------------------


def test_files(module: str, root: Path) -> list[str]:
    """The module's own tests first (so -x stops early), then the rest of the core suites."""
    first = [f"tests/unit/engine/{name}.py" for name in MODULES[module][1]]
    rest = sorted(
        str(p.relative_to(root))
        for p in (root / "tests" / "unit" / "engine").glob("test_*.py")
        if p.stem not in SKIPPED_TESTS
    )
    extra = ["tests/unit/engine/lint"] if module == "engine/expr.py" else []
    return [*first, *(f for f in rest if f not in first), *extra, "tests/property"]


# The folders are installed as one package (engine/ -> riskctl, venues/ -> riskctl.venues),
# and the editable install links the worktree's files: each copy gets the same layout made of
# links into the copy, first on PYTHONPATH, so `import riskctl` imports the mutated copy.
_IMPORT_DIR = ".mutate-import"


def _copy_repo(into: Path) -> Path:
    target = into / "repo"
    ignore = shutil.ignore_patterns(
        ".venv", ".git", "build", "__pycache__", ".hypothesis", "*.pyc", "*.egg-info"
    )
    shutil.copytree(REPO, target, ignore=ignore)
    package = target / _IMPORT_DIR / "riskctl"
    package.mkdir(parents=True)
    for entry in (target / "engine").iterdir():
        (package / entry.name).symlink_to(entry)
    (package / "venues").symlink_to(target / "venues")
    return target


def _env(copy: Path) -> dict[str, str]:
    path = os.pathsep.join((str(copy / _IMPORT_DIR), str(copy)))
    return {**os.environ, "PYTHONPATH": path, "PYTHONDONTWRITEBYTECODE": "1"}


def _import_name(module: str) -> str:
    """``engine/decide.py`` -> ``riskctl.decide`` (the name the tests import it by)."""
    return "riskctl." + module.removeprefix("engine/").removesuffix(".py").replace("/", ".")


def _pytest(copy: Path, files: list[str], timeout: float) -> tuple[str, str]:
    """Run pytest in ``copy``; ('killed', first failure) / ('survived', '') / ('timeout', '')."""
    shutil.rmtree(copy / ".hypothesis", ignore_errors=True)
    env = _env(copy)
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
    command += ["--hypothesis-seed=1", *files]
    try:
        done = subprocess.run(
            command, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return "timeout", ""
    if done.returncode == 0:
        return "survived", ""
    if done.returncode not in (1, 2):  # 1: tests failed; 2: a collection error (an import)
        return "error", f"pytest exit {done.returncode}: {done.stdout[-300:]}"
    failed = [ln for ln in done.stdout.splitlines() if ln.startswith(("FAILED", "ERROR"))]
    return "killed", (failed[0] if failed else f"exit {done.returncode}")[:160]


def _run_one(copy: Path, mutant: Mutant, timeout: float) -> Result:
    path = copy / mutant.module
    original = (REPO / mutant.module).read_text(encoding="utf-8")
    path.write_text(mutated_source(original, mutant), encoding="utf-8")
    start = time.monotonic()
    try:
        status, by = _pytest(copy, test_files(mutant.module, copy), timeout)
    finally:
        path.write_text(original, encoding="utf-8")  # the copy, never the worktree
    return Result(mutant, status, round(time.monotonic() - start, 1), by)


def _baseline(copy: Path, modules: list[str], timeout: float) -> None:
    """The unmutated modules, rewritten by ast.unparse, must pass: else every kill is noise."""
    for module in modules:
        source = (REPO / module).read_text(encoding="utf-8")
        (copy / module).write_text(ast.unparse(ast.parse(source)) + "\n", encoding="utf-8")
    files = sorted({f for m in modules for f in test_files(m, copy)})
    # Every mutated module must import from the copy, else every mutant "survives".
    check = (
        "import importlib, os, sys\n"
        "for name, want in zip(sys.argv[1::2], sys.argv[2::2]):\n"
        "    got = os.path.realpath(importlib.import_module(name).__file__)\n"
        "    if got != os.path.realpath(want):\n"
        "        sys.exit(f'{name} imports from {got}')\n"
    )
    pairs = [arg for m in modules for arg in (_import_name(m), str(copy / m))]
    probe = [sys.executable, "-c", check, *pairs]
    if subprocess.run(probe, cwd=copy, env=_env(copy), check=False).returncode:
        sys.exit("the copy's modules are not the ones imported; the run would test the worktree")
    status, by = _pytest(copy, files, timeout * 3)
    for module in modules:
        shutil.copy(REPO / module, copy / module)
    if status != "survived":
        sys.exit(f"the unmutated suite does not pass in the copy ({status}: {by})")


def load_equivalents(path: Path = EQUIVALENT_FILE) -> set[str]:
    """``module | line text | mutation`` keys from the equivalents file (reasons after ``  #``).

    The module is what comes before the first ``|``, the mutation what comes after the last
    (the line text may hold ``|`` itself); a line starting with ``#`` is a comment.
    """
    if not path.exists():
        return set()
    keys = set()
    for raw in path.read_text("utf-8").splitlines():
        entry = raw.split("  # ", 1)[0].strip()
        if not entry or entry.startswith("#"):
            continue
        module, _, rest = entry.partition(" | ")
        text, _, mutation = rest.rpartition(" | ")
        keys.add(f"{module.strip()} | {text.strip()} | {mutation.strip()}")
    return keys


def run(mutants: list[Mutant], *, jobs: int, timeout: float) -> Iterator[Result]:
    equivalents = load_equivalents()
    with tempfile.TemporaryDirectory(prefix="riskctl-mutate-") as tmp:
        copies: queue.Queue[Path] = queue.Queue()
        for n in range(jobs):
            copies.put(_copy_repo(Path(tmp) / str(n)))
        first = copies.get()
        _baseline(first, sorted({m.module for m in mutants}), timeout)
        copies.put(first)

        def work(mutant: Mutant) -> Result:
            if mutant.stable_key in equivalents:
                return Result(mutant, "equivalent", 0.0)
            copy = copies.get()
            try:
                return _run_one(copy, mutant, timeout)
            finally:
                copies.put(copy)

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            yield from pool.map(work, mutants)


def report(results: list[Result]) -> dict[str, object]:
    """Per-module counts and the score: killed (timeouts count) / all but equivalents."""
    rows: dict[str, dict[str, int]] = {}
    for r in results:
        counts = rows.setdefault(r.mutant.module, dict.fromkeys(_STATUSES, 0))
        counts[r.status] += 1
    total = {s: sum(c[s] for c in rows.values()) for s in _STATUSES}
    print(f"{'module':<22}" + "".join(f"{s:>11}" for s in _STATUSES) + f"{'score':>8}")
    for module, counts in sorted(rows.items()):
        print(f"{module:<22}" + "".join(f"{counts[s]:>11}" for s in _STATUSES) + _pct(counts))
    print(f"{'total':<22}" + "".join(f"{total[s]:>11}" for s in _STATUSES) + _pct(total))
    survivors = [r for r in results if r.status == "survived"]
    for r in survivors:  # with the key an equivalents entry takes, should it be one
        print(f"  survived  {r.mutant.key}\n            {r.mutant.stable_key}")
    return {
        "modules": rows,
        "total": total,
        "score": _score(total),
        "results": [{**asdict(r.mutant), **asdict(r), "mutant": r.mutant.key} for r in results],
    }


_STATUSES = ("killed", "timeout", "survived", "equivalent", "error")


def _score(counts: dict[str, int]) -> float | None:
    judged = counts["killed"] + counts["timeout"] + counts["survived"]
    return round(100 * (counts["killed"] + counts["timeout"]) / judged, 1) if judged else None


def _pct(counts: dict[str, int]) -> str:
    score = _score(counts)
    return f"{score:>7}%" if score is not None else f"{'-':>8}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=120, help="mutants to run (0: all)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the sample")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run in parallel")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per mutant")
    parser.add_argument("--module", action="append", help="only these modules (repeatable)")
    parser.add_argument("--json", type=Path, help="write machine-readable results here")
    parser.add_argument("--list", action="store_true", help="list the sampled mutants only")
    parser.add_argument(
        "--mutant", action="append", help="run only the mutant with this key (repeatable)"
    )
    args = parser.parse_args(argv)
    modules = args.module or list(MODULES)
    pool = [
        m
        for module in modules
        for m in mutants_of(module, (REPO / module).read_text("utf-8"), MODULES[module][0])
    ]
    if args.mutant:
        chosen = [m for m in pool if m.key in args.mutant]
        if missing := set(args.mutant) - {m.key for m in chosen}:
            parser.error(f"no such mutant: {', '.join(sorted(missing))}")
    elif args.sample:
        chosen = random.Random(args.seed).sample(pool, args.sample)
    else:
        chosen = pool
    chosen.sort(key=lambda m: (m.module, m.index, m.variant))
    print(f"{len(chosen)} of {len(pool)} mutants, seed {args.seed}", flush=True)
    if args.list:
        for m in chosen:
            print(f"  {m.key}")
        return 0
    results = []
    for r in run(chosen, jobs=args.jobs, timeout=args.timeout):
        print(f"  {r.status:<10} {r.seconds:>6}s  {r.mutant.key}  {r.killed_by}", flush=True)
        results.append(r)
    summary = report(results)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
