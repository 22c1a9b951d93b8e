"""read_session: every bad line located by line and column, the good ones passed on in order."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from sessionkit import GOOD_EVENTS, HEADER

from riskctl.errors import Diagnostic
from riskctl.session import (
    MAX_LINE_BYTES,
    BookEvent,
    SessionError,
    SessionProblem,
    dump_event,
    read_header,
    read_session,
)

GOOD = dump_event(GOOD_EVENTS[0])
TRADE = '{"type":"trade","venue":"binance","symbol":"BTC/USDT","id":"1","side":"buy",'

# (line text, expected (code, column, field) of each problem it makes)
BAD_LINES: list[tuple[str, list[tuple[str, int, str | None]]]] = [
    ('{"type":"trade",', [("session.malformed-json", 17, None)]),
    ('{"type":"book" "venue":"x"}', [("session.malformed-json", 16, None)]),
    ("  [1, 2]", [("session.not-an-object", 3, None)]),
    ('"trade"', [("session.not-an-object", 1, None)]),
    ('{"venue":"binance"}', [("session.unknown-type", 1, "type")]),
    ('{"venue":"binance", "type": "quote"}', [("session.unknown-type", 29, "type")]),
    ('{"type": 7}', [("session.unknown-type", 10, "type")]),
    (TRADE + '"price":-1,"qty":"1","recv_ms":1}', [("session.invalid-field", 85, "price")]),
    (TRADE + '"price":"1","qty":"1"}', [("session.invalid-field", 1, "recv_ms")]),
    (
        TRADE + '"price":"x","qty":0.5,"recv_ms":1,"colour":"red"}',
        [("session.invalid-field", 85, "price"), ("session.invalid-field", 111, "colour")],
    ),
    (TRADE + '"price":1.5,"qty":"1","recv_ms":1.0}', [("session.invalid-field", 109, "recv_ms")]),
    (TRADE + '"price":NaN,"qty":"1","recv_ms":1}', [("session.malformed-json", 85, None)]),
    (
        '{"type":"order","venue":"binance","symbol":"BTC/USDT","action":"cancel",'
        '"client_order_id":"c","strategy":"s","qty":"1","recv_ms":1}',
        [("session.invalid-field", 116, "qty")],
    ),
    (
        '{"type":"session","name":"late"}',
        [("session.misplaced-header", 1, "type")],
    ),
]


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_when_lines_are_bad_then_each_problem_names_its_line_column_and_field(
    tmp_path: Path,
) -> None:
    lines = [GOOD]
    for text, _ in BAD_LINES:
        lines += [text, GOOD]
    path = write(tmp_path / "bad.jsonl", lines)

    items = list(read_session(path))

    problems = [item for item in items if isinstance(item, SessionProblem)]
    expected = [
        (code, 2 + 2 * index, column, field)
        for index, (_, codes) in enumerate(BAD_LINES)
        for code, column, field in codes
    ]
    assert [(p.code, p.line, p.column, p.field) for p in problems] == expected
    assert all(p.path == str(path) for p in problems)
    events = [item for item in items if not isinstance(item, SessionProblem)]
    assert events == [GOOD_EVENTS[0]] * (len(BAD_LINES) + 1)  # it went on after each problem


def test_a_field_problem_says_the_field_and_what_is_wrong_in_words(tmp_path: Path) -> None:
    path = write(tmp_path / "s.jsonl", [TRADE + '"price":0,"qty":"1","recv_ms":1}'])

    (problem,) = read_session(path)

    assert str(problem) == f"{path}:1:85: session.invalid-field: price: must be > 0"
    assert isinstance(problem, SessionProblem)
    diagnostic = problem.to_diagnostic()
    assert isinstance(diagnostic, Diagnostic)
    assert (diagnostic.location.line, diagnostic.location.column) == (1, 85)
    assert diagnostic.location.pointer == "/price"


def test_when_strict_then_the_first_problem_raises_with_its_location(tmp_path: Path) -> None:
    path = write(tmp_path / "s.jsonl", [GOOD, "{oops", '{"type":"x"}'])
    reader = read_session(path, strict=True)

    assert next(reader) == GOOD_EVENTS[0]
    with pytest.raises(SessionError) as caught:
        next(reader)
    assert (caught.value.problem.code, caught.value.problem.line) == ("session.malformed-json", 2)
    assert ":2:2: session.malformed-json" in str(caught.value)


def test_blank_lines_a_bom_and_crlf_endings_are_read_as_nothing_special(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(("\ufeff" + dump_event(HEADER) + "\r\n\r\n" + GOOD + "\r\n  \n").encode())

    assert list(read_session(path)) == [GOOD_EVENTS[0]]
    assert read_header(path) == HEADER


def test_a_file_without_a_header_has_none_and_its_first_line_is_an_event(tmp_path: Path) -> None:
    path = write(tmp_path / "s.jsonl", [GOOD])

    assert read_header(path) is None
    assert list(read_session(path)) == [GOOD_EVENTS[0]]


def test_when_recv_ms_goes_back_then_events_come_in_file_order_untouched_and_no_problem(
    tmp_path: Path,
) -> None:
    base = '{"type":"book","venue":"binance","symbol":"BTC/USDT","bid":"1","ask":"2","recv_ms":'
    path = write(tmp_path / "s.jsonl", [base + "1000}", base + "997}", base + "1001}"])

    items = list(read_session(path))

    assert all(isinstance(item, BookEvent) for item in items)
    assert [item.recv_ms for item in items] == [1000, 997, 1001]  # type: ignore[union-attr]


def test_when_a_line_is_not_utf8_then_it_is_located_and_the_next_is_read(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'{"type":"trade","id":"\xff"}\n' + GOOD.encode() + b"\n")

    problem, event = read_session(path)

    assert isinstance(problem, SessionProblem)
    assert (problem.code, problem.line, problem.column) == ("session.not-utf8", 1, 23)
    assert event == GOOD_EVENTS[0]


def test_when_a_line_is_too_long_then_it_is_skipped_unread(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"{" + b" " * (MAX_LINE_BYTES * 2) + b"}\n" + GOOD.encode() + b"\n")

    problem, event = read_session(path)

    assert isinstance(problem, SessionProblem)
    assert (problem.code, problem.line) == ("session.line-too-long", 1)
    assert event == GOOD_EVENTS[0]


def test_a_gzip_file_is_read_by_its_magic_bytes_whatever_its_name(tmp_path: Path) -> None:
    path = tmp_path / "named-plain.jsonl"
    path.write_bytes(gzip.compress((GOOD + "\n").encode()))

    assert list(read_session(path)) == [GOOD_EVENTS[0]]


def test_when_a_gzip_file_is_cut_then_the_events_before_come_and_a_last_problem_says_so(
    tmp_path: Path,
) -> None:
    whole = gzip.compress(("\n".join([GOOD] * 2000) + "\n").encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])

    items = list(read_session(path))

    assert isinstance(items[-1], SessionProblem)
    assert items[-1].code == "session.unreadable"
    assert items[:-1] == [GOOD_EVENTS[0]] * (len(items) - 1)
    assert len(items) > 10


def test_when_the_file_is_missing_then_oserror() -> None:
    with pytest.raises(FileNotFoundError):
        list(read_session(Path("/nonexistent/session.jsonl")))
