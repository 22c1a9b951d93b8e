"""SqliteStore beyond the shared contract: reopening, atomicity under kill -9, bad files,
and a second process posting controls."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from riskctl.state import NewRecord
from riskctl.state.audit import verify
from riskctl.state.errors import StoreError
from riskctl.state.sqlite_store import APPLICATION_ID, MIGRATIONS, PAGE_SIZE, SqliteStore


def _error(path: Path) -> StoreError:
    with pytest.raises(StoreError) as caught:
        SqliteStore(path)
    return caught.value


def test_when_the_store_is_reopened_then_rows_records_and_controls_are_all_there(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.db"
    with SqliteStore(path) as store:
        committed = store.commit({("k", "a"): "1"}, [NewRecord(1, "decision", {"x": 1})])
        kill = store.post_control("kill", by="ops", reason="why", at_ms=2)
    with SqliteStore(path) as again:
        assert dict(again.load().rows) == {("k", "a"): "1"}
        assert list(again.audit()) == list(committed)
        assert list(again.controls(0)) == [kill]
        assert again.commit({}, [NewRecord(3, "decision", {})])[0].prev_hash == committed[0].hash


def test_when_a_commit_fails_mid_transaction_then_nothing_of_it_is_visible(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.db"
    with SqliteStore(path) as store:
        store.commit({("k", "a"): "1"}, [NewRecord(1, "decision", {})])
        unbindable = (object(), "b")  # fails after the audit insert, inside the transaction
        with pytest.raises(StoreError) as caught:
            store.commit({("k", "a"): "2", unbindable: "x"}, [NewRecord(2, "decision", {})])  # type: ignore[dict-item]
        assert caught.value.diagnostic.code == "store.write-failed"
        assert dict(store.load().rows) == {("k", "a"): "1"}
        assert [r.seq for r in store.audit()] == [1]
    with SqliteStore(path) as again:
        assert [r.seq for r in again.audit()] == [1]


_COMMIT_LOOP = textwrap.dedent(
    """
    import sys
    from riskctl.state import NewRecord
    from riskctl.state.sqlite_store import SqliteStore
    store = SqliteStore(sys.argv[1])
    i = start = store.load().last_seq
    while True:
        i += 1
        rows = {("n", "last"): str(i), ("n", str(i % 5)): str(i)}
        store.commit(rows, [NewRecord(i, "decision", {"i": i, "pad": "x" * 900})])
        if i == start + 300:
            print("ready", flush=True)
    """
)


def test_when_a_committing_process_is_killed_then_no_commit_is_half_applied(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.db"
    for _ in range(3):  # three kills at arbitrary instants, resuming on the same file
        child = subprocess.Popen(
            [sys.executable, "-c", _COMMIT_LOOP, str(path)], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        child.stdout.readline()  # committing at full speed now
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
        assert child.returncode == -signal.SIGKILL
    with SqliteStore(path) as store:
        snapshot = store.load()
        records = list(store.audit())
        assert verify(records) == []
        last = records[-1].body["i"]
        assert snapshot.last_seq == last == int(snapshot.rows["n", "last"])
        for i in range(last - 4, last + 1):  # every row each of the last commits wrote
            assert snapshot.rows["n", str(i % 5)] == str(i)


def test_when_the_schema_is_newer_than_the_code_then_opening_is_a_structured_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.db"
    SqliteStore(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE schema_version SET version = 99")
    raw.close()
    error = _error(path)
    assert error.diagnostic.code == "store.schema-too-new"
    assert "99" in error.diagnostic.message
    assert error.diagnostic.location.path == str(path)


def test_when_the_file_is_not_sqlite_then_opening_is_an_error_naming_the_path(
    tmp_path: Path,
) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"this is not a database\n" * 100)
    error = _error(path)
    assert (error.diagnostic.code, error.diagnostic.location.path) == (
        "store.not-sqlite",
        str(path),
    )
    assert str(path) in str(error)
    assert path.read_bytes() == b"this is not a database\n" * 100


def test_when_the_file_is_another_programs_sqlite_then_it_is_refused_and_left_alone(
    tmp_path: Path,
) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE foo (x)")
    raw.close()
    assert _error(path).diagnostic.code == "store.not-riskctl"
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    raw.close()


def test_when_the_directory_is_missing_then_opening_is_an_error_and_creates_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "missing" / "state.db"
    assert _error(path).diagnostic.code == "store.no-directory"
    assert not path.parent.exists()


def test_when_a_second_connection_posts_a_control_then_the_first_sees_it_next_call(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.db"
    with SqliteStore(path) as runtime, SqliteStore(path) as cli:
        assert list(runtime.controls(0)) == []
        runtime.commit({}, [NewRecord(1, "decision", {})])
        kill = cli.post_control("kill", by="ops", reason="stop", at_ms=5)
        assert list(runtime.controls(0)) == [kill]
        assert list(runtime.controls(kill.id)) == []


_POSTER = textwrap.dedent(
    """
    import sys
    from riskctl.state.sqlite_store import SqliteStore
    with SqliteStore(sys.argv[1]) as store:
        for n in range(20):
            store.post_control("kill", by="ops", reason=f"n{n}", at_ms=n)
    """
)


def test_when_another_process_posts_controls_while_this_one_commits_then_all_arrive(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.db"
    with SqliteStore(path) as runtime:
        child = subprocess.Popen([sys.executable, "-c", _POSTER, str(path)])
        at = 0
        while child.poll() is None:  # commit concurrently with the other writer
            at += 1
            runtime.commit({("k", "a"): str(at)}, [NewRecord(at, "decision", {})])
        assert child.wait(timeout=30) == 0
        seen = list(runtime.controls(0))
        assert [c.reason for c in seen] == [f"n{n}" for n in range(20)]
        assert verify(runtime.audit()) == []


def test_when_a_file_is_new_then_it_gets_large_pages_and_an_old_small_page_file_still_works(
    tmp_path,
) -> None:
    with SqliteStore(tmp_path / "new.db") as store:
        store.commit({("k", "a"): "1"}, [NewRecord(1, "decision", {"x": "y" * 5000})])
    with sqlite3.connect(tmp_path / "new.db") as db:
        assert db.execute("PRAGMA page_size").fetchone() == (PAGE_SIZE,)
    old = tmp_path / "old.db"  # as riskctl made files before: 4 KiB pages
    with sqlite3.connect(old, isolation_level=None) as db:
        db.execute("PRAGMA page_size = 4096")
        db.execute("PRAGMA journal_mode=WAL")
        for sql in MIGRATIONS[0]:
            db.execute(sql)
        db.execute("UPDATE schema_version SET version = 1")
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.close()
    with SqliteStore(old) as store:
        store.commit({("k", "a"): "2"}, [NewRecord(1, "decision", {"x": 1})])
    with SqliteStore(old) as store:
        assert store.load().rows == {("k", "a"): "2"}
        assert [r.seq for r in store.audit()] == [1]
    with sqlite3.connect(old) as db:
        assert db.execute("PRAGMA page_size").fetchone() == (4096,)
    db.close()
