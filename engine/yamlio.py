"""YAML in and out: round-trip loading with hard limits, plain data, and field -> line:col.

Policies are read with ruamel.yaml in round-trip mode (YAML 1.2, so ``yes`` stays a
string and comments survive for later in-place edits). Every failure becomes a
located :class:`~riskctl.errors.Diagnostic`; nothing here raises on bad input.

Limits that keep a hostile file from hanging the loader:

* files larger than :data:`MAX_FILE_BYTES` are refused before parsing;
* converting to plain data visits at most :data:`MAX_NODES` nodes, so an alias bomb
  (``a: &a [*b, *b, ...]``) is refused instead of expanded.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import DocumentStartEvent, NodeEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from riskctl.errors import Diagnostic, Location

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "TEST_SUFFIXES",
    "LoadedYaml",
    "dump_roundtrip",
    "locate",
    "missing_file",
    "pointer",
    "read_text",
    "read_yaml",
]

MAX_FILE_BYTES = 1024 * 1024
MAX_NODES = 100_000

PathTuple = tuple[str | int, ...]


def pointer(path: Sequence[str | int]) -> str:
    """JSON pointer (RFC 6901) of a field path."""
    parts = (str(p).replace("~", "~0").replace("/", "~1") for p in path)
    return "".join("/" + p for p in parts)


class _ExactConstructor(RoundTripConstructor):
    """Round-trip constructor that remembers each float's text, so it converts exactly."""

    def construct_yaml_float(self, node: Any) -> Any:
        value = super().construct_yaml_float(node)
        if isinstance(value, float):
            # ScalarFloat has a __dict__; plain floats (inf, nan) need no exact text
            with contextlib.suppress(AttributeError):
                value.exact_text = node.value  # type: ignore[attr-defined]
        return value


_ExactConstructor.add_constructor("tag:yaml.org,2002:float", _ExactConstructor.construct_yaml_float)


def _represent_decimal(representer: Any, value: Decimal) -> Any:
    """A Decimal written as its exact text (an int or a plain decimal), never via float."""
    text = format(value, "f")
    tag = "tag:yaml.org,2002:float" if "." in text else "tag:yaml.org,2002:int"
    return representer.represent_scalar(tag, text)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Constructor = _ExactConstructor
    yaml.representer.add_representer(Decimal, _represent_decimal)
    yaml.allow_duplicate_keys = False
    return yaml


@dataclass(frozen=True, slots=True)
class LoadedYaml:
    """One parsed YAML document: the round-trip tree (for locations) and plain data."""

    path: str
    text: str
    root: Any
    data: Any

    def location(self, path: Sequence[str | int], *, at_key: bool = False) -> Location:
        line, column = locate(self.root, path, at_key=at_key)
        return Location(self.path, line, column, pointer(path))

    def location_in_scalar(self, path: Sequence[str | int], line: int, column: int) -> Location:
        """Where (0-based) ``line``:``column`` of a string value's content sits in the file.

        Handles plain and quoted one-line scalars, ``|`` literal blocks (lines map to lines)
        and ``>`` folded blocks or multi-line plain scalars (lines joined by single spaces).
        Falls back to the value's start when the layout is anything else.
        """
        base = self.location(path)
        lines = self.text.splitlines()
        if not 0 < base.line <= len(lines):
            return base
        first = lines[base.line - 1][base.column - 1 :]
        if first[:1] in "|>":
            block = _block_lines(lines, base.line)
            segments = [(base.line + 1 + i, text) for i, text in enumerate(block)]
            if first[0] == "|":
                segments = segments[line : line + 1]
                line = 0
        else:
            quote = 1 if first[:1] in "'\"" else 0
            segments = [(base.line, " " * (base.column - 1 + quote) + first[quote:])]
            segments += [
                (base.line + 1 + i, t) for i, t in enumerate(_block_lines(lines, base.line))
            ]
        found = _walk_segments(segments, column) if line == 0 else None
        if found is None:
            return base
        return Location(self.path, found[0], found[1], base.pointer)


_NO_POLICY = "the file holds no policy document"


