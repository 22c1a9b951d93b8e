"""riskctl.yamlio: size and encoding limits, YAML 1.2 scalars, located YAML errors, locate()."""

from __future__ import annotations

import os
import time
from decimal import Decimal
from pathlib import Path

import pytest

from riskctl import yamlio
from riskctl.errors import Diagnostic, Location
from riskctl.yamlio import (
    MAX_FILE_BYTES,
    MAX_NODES,
    LoadedYaml,
    dump_roundtrip,
    iter_files,
    locate,
    parse_yaml,
    pointer,
    read_yaml,
)


def found(problems: list[Diagnostic]) -> list[tuple[int, int, str]]:
    return [(d.location.line, d.location.column, d.code) for d in problems]


def parse_ok(text: str) -> LoadedYaml:
    loaded, problems = parse_yaml(text, "mem.yaml")
    assert problems == []
    assert loaded is not None
    return loaded


def parse_bad(text: str) -> Diagnostic:
    loaded, problems = parse_yaml(text, "mem.yaml")
    assert loaded is None
    assert len(problems) == 1, problems
    return problems[0]


def alias_bomb(levels: int = 9, width: int = 10) -> str:
    """'Billion laughs': each level is a list of ``width`` aliases of the level below."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels + 1):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


# -- YAML 1.2 scalars and plain data -------------------------------------------------------


def test_when_value_is_yes_no_on_off_then_it_stays_a_string_under_yaml_1_2() -> None:
    data = parse_ok("a: yes\nb: no\nc: on\nd: off\ne: y\nf: true\ng: false\nh: null\n").data

    assert data == {
        "a": "yes",
        "b": "no",
        "c": "on",
        "d": "off",
        "e": "y",
        "f": True,
        "g": False,
        "h": None,
    }


def test_when_numbers_are_written_then_data_holds_ints_and_exact_decimals_never_floats() -> None:
    data = parse_ok("a: 0.1\nb: 172.0600\nc: 250000\nd: 1.50\ne: -5\nf: 1e12\ng: 0.3\n").data

    assert data["a"] == Decimal("0.1")
    assert data["b"] == Decimal("172.0600")
    assert data["c"] == 250000
    assert type(data["c"]) is int
    assert data["d"] == Decimal("1.5")
    assert data["e"] == -5
    assert data["f"] == Decimal("1e12")
    assert data["g"] == Decimal("0.3")  # not 0.299999999999999988897769753748...
    assert not any(isinstance(v, float) for v in data.values())


def test_when_nan_and_inf_are_written_then_data_holds_decimal_nan_and_infinity() -> None:
    data = parse_ok("a: .nan\nb: .inf\nc: -.inf\n").data

    assert data["a"].is_nan()
    assert data["b"] == Decimal("Infinity")
    assert data["c"] == Decimal("-Infinity")


def test_when_anchors_aliases_and_merge_keys_are_used_then_plain_data_is_expanded() -> None:
    text = "base: &b [1, 2]\ncopy: *b\nm: &m {x: 1, y: 1}\nn:\n  <<: *m\n  y: 2\n"

    data = parse_ok(text).data

    assert data["copy"] == [1, 2]
    assert data["n"] == {"x": 1, "y": 2}
    assert type(data) is dict
    assert type(data["n"]) is dict
    assert type(data["copy"]) is list


# -- located YAML errors -------------------------------------------------------------------


def test_when_a_key_repeats_then_yaml_duplicate_key_points_at_the_second_and_names_the_first() -> (
    None
):
    problem = parse_bad("outer:\n  a: 1\n  b: 2\n  a: 3\n")

    assert found([problem]) == [(4, 3, "yaml.duplicate-key")]
    assert problem.message == (
        "the key 'a' appears twice in the same mapping (first on line 2);"
        " the second would silently win"
    )


@pytest.mark.parametrize(
    ("text", "second", "first"),
    [
        ("a: 1\nb:\n  - x: 1\n    y: 2\n    x: 3\n", (5, 5), 3),
        ("top: {k: 1}\nnext:\n  k: 1\n  j: 2\n  k: 3\n", (5, 3), 3),
        ("base: &b {k: 1}\nuse: *b\nother:\n\n  j: 0\n  k: 1\n  k: 2\n", (7, 3), 6),
        ("spec: {environment: paper,\n  environment: staging}\n", (2, 3), 1),
    ],
    ids=["in-a-sequence", "same-key-in-another-mapping", "after-an-alias", "flow"],
)
def test_when_a_key_repeats_then_the_first_line_named_is_the_one_in_the_same_mapping(
    text: str, second: tuple[int, int], first: int
) -> None:
    problem = parse_bad(text)

    assert found([problem]) == [(*second, "yaml.duplicate-key")]
    assert f"(first on line {first});" in problem.message


def test_when_a_key_repeats_in_a_flow_mapping_then_the_second_key_is_reported() -> None:
    problem = parse_bad("spec: {environment: paper, environment: staging}\n")

    assert found([problem]) == [(1, 28, "yaml.duplicate-key")]


def test_when_a_tab_indents_a_line_then_yaml_tab_indent_points_at_the_tab() -> None:
    problem = parse_bad("metadata:\n  name: x\n\towner: y\n")

    assert found([problem]) == [(3, 1, "yaml.tab-indent")]
    assert "tab" in problem.message
    assert "spaces" in problem.message


def test_when_a_flow_sequence_is_not_closed_then_yaml_syntax_points_at_the_stray_colon() -> None:
    problem = parse_bad("a: [1, 2\nb: 3\n")

    assert found([problem]) == [(2, 2, "yaml.syntax")]
    assert "flow sequence" in problem.message
    assert "\n" not in problem.message


def test_when_a_plain_value_holds_a_second_colon_then_yaml_syntax_points_at_it() -> None:
    problem = parse_bad("metadata:\n  owner: desk: crypto\n")

    assert found([problem]) == [(2, 14, "yaml.syntax")]


@pytest.mark.parametrize(
    "text",
    ["", "\n\n", "   \n", "# only\n# comments\n", "---\n", "---\n...\n", "null\n", "~\n"],
    ids=["empty", "blank-lines", "spaces", "comments", "marker", "marker-and-end", "null", "tilde"],
)
def test_when_text_holds_no_document_then_yaml_empty(text: str) -> None:
    problem = parse_bad(text)

    assert found([problem]) == [(1, 1, "yaml.empty")]
    assert problem.message == "the file holds no policy document"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a: 1\n---\nb: 2\n", 2),
        ("---\na: 1\n---\nb: 2\n", 3),
        ("# c\n---\na: 1\n# between\n---\nb: 2\n", 5),
        ("%YAML 1.2\n---\na: 1\n---\nb: 2\n", 4),
        ("a: 1\n...\n---\nb: 2\n", 3),
        ("a: 1\n---\nb: 2\n---\nc: 3\n", 2),
    ],
    ids=["plain", "leading-marker", "comments", "directive", "end-marker", "three-documents"],
)
def test_when_text_holds_two_documents_then_yaml_multi_document_at_the_second_marker(
    text: str, line: int
) -> None:
    problem = parse_bad(text)

    assert found([problem]) == [(line, 1, "yaml.multi-document")]
    assert "one policy document in each file" in problem.message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("---\n---\na: 1\n", 2),
        ("---\n# nothing in the first document\n---\nb: 2\n", 3),
        ("--- {a: 1}\n--- {b: 2}\n", 2),
        ("a: 1\n...\nb: 2\n", 3),
    ],
    ids=["empty-first-document", "comment-only-first", "content-on-marker-line", "no-marker"],
)
def test_when_first_document_has_no_line_of_its_own_then_second_document_is_still_located(
    text: str, line: int
) -> None:
    problem = parse_bad(text)

    assert found([problem]) == [(line, 1, "yaml.multi-document")]


def test_when_nesting_is_absurdly_deep_then_yaml_too_deep_instead_of_recursion_error() -> None:
    problem = parse_bad("a: " + "[" * 600 + "]" * 600 + "\n")

    assert problem.code == "yaml.too-deep"


# -- alias bombs and the node budget ---------------------------------------------------------


def test_when_aliases_expand_to_a_billion_values_then_too_many_nodes_and_it_finishes_fast() -> None:
    started = time.perf_counter()

    problem = parse_bad(alias_bomb(levels=9, width=10))

    assert time.perf_counter() - started < 2.0
    assert found([problem]) == [(1, 1, "yaml.too-many-nodes")]
    assert str(MAX_NODES) in problem.message


def test_when_a_file_holds_an_alias_bomb_then_read_yaml_refuses_it(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb(levels=9, width=10))

    loaded, problems = read_yaml(path)

    assert loaded is None
    assert [d.code for d in problems] == ["yaml.too-many-nodes"]


def test_when_aliases_stay_under_the_budget_then_the_document_loads() -> None:
    data = parse_ok(alias_bomb(levels=3, width=10)).data

    assert len(data["l3"]) == 10
    assert data["l3"][9][9][9] == ["lol"] * 10


@pytest.mark.parametrize(("items", "refused"), [(4, False), (5, True)])
def test_when_values_reach_the_node_budget_then_exactly_max_nodes_are_allowed(
    monkeypatch: pytest.MonkeyPatch, items: int, refused: bool
) -> None:
    monkeypatch.setattr(yamlio, "MAX_NODES", 5)
    text = "[" + ", ".join(["x"] * items) + "]\n"  # the list itself plus its items

    loaded, problems = parse_yaml(text, "mem.yaml")

    assert [d.code for d in problems] == (["yaml.too-many-nodes"] if refused else [])
    assert (loaded is None) is refused


# -- file limits ---------------------------------------------------------------------------


def test_when_file_is_one_byte_over_the_limit_then_file_too_large_before_decoding(
    tmp_path: Path,
) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: " + b"\xff" * (MAX_FILE_BYTES - 2))  # undecodable, yet size wins

    loaded, problems = read_yaml(path)

    assert loaded is None
    assert found(problems) == [(1, 1, "file.too-large")]
    assert problems[0].message == (
        f"the file is over {MAX_FILE_BYTES} bytes, the limit for a policy file"
    )


def test_when_file_is_exactly_at_the_limit_then_it_loads(tmp_path: Path) -> None:
    head = b"a: 1\n"
    padding = MAX_FILE_BYTES - len(head) - 1
    path = tmp_path / "at-limit.yaml"
    path.write_bytes(head + b"#" * padding + b"\n")
    assert path.stat().st_size == MAX_FILE_BYTES

    loaded, problems = read_yaml(path)

    assert problems == []
    assert loaded is not None
    assert loaded.data == {"a": 1}


@pytest.mark.parametrize(
    ("raw", "line", "column", "byte"),
    [
        (b"\xffa: 1\n", 1, 1, "ff"),
        (b"a: 1\nb: caf\xff\n", 2, 7, "ff"),
        (b"a: 1\n\nc: [x, \xc3\x28]\n", 3, 8, "c3"),
    ],
    ids=["first-byte", "second-line", "bad-continuation"],
)
def test_when_bytes_are_not_utf8_then_file_not_utf8_at_the_bad_byte(
    tmp_path: Path, raw: bytes, line: int, column: int, byte: str
) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(raw)

    loaded, problems = read_yaml(path)

    assert loaded is None
    assert found(problems) == [(line, column, "file.not-utf8")]
    assert problems[0].message == (
        f"byte 0x{byte} is not valid UTF-8; policy files must be UTF-8 text"
    )


def test_when_bad_byte_follows_multibyte_characters_then_column_counts_characters(
    tmp_path: Path,
) -> None:
    # "owner: café " is 12 characters but 13 bytes; the bad byte is the 13th character.
    path = tmp_path / "accents.yaml"
    path.write_bytes("# expect\nowner: café ".encode() + b"\xff\n")

    _, problems = read_yaml(path)

    assert found(problems) == [(2, 13, "file.not-utf8")]


def test_when_file_starts_with_a_bom_then_bad_byte_is_still_named_and_located(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfab\n\xff\n")

    _, problems = read_yaml(path)

    assert found(problems) == [(2, 1, "file.not-utf8")]
    assert "0xff" in problems[0].message


def test_when_file_starts_with_a_bom_then_it_loads_and_positions_ignore_the_bom(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfa:\n  b: 1\n")

    loaded, problems = read_yaml(path)

    assert problems == []
    assert loaded is not None
    assert loaded.data == {"a": {"b": 1}}
    assert locate(loaded.root, ("a", "b")) == (2, 6)


def test_when_path_cannot_be_read_then_file_unreadable(tmp_path: Path) -> None:
    loaded, problems = read_yaml(tmp_path, display="policies/")

    assert loaded is None
    assert [d.code for d in problems] == ["file.unreadable"]
    assert problems[0].location.path == "policies/"
    assert problems[0].message.startswith("cannot read the file: ")


def test_when_display_name_is_given_then_diagnostics_use_it(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("a: 1\na: 2\n")

    _, problems = read_yaml(path, display="shown/dup.yaml")

    assert [d.location.path for d in problems] == ["shown/dup.yaml"]


# -- locations -----------------------------------------------------------------------------

NESTED = "top:\n  list:\n    - {k: v}\n    - plain\n  key: value\n"


@pytest.mark.parametrize(
    ("path", "at_key", "expected"),
    [
        ((), False, (1, 1)),
        (("top", "key"), False, (5, 8)),
        (("top", "key"), True, (5, 3)),
        (("top",), True, (1, 1)),
        (("top", "list", 1), False, (4, 7)),
        (("top", "list", 0, "k"), False, (3, 11)),
        (("top", "list", 0, "k"), True, (3, 8)),
        (("top", "nope"), False, (2, 3)),
        (("top", "list", 5), False, (3, 5)),
    ],
    ids=[
        "root",
        "value",
        "key",
        "top-key",
        "list-item",
        "flow-value",
        "flow-key",
        "missing-key-falls-back-to-parent",
        "missing-item-falls-back-to-list",
    ],
)
def test_locate_returns_one_based_line_and_column(
    path: tuple[str | int, ...], at_key: bool, expected: tuple[int, int]
) -> None:
    root = parse_ok(NESTED).root

    assert locate(root, path, at_key=at_key) == expected


def test_loaded_yaml_location_carries_path_position_and_json_pointer() -> None:
    loaded, _ = parse_yaml(NESTED, "p.yaml")
    assert loaded is not None

    assert loaded.location(("top", "list", 0, "k")) == Location("p.yaml", 3, 11, "/top/list/0/k")


def test_pointer_escapes_tilde_and_slash_per_rfc_6901() -> None:
    assert pointer(()) == ""
    assert pointer(("spec", "scoped", 0, "max_order_qty")) == "/spec/scoped/0/max_order_qty"
    assert pointer(("a/b", "c~d")) == "/a~1b/c~0d"


def test_dump_roundtrip_keeps_comments_and_layout() -> None:
    text = "# head\na: 1   # why\nb: [x, y]\n"

    assert dump_roundtrip(parse_ok(text).root) == text


def test_iter_files_yields_sorted_yaml_files_and_skips_hidden_and_other_files(
    tmp_path: Path,
) -> None:
    for name in ("b.yaml", "a.yml", "notes.txt", ".hidden.yaml", "sub/d.yaml", "sub/c.YAML"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("a: 1\n")
    single = tmp_path / "notes.txt"

    files = list(iter_files([tmp_path, single]))

    assert files == [tmp_path / "a.yml", tmp_path / "b.yaml", tmp_path / "sub/d.yaml", single]


def test_when_the_path_is_a_fifo_or_a_device_then_it_is_refused_without_reading(tmp_path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        loaded, problems = read_yaml(path)
        assert loaded is None
        assert found(problems) == [(1, 1, "file.unreadable")]
        assert "not a regular file" in problems[0].message


def test_when_an_integer_has_thousands_of_digits_then_it_is_a_located_error(tmp_path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("apiVersion: riskctl/v1\nmetadata: {version: " + "9" * 5000 + "}\n")
    loaded, problems = read_yaml(path)
    assert loaded is None
    assert found(problems) == [(1, 1, "yaml.bad-number")]


def test_when_the_file_does_not_exist_then_file_not_found_not_unreadable(tmp_path) -> None:
    loaded, problems = read_yaml(tmp_path / "nope.json", "nope.json")

    assert loaded is None
    assert [p.format() for p in problems] == [
        "nope.json:1:1: error file.not-found: no such file or directory"
    ]


def test_when_a_caller_names_what_is_empty_then_yaml_empty_says_it() -> None:
    _, default = parse_yaml("# only a comment\n", "p.yaml")
    _, named = parse_yaml("", "<stdin>", empty="the context is empty")

    assert [(p.code, p.message) for p in default] == [
        ("yaml.empty", "the file holds no policy document")
    ]
    assert [(p.code, p.message) for p in named] == [("yaml.empty", "the context is empty")]
