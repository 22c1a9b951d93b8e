"""tools/make_sample_session.py: the same seed gives the same bytes, the committed sample is
what the default seed generates, and every line but the deliberately broken ones reads back."""

from __future__ import annotations

import gzip
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from riskctl.session import SessionProblem, read_header, read_session

REPO = Path(__file__).resolve().parents[3]
TOOL = REPO / "tools" / "make_sample_session.py"
SAMPLE = REPO / "tools" / "sessions" / "sample.jsonl.gz"


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_sample_session", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while they are built
    spec.loader.exec_module(module)
    return module


def generate(out: Path, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, str(TOOL), "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_generator_when_run_twice_with_one_seed_then_writes_the_same_bytes(tmp_path) -> None:
    first, second = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"
    generate(first, "--minutes", "2")
    generate(second, "--minutes", "2")
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes()[4:8] == b"\0\0\0\0"  # gzip mtime 0: no timestamp in the file


def test_generator_when_the_seed_changes_then_the_market_changes(tmp_path) -> None:
    first, second = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"
    generate(first, "--minutes", "1")
    generate(second, "--minutes", "1", "--seed", "7")
    assert gzip.decompress(first.read_bytes()) != gzip.decompress(second.read_bytes())


def test_committed_sample_when_regenerated_with_the_default_seed_then_is_identical(
    tool: ModuleType, tmp_path
) -> None:
    out = tmp_path / "sample.jsonl.gz"
    tool.write(tool.generate(), out)
    # The text, not the gzip bytes: zlib versions may compress the same text differently
    # (riskctl.session.writer). On one machine the bytes are equal too.
    assert gzip.decompress(out.read_bytes()) == gzip.decompress(SAMPLE.read_bytes())


def test_committed_sample_when_read_back_then_only_the_broken_lines_are_problems(
    tool: ModuleType,
) -> None:
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as fp:
        texts = fp.read().splitlines()
    broken = {
        number: text
        for number, text in enumerate(texts, start=1)
        if text == tool.BROKEN_LINES[0] or '"type": "heartbeat"' in text
    }
    problems = []
    events = 0
    for item in read_session(SAMPLE):
        if isinstance(item, SessionProblem):
            problems.append(item)
        else:
            events += 1
    assert sorted(p.line for p in problems) == sorted(broken)
    assert {p.code for p in problems} == {"session.malformed-json", "session.unknown-type"}
    assert events == len(texts) - 1 - len(broken)  # the header is not an event
    assert 100_000 <= events <= 150_000
    assert SAMPLE.stat().st_size < 4_000_000


def test_committed_sample_when_read_then_its_header_spans_its_events() -> None:
    header = read_header(SAMPLE)
    assert header is not None
    assert header.venues == ["binance", "okx"]
    first = last = None
    for item in read_session(SAMPLE):
        if not isinstance(item, SessionProblem):
            first = item.recv_ms if first is None else first
            last = item.recv_ms if last is None else max(last, item.recv_ms)
    assert (header.start_ms, header.end_ms) == (first, last)


def test_committed_sample_when_recv_ms_goes_back_then_by_a_few_ms_only() -> None:
    previous, backs = 0, []
    for item in read_session(SAMPLE):
        if not isinstance(item, SessionProblem):
            if item.recv_ms < previous:
                backs.append(previous - item.recv_ms)
            previous = max(previous, item.recv_ms)
    assert backs  # two receiver threads whose clocks differ: the reader passes it on as is
    assert max(backs) <= 3


def test_schedule_when_the_session_is_cut_short_then_later_episodes_are_left_out(
    tool: ModuleType,
) -> None:
    short = tool.generate(minutes=2)
    assert not [line for line in short.lines if getattr(line.item, "type", "") == "order"]
    full_minutes = tool.DEFAULT_MINUTES
    assert all(minute < full_minutes - 5 for minute in tool.SCHEDULE.values())


def test_timeline_option_when_given_then_lists_every_episode_and_writes_nothing(
    tmp_path,
) -> None:
    out = tmp_path / "never.jsonl.gz"
    done = subprocess.run(
        [sys.executable, str(TOOL), "--timeline", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "02:08:00  flash_crash" in done.stdout
    assert not out.exists()