def read_yaml(
    path: Path, display: str | None = None, *, long_ints: bool = False, empty: str = _NO_POLICY
) -> tuple[LoadedYaml | None, list[Diagnostic]]:
    """Read one policy file. Returns the document, or ``None`` and the reasons it was refused.

    ``long_ints`` keeps integers of any length (a context: its model refuses them, located,
    and a cancel still passes); otherwise one over 1,000 digits is ``yaml.bad-number``.
    ``empty`` is what ``yaml.empty`` says when the file holds no document.
    """
    shown = display or str(path)
    text, problem = read_text(path, shown)
    if problem is not None:
        return None, [problem]
    return parse_yaml(text, shown, long_ints=long_ints, empty=empty)


def read_text(path: Path, shown: str | None = None) -> tuple[str, Diagnostic | None]:
    """A policy file's text, read safely: regular files only, never past the size limit."""
    shown = shown or str(path)
    try:
        if not path.exists():
            return "", missing_file(shown)
        if not path.is_file():  # a FIFO would block, a device never end
            return "", _diag(shown, "file.unreadable", "cannot read the file: not a regular file")
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)  # never more than the limit into memory
    except OSError as exc:
        return "", _diag(shown, "file.unreadable", f"cannot read the file: {exc.strerror}")
    if len(raw) > MAX_FILE_BYTES:
        limit = f"the file is over {MAX_FILE_BYTES} bytes, the limit for a policy file"
        return "", _diag(shown, "file.too-large", limit)
    return _decode(raw, shown)


def missing_file(shown: str | Path) -> Diagnostic:
    """``file.not-found``: the one report for a path given to riskctl that does not exist."""
    return _diag(str(shown), "file.not-found", "no such file or directory")


def parse_yaml(
    text: str, shown: str, *, long_ints: bool = False, empty: str = _NO_POLICY
) -> tuple[LoadedYaml | None, list[Diagnostic]]:
    """Parse YAML text that holds exactly one document (keywords: see :func:`read_yaml`)."""
    try:
        docs = list(_yaml().load_all(io.StringIO(text)))
    except MarkedYAMLError as exc:
        return None, [_from_marked(exc, shown, text)]
    except YAMLError as exc:  # unmarked: still say which file
        return None, [_diag(shown, "yaml.syntax", _clean(str(exc)))]
    except RecursionError:
        return None, [_diag(shown, "yaml.too-deep", "the document nests too deeply to load")]
    except ValueError as exc:  # e.g. an integer longer than Python converts (4300 digits)
        return None, [_diag(shown, "yaml.bad-number", f"a value cannot be read: {exc}")]
    if not docs or all(d is None for d in docs):
        return None, [_diag(shown, "yaml.empty", empty)]
    if len(docs) > 1:
        line = _second_document_line(text)
        return None, [
            _diag(
                shown,
                "yaml.multi-document",
                "the file holds more than one YAML document; put one policy document in each file",
                line=line,
            )
        ]
    root = docs[0]
    budget = _Budget(MAX_NODES, long_ints=long_ints)
    try:
        data = _plain(root, budget)
    except _BadNumberError as bad:
        line, column = locate(root, bad.path)
        return None, [_diag(shown, "yaml.bad-number", bad.message, line=line, column=column)]
    except _TooManyNodesError:
        return None, [
            _diag(
                shown,
                "yaml.too-many-nodes",
                f"the document expands to more than {MAX_NODES} values "
                "(anchors and aliases multiply); refusing to load it",
            )
        ]
    return LoadedYaml(shown, text, root, data), []


def dump_roundtrip(root: Any) -> str:
    """Serialise a round-trip tree back to YAML text, keeping comments and layout."""
    out = io.StringIO()
    _yaml().dump(root, out)
    return out.getvalue()


# -- locations -------------------------------------------------------------------------


def locate(root: Any, path: Sequence[str | int], *, at_key: bool = False) -> tuple[int, int]:
    """1-based (line, column) of the value at ``path``, or of the deepest part that exists.

    ``at_key`` points at the key instead of its value (for unknown keys). ruamel's
    ``lc`` positions are 0-based; this is the one place they are shifted.
    """
    node = root
    line, col = _own_position(root)
    for depth, step in enumerate(path):
        last = depth == len(path) - 1
        found = _child_position(node, step, key=at_key and last)
        if found is None:
            break
        line, col = found
        node = node[step]
    return line + 1, col + 1


