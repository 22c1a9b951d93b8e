"""SqliteStore: the StateStore protocol in one SQLite file (stdlib ``sqlite3``).

Durability: WAL journal with ``synchronous=NORMAL``. A commit that returned is in the WAL
file, so it survives the process being killed (``kill -9``) at any instant: a reopen sees
every returned commit whole and no part of an unfinished one. It does NOT survive power
loss or an OS crash for the last commits since the last checkpoint's fsync: those may be
lost (whole commits, never half of one; the file stays consistent).

Another process (``riskctl kill``) may post controls to the same file while the runtime
writes; writers wait up to ``busy_timeout_ms`` for each other.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from riskctl.state.audit import JsonBody
from riskctl.state.errors import StoreError
from riskctl.state.store import (
    GENESIS,
    AuditRecord,
    Control,
    ControlVerb,
    NewRecord,
    RowKey,
    Snapshot,
    chain_hash,
    record_text,
    row_text,
)

__all__ = ["APPLICATION_ID", "MIGRATIONS", "PAGE_SIZE", "SqliteStore"]

APPLICATION_ID = 0x72736B63  # "rskc" in the file header: tells a riskctl file from others

# MIGRATIONS[i] takes the schema from version i to i + 1; applied in order in one transaction.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        "CREATE TABLE schema_version (version INTEGER NOT NULL)",
        "INSERT INTO schema_version VALUES (0)",
        "CREATE TABLE state (machine TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
        " PRIMARY KEY (machine, key)) WITHOUT ROWID",
        "CREATE TABLE audit (seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL,"
        " kind TEXT NOT NULL, body TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
        "CREATE TABLE controls (id INTEGER PRIMARY KEY, verb TEXT NOT NULL"
        " CHECK (verb IN ('kill', 'resume', 'reset')), \"by\" TEXT NOT NULL,"
        " reason TEXT NOT NULL, at_ms INTEGER NOT NULL, target TEXT NOT NULL)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
# Audit records are a few KB each (the completed context and the decision): with SQLite's
# default 4 KiB pages nearly every record takes a page of its own and a checkpoint comes
# every ~1,000 records; 16 KiB pages hold several records each and cut the cost of a record
# about threefold on this machine (tools/bench_store.py). Files made with other sizes open.
PAGE_SIZE = 16_384

_UPSERT = "INSERT OR REPLACE INTO state (machine, key, value) VALUES (?, ?, ?)"
_DELETE = "DELETE FROM state WHERE machine = ? AND key = ?"
_APPEND = "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?)"
_HEAD = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"
_AUDIT = "SELECT seq, at_ms, kind, body, prev_hash, hash FROM audit"


class SqliteStore:
    """Runtime state in one SQLite file, created on first open (its directory must exist)."""

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 5000) -> None:
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise StoreError(
                "store.no-directory", self.path, "the state file's directory does not exist"
            )
        if self.path.is_dir():
            raise StoreError("store.not-a-file", self.path, "the state path is a directory")
        self._conn = sqlite3.connect(
            self.path, timeout=busy_timeout_ms / 1000, isolation_level=None
        )
        self._seen_version: int | None = None  # PRAGMA data_version when last looked
        self._version = self._conn.cursor()  # asked before every decision: one cursor kept
        self._max_control = 0
        try:
            self._open()
        except BaseException:
            self._conn.close()
            raise

    def _open(self) -> None:
        try:
            app_id = self._scalar("PRAGMA application_id")
            tables = self._scalar("SELECT count(*) FROM sqlite_master")
        except sqlite3.DatabaseError as exc:
            raise StoreError("store.not-sqlite", self.path, "not an SQLite file") from exc
        if app_id != APPLICATION_ID and (app_id != 0 or tables):
            raise StoreError("store.not-riskctl", self.path, "an SQLite file, not riskctl state")
        if not tables:  # a new file: its page size is fixed by the first write, here
            self._conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        if str(self._scalar("PRAGMA journal_mode=WAL")).lower() != "wal":
            raise StoreError("store.no-wal", self.path, "the file cannot use a WAL journal")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    @property
    def durability(self) -> str:
        """How commits are made durable on this connection, e.g. ``wal synchronous=NORMAL``."""
        journal = str(self._scalar("PRAGMA journal_mode")).lower()
        level = int(self._scalar("PRAGMA synchronous"))
        names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
        return f"{journal} synchronous={names.get(level, str(level))}"

    def _scalar(self, sql: str, *args: Any) -> Any:
        row = self._conn.execute(sql, args).fetchone()
        return None if row is None else row[0]

    def _migrate(self) -> None:
        with self._transaction():
            has_table = self._scalar(
                "SELECT count(*) FROM sqlite_master WHERE name = 'schema_version'"
            )
            version = int(self._scalar("SELECT version FROM schema_version")) if has_table else 0
            if version > SCHEMA_VERSION:
                raise StoreError(
                    "store.schema-too-new",
                    self.path,
                    f"schema version {version} is newer than this riskctl knows"
                    f" ({SCHEMA_VERSION}); upgrade riskctl",
                )
            for step in MIGRATIONS[version:]:
                for sql in step:
                    self._conn.execute(sql)
            self._conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
            self._conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    def _transaction(self, begin: str = "BEGIN IMMEDIATE") -> _Transaction:
        return _Transaction(self._conn, self.path, begin)

    def load(self) -> Snapshot:
        # One read view for rows and head. A read takes no write lock: a reload after a
        # failed commit works while another writer holds the file.
        with self._transaction("BEGIN DEFERRED"):
            rows = {(m, k): v for m, k, v in self._conn.execute("SELECT * FROM state")}
            head = self._conn.execute(_HEAD).fetchone()
        return Snapshot(rows, head[0] if head else 0, head[1] if head else GENESIS)

    def commit(
        self, rows: Mapping[RowKey, Any], records: Sequence[NewRecord]
    ) -> Sequence[AuditRecord]:
        texts = [record_text(r) for r in records]  # encoding fails before BEGIN
        upserts = [(m, k, row_text(v)) for (m, k), v in rows.items() if v is not None]
        deletes = [(m, k) for (m, k), v in rows.items() if v is None]
        committed: list[AuditRecord] = []
        with self._transaction():
            head = self._conn.execute(_HEAD).fetchone()  # in the transaction: one writer
            seq, prev = (head[0], head[1]) if head else (0, GENESIS)
            for record, text in zip(records, texts, strict=True):
                seq += 1
                digest = chain_hash(prev, seq, record.at_ms, record.kind, text)
                self._conn.execute(_APPEND, (seq, record.at_ms, record.kind, text, prev, digest))
                committed.append(
                    AuditRecord(seq, record.at_ms, record.kind, JsonBody(text), prev, digest)
                )
                prev = digest
            if upserts:
                self._conn.executemany(_UPSERT, upserts)
            if deletes:
                self._conn.executemany(_DELETE, deletes)
        return committed

    def post_control(
        self, verb: ControlVerb, *, by: str, reason: str, at_ms: int, target: str = ""
    ) -> Control:
        with self._transaction():
            cursor = self._conn.execute(
                'INSERT INTO controls (verb, "by", reason, at_ms, target) VALUES (?, ?, ?, ?, ?)',
                (verb, by, reason, at_ms, target),
            )
        control_id = cast(int, cursor.lastrowid)
        self._max_control = max(self._max_control, control_id)
        return Control(control_id, verb, by, reason, at_ms, target)

    def controls(self, after_id: int) -> Sequence[Control]:
        # data_version changes only when another connection commits: the common case
        # (nothing new) costs one pragma, not a query of the table.
        version = self._version.execute("PRAGMA data_version").fetchone()[0]
        if version != self._seen_version:
            self._max_control = int(self._scalar("SELECT coalesce(max(id), 0) FROM controls"))
            self._seen_version = version
        if after_id >= self._max_control:
            return ()
        found = self._conn.execute(
            'SELECT id, verb, "by", reason, at_ms, target FROM controls WHERE id > ? ORDER BY id',
            (after_id,),
        )
        return [Control(*row) for row in found]

    def audit(self, since_ms: int | None = None) -> Iterator[AuditRecord]:
        if since_ms is None:
            cursor = self._conn.execute(_AUDIT + " ORDER BY seq")
        else:
            cursor = self._conn.execute(_AUDIT + " WHERE at_ms >= ? ORDER BY seq", (since_ms,))
        for seq, at_ms, kind, body, prev_hash, digest in cursor:
            yield AuditRecord(seq, at_ms, kind, JsonBody(body), prev_hash, digest)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _Transaction:
    """BEGIN IMMEDIATE (a writer) or DEFERRED (a reader) ... COMMIT; any error rolls back,
    and SQLite errors become StoreError."""

    def __init__(self, conn: sqlite3.Connection, path: Path, begin: str) -> None:
        self._conn, self._path, self._begin = conn, path, begin

    def __enter__(self) -> None:
        try:
            self._conn.execute(self._begin)
        except sqlite3.Error as exc:
            raise StoreError("store.busy", self._path, f"could not begin: {exc}") from exc

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            try:
                self._conn.execute("COMMIT")
                return
            except sqlite3.Error as error:
                self._conn.execute("ROLLBACK")
                raise StoreError("store.write-failed", self._path, str(error)) from error
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise StoreError("store.write-failed", self._path, str(exc)) from exc