def _block_lines(lines: list[str], key_line: int) -> list[str]:
    """Continuation lines of a scalar whose key is on 1-based ``key_line``."""
    key_indent = len(lines[key_line - 1]) - len(lines[key_line - 1].lstrip())
    block = []
    for text in lines[key_line:]:
        if text.strip() and len(text) - len(text.lstrip()) <= key_indent:
            break
        block.append(text)
    return block


def _walk_segments(segments: list[tuple[int, str]], offset: int) -> tuple[int, int] | None:
    """Map an offset in the space-joined, stripped segments to a 1-based (line, column)."""
    for number, text in segments:
        content = text.strip()
        if not content:
            continue
        if offset <= len(content):
            indent = len(text) - len(text.lstrip())
            return number, indent + offset + 1
        offset -= len(content) + 1
    return None


def _own_position(node: Any) -> tuple[int, int]:
    lc = getattr(node, "lc", None)
    if lc is None or lc.line is None:
        return (0, 0)
    return (lc.line, lc.col)


def _child_position(node: Any, step: str | int, *, key: bool) -> tuple[int, int] | None:
    try:
        if isinstance(node, CommentedMap) and step in node:
            pos = node.lc.key(step) if key else node.lc.value(step)
            return (pos[0], pos[1])
        if isinstance(node, CommentedSeq) and isinstance(step, int) and 0 <= step < len(node):
            pos = node.lc.item(step)
            return (pos[0], pos[1])
    except (KeyError, IndexError, TypeError):  # merged keys (<<) carry no position of their own
        return None
    return None


# -- conversion to plain data ------------------------------------------------------------


class _TooManyNodesError(Exception):
    pass


class _BadNumberError(Exception):
    """A number too long to convert; ``path`` grows as the error rises to the root."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.path: list[str | int] = []


# Python refuses to print integers of more than 4,300 digits; no limit comes near this.
_MAX_INT_DIGITS = 1000
_MAX_INT_BITS = int(_MAX_INT_DIGITS * 3.33)


class _Budget:
    __slots__ = ("left", "long_ints")

    def __init__(self, left: int, *, long_ints: bool) -> None:
        self.left = left
        self.long_ints = long_ints

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise _TooManyNodesError


def _plain(node: Any, budget: _Budget) -> Any:
    """Plain dict/list/str/int/Decimal/bool/None; floats become the exact Decimal written."""
    budget.spend()
    if isinstance(node, dict):
        return {_plain_key(k): _plain_at(k, v, budget) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain_at(i, v, budget) for i, v in enumerate(node)]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        if node.bit_length() > _MAX_INT_BITS and not budget.long_ints:
            raise _BadNumberError(
                f"an integer of more than {_MAX_INT_DIGITS} digits cannot be a policy value"
            )
        return int(node)
    if isinstance(node, float):
        return _exact(node)
    if isinstance(node, str):
        return str(node)
    return node  # dates and other scalars pass through for pydantic to judge


def _plain_at(step: Any, node: Any, budget: _Budget) -> Any:
    try:
        return _plain(node, budget)
    except _BadNumberError as bad:
        bad.path.insert(0, step if isinstance(step, int) else str(step))
        raise


def _exact(value: float) -> Decimal:
    """The Decimal the YAML text spelled (``0.12345678901234567`` stays exact)."""
    text = getattr(value, "exact_text", None)
    if text is not None:
        try:
            exact = Decimal(text.replace("_", ""))
        except InvalidOperation:
            exact = None
        if exact is not None and exact.is_finite():
            return exact
    return Decimal(repr(float(value)))


def _plain_key(key: Any) -> Any:
    return str(key) if isinstance(key, str) else key


# -- diagnostics ----------------------------------------------------------------------


def _diag(path: str, code: str, message: str, *, line: int = 1, column: int = 1) -> Diagnostic:
    return Diagnostic(code, message, Location(path, line, column))


_BOM = b"\xef\xbb\xbf"


def _decode(raw: bytes, shown: str) -> tuple[str, Diagnostic | None]:
    body = raw[len(_BOM) :] if raw.startswith(_BOM) else raw
    try:
        return body.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        start = exc.start
        line_start = body.rfind(b"\n", 0, start) + 1
        line = body.count(b"\n", 0, start) + 1
        # columns count characters, as an editor shows them
        column = len(body[line_start:start].decode("utf-8", errors="replace")) + 1
        byte = body[start : start + 1].hex()
        return "", _diag(
            shown,
            "file.not-utf8",
            f"byte 0x{byte} is not valid UTF-8; policy files must be UTF-8 text",
            line=line,
            column=column,
        )


_SYNTAX_CODES = {
    "DuplicateKeyError": "yaml.duplicate-key",
}


def _from_marked(exc: MarkedYAMLError, shown: str, text: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = _clean(exc.problem or "")
    code = _SYNTAX_CODES.get(type(exc).__name__, "yaml.syntax")
    if "'\\t'" in problem:
        code = "yaml.tab-indent"
        problem = "a tab character where YAML needs spaces (indentation or before a value)"
    elif code == "yaml.duplicate-key":
        problem = _duplicate_message(problem, exc, text)
    elif exc.context:
        problem = f"{_clean(exc.context)}: {problem}"
    return _diag(shown, code, problem, line=line, column=column)


_DUP = re.compile(r'found duplicate key "(?P<key>[^"]*)"')


def _duplicate_message(problem: str, exc: MarkedYAMLError, text: str) -> str:
    match = _DUP.search(problem)
    key = match.group("key") if match else "?"
    first = _first_key_line(text, exc, key)
    where = f" (first on line {first})" if first is not None else ""
    return (
        f"the key {key!r} appears twice in the same mapping{where}; the second would silently win"
    )


def _first_key_line(text: str, exc: MarkedYAMLError, key: str) -> int | None:
    """The line of ``key``'s first occurrence in the mapping the duplicate error names.

    The constructor raises at the second occurrence and marks only the mapping's start;
    composing (which keeps duplicates) finds that mapping and its first such key.
    """
    mark = exc.context_mark
    if mark is None:
        return None
    try:
        roots = list(_yaml().compose_all(io.StringIO(text)))
    except YAMLError:
        return None
    for node in _mappings(roots):
        if (node.start_mark.line, node.start_mark.column) != (mark.line, mark.column):
            continue
        lines: list[int] = [k.start_mark.line + 1 for k, _ in node.value if _is_key(k, key)]
        if len(lines) > 1:
            return lines[0]
    return None


def _is_key(node: Node, key: str) -> bool:
    return isinstance(node, ScalarNode) and node.value == key


def _mappings(roots: list[Node]) -> Iterator[MappingNode]:
    """Every mapping node under ``roots``, each once (aliases share nodes), without recursion."""
    seen: set[int] = set()
    todo = [r for r in roots if r is not None]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            yield node
            todo += [n for pair in node.value for n in pair]
        elif isinstance(node, SequenceNode):
            todo += node.value


def _clean(text: str) -> str:
    return " ".join(text.split())


def _document_starts(text: str) -> list[int]:
    """1-based line where each document starts (its ``---``, or its first content)."""
    try:
        events = list(_yaml().parse(io.StringIO(text)))
    except YAMLError:
        return []
    return [e.start_mark.line + 1 for e in events if isinstance(e, DocumentStartEvent)]


def _second_document_line(text: str) -> int:
    starts = _document_starts(text)
    return starts[1] if len(starts) > 1 else 1


def content_line(text: str) -> int:
    """1-based line of the first node of the document (where a bare scalar sits)."""
    try:
        for event in _yaml().parse(io.StringIO(text)):
            if isinstance(event, NodeEvent):
                return int(event.start_mark.line) + 1
    except YAMLError:
        pass
    return 1


TEST_SUFFIXES = (".test.yaml", ".test.yml")
"""Policy test files: read by ``riskctl test``, never as policies."""


def iter_files(paths: Sequence[Path]) -> Iterator[Path]:
    """Policy files under each path: a file as given, a directory's ``*.yaml``/``*.yml``, sorted.

    A directory walk skips policy test files (``*.test.yaml``, ``*.test.yml``): they live
    next to the policies they test and are read by ``riskctl test``, never as policies.
    """
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
            yield from (
                p
                for p in found
                if p.is_file() and not p.name.startswith(".") and not p.name.endswith(TEST_SUFFIXES)
            )
        else:
            yield path
