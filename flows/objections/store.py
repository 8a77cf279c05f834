"""The objection store ``<home>/objections/objections.sqlite3``: objections, their events, corrections attached,
re-judgments and amendments (objections.md, "The procedure").

SQLite in WAL mode: readers never block the writer nor each other, and writers queue on a lock with a busy
timeout instead of failing, so the web desk can file objections while a handler decides and a cycle publishes.
Every write is one ``BEGIN IMMEDIATE`` transaction (the write lock is taken before anything is read, so two
handlers cannot both decide from the same state). It is never the published warehouse, which a run replaces:
the warehouse gets a copy of these tables at each publish (``flows.objections.warehouse_tables``).

Nothing is ever deleted: an objection row holds its current state, and every change to it is also an event
row with the handler and the time, written in the same transaction. No row holds a clear phone number or ID.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flows.home import now_in_china
from schemas.objections import Event

STORE_FILE = "objections.sqlite3"
BUSY_TIMEOUT_MS = 60_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objections (
    objection_no TEXT PRIMARY KEY,      -- 异议编号
    province TEXT NOT NULL,
    cycle_id TEXT,                      -- null when no published cycle has the as-of date (UNKNOWN_CYCLE)
    as_of TEXT NOT NULL,                -- 判定日期 objected to
    business_key TEXT,                  -- null when the business is unknown
    uscc TEXT NOT NULL,                 -- as filed
    name TEXT,
    filed_on TEXT NOT NULL,             -- 提出日期
    received_on TEXT NOT NULL,          -- the day the office received it (intake counts from here)
    filed_by TEXT,
    phone_masked TEXT,                  -- 联系电话, masked: never in clear
    claimed_type TEXT,
    grounds TEXT,
    materials TEXT,
    origin TEXT NOT NULL,               -- objection.csv file and line, or 'web'
    status TEXT NOT NULL,
    refusal TEXT,
    intake_due TEXT NOT NULL,
    accepted_on TEXT,
    decision_due TEXT,
    decision TEXT,
    decision_reasons TEXT,
    decided_on TEXT,
    correction_due TEXT,
    type_before TEXT,                   -- the type the cycle published
    type_after TEXT,                    -- the re-judged type the decision rests on
    amended_on TEXT,
    replied_on TEXT,
    calendar_provisional INTEGER NOT NULL DEFAULT 0  -- a deadline falls in a year the calendar does not know yet
);
CREATE TABLE IF NOT EXISTS events (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT,
    objection_no TEXT NOT NULL REFERENCES objections(objection_no),
    kind TEXT NOT NULL,
    handler TEXT NOT NULL,
    at TEXT NOT NULL,                   -- ISO 8601 with the +08:00 offset
    detail TEXT NOT NULL                -- JSON
);
CREATE TABLE IF NOT EXISTS corrections (
    correction_id INTEGER PRIMARY KEY AUTOINCREMENT,
    objection_no TEXT NOT NULL REFERENCES objections(objection_no),
    source TEXT NOT NULL,
    file TEXT NOT NULL,                 -- under objections/<异议编号>/
    sha256 TEXT NOT NULL,
    rows INTEGER NOT NULL,
    confirmed_by TEXT NOT NULL,         -- 确认部门
    confirmation_no TEXT NOT NULL,      -- 确认文号
    handler TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejudgments (
    rejudgment_id INTEGER PRIMARY KEY AUTOINCREMENT,
    objection_no TEXT NOT NULL REFERENCES objections(objection_no),
    type_before TEXT NOT NULL,
    type_after TEXT NOT NULL,
    comparison TEXT NOT NULL,           -- JSON: features, conditions, criteria, changes before/after
    handler TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS amendments (
    amendment_id INTEGER PRIMARY KEY AUTOINCREMENT,
    province TEXT NOT NULL,
    cycle_id TEXT NOT NULL,
    business_key TEXT NOT NULL,
    type_before TEXT NOT NULL,
    type_after TEXT NOT NULL,
    reasons_after TEXT NOT NULL,        -- JSON list of codes
    conditions_met TEXT NOT NULL,       -- JSON list
    criteria_failed TEXT NOT NULL,      -- JSON list
    objection_no TEXT NOT NULL REFERENCES objections(objection_no),
    amended_on TEXT NOT NULL,
    package TEXT,                       -- corrections-<NNN> folder that carried it to the national directory
    handler TEXT NOT NULL,
    at TEXT NOT NULL
);
"""

#: Nothing is ever deleted: the database itself refuses it.
_KEPT = "".join(
    f"CREATE TRIGGER IF NOT EXISTS {table}_kept BEFORE DELETE ON {table} "
    f"BEGIN SELECT RAISE(ABORT, '{table} are never deleted'); END;\n"
    for table in ("objections", "events", "corrections", "rejudgments", "amendments")
)


@contextmanager
def write_transaction(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction on ``con`` (autocommit mode), the write lock taken first — waiting up to the busy timeout
    for another writer — committed when the block ends, rolled back on any error."""
    con.execute("BEGIN IMMEDIATE")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


class StoreError(Exception):
    """An action the store refuses (unknown objection, wrong status); the message is for the handler."""


def store_dir(home: Path) -> Path:
    return home / "objections"


def store_path(home: Path) -> Path:
    return store_dir(home) / STORE_FILE


def objection_dir(home: Path, objection_no: str) -> Path:
    """Where an objection's confirmed corrections are kept: ``<home>/objections/<异议编号>/``."""
    if not objection_no or any(c in objection_no for c in "/\\\0") or objection_no in (".", ".."):
        raise StoreError(f"异议编号 {objection_no!r} 不能用作目录名")
    return store_dir(home) / objection_no


class Store:
    """One connection to a home's objection store; use as a context manager."""

    def __init__(self, home: Path, clock=now_in_china) -> None:
        self.home = home
        self.clock = clock
        path = store_path(home)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        self.con.row_factory = sqlite3.Row
        self.con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self.con.execute("PRAGMA journal_mode = WAL")
        self.con.execute("PRAGMA synchronous = NORMAL")
        self.con.execute("PRAGMA foreign_keys = ON")
        self.con.executescript(_SCHEMA + _KEPT)  # idempotent; a concurrent creator waits on the busy timeout

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, the write lock taken first (waits up to the busy timeout for another writer)."""
        if self.con.in_transaction:
            yield self.con
            return
        with write_transaction(self.con):
            yield self.con

    def now(self) -> str:
        return self.clock().isoformat()

    # --- events ------------------------------------------------------------------------------------------

    def event(self, objection_no: str, kind: Event, handler: str, detail: dict | None = None) -> None:
        if not handler or not handler.strip():
            raise StoreError("每一步都须写明经办人（--handler）")
        self.con.execute(
            "INSERT INTO events (objection_no, kind, handler, at, detail) VALUES (?, ?, ?, ?, ?)",
            (objection_no, str(kind), handler.strip(), self.now(), json.dumps(detail or {}, ensure_ascii=False)),
        )

    def events(self, objection_no: str) -> list[sqlite3.Row]:
        return self.con.execute(
            "SELECT * FROM events WHERE objection_no = ? ORDER BY event_id", (objection_no,)
        ).fetchall()

    # --- objections --------------------------------------------------------------------------------------

    def exists(self, objection_no: str) -> bool:
        return (
            self.con.execute("SELECT 1 FROM objections WHERE objection_no = ?", (objection_no,)).fetchone() is not None
        )

    def add(self, row: dict, handler: str) -> None:
        """File a new objection (its FILED event in the same transaction)."""
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self.transaction():
            self.con.execute(f"INSERT INTO objections ({columns}) VALUES ({marks})", tuple(row.values()))
            self.event(row["objection_no"], Event.FILED, handler, {"origin": row["origin"]})

    def get(self, objection_no: str) -> sqlite3.Row:
        row = self.con.execute("SELECT * FROM objections WHERE objection_no = ?", (objection_no,)).fetchone()
        if row is None:
            raise StoreError(f"没有异议编号为 {objection_no} 的异议")
        return row

    def update(self, objection_no: str, **values) -> None:
        sets = ", ".join(f"{k} = ?" for k in values)
        self.con.execute(f"UPDATE objections SET {sets} WHERE objection_no = ?", (*values.values(), objection_no))

    def all(self) -> list[sqlite3.Row]:
        return self.con.execute("SELECT * FROM objections ORDER BY received_on, objection_no").fetchall()

    def open_on(self, cycle_id: str, business_key: str, open_statuses: tuple[str, ...]) -> list[str]:
        marks = ", ".join("?" for _ in open_statuses)
        rows = self.con.execute(
            f"SELECT objection_no FROM objections WHERE cycle_id = ? AND business_key = ? AND status IN ({marks})",
            (cycle_id, business_key, *open_statuses),
        ).fetchall()
        return [r[0] for r in rows]

    # --- corrections, re-judgments, amendments -----------------------------------------------------------

    def add_correction(self, objection_no: str, entry: dict, handler: str) -> None:
        self.con.execute(
            "INSERT INTO corrections (objection_no, source, file, sha256, rows, confirmed_by, confirmation_no, "
            "handler, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                objection_no,
                entry["source"],
                entry["file"],
                entry["sha256"],
                entry["rows"],
                entry["confirmed_by"],
                entry["confirmation_no"],
                handler,
                self.now(),
            ),
        )

    def corrections(self, objection_no: str) -> list[sqlite3.Row]:
        return self.con.execute(
            "SELECT * FROM corrections WHERE objection_no = ? ORDER BY correction_id", (objection_no,)
        ).fetchall()

    def add_rejudgment(self, objection_no: str, type_before: str, type_after: str, comparison: dict, handler: str):
        self.con.execute(
            "INSERT INTO rejudgments (objection_no, type_before, type_after, comparison, handler, at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (objection_no, type_before, type_after, json.dumps(comparison, ensure_ascii=False), handler, self.now()),
        )

    def latest_rejudgment(self, objection_no: str) -> sqlite3.Row | None:
        return self.con.execute(
            "SELECT * FROM rejudgments WHERE objection_no = ? ORDER BY rejudgment_id DESC LIMIT 1", (objection_no,)
        ).fetchone()

    def add_amendment(self, row: dict) -> int:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        cursor = self.con.execute(f"INSERT INTO amendments ({columns}) VALUES ({marks})", tuple(row.values()))
        return cursor.lastrowid

    def amendments(self, cycle_id: str | None = None) -> list[sqlite3.Row]:
        if cycle_id is None:
            return self.con.execute("SELECT * FROM amendments ORDER BY amendment_id").fetchall()
        return self.con.execute(
            "SELECT * FROM amendments WHERE cycle_id = ? ORDER BY amendment_id", (cycle_id,)
        ).fetchall()

    def set_package(self, amendment_ids: list[int], package: str) -> None:
        marks = ", ".join("?" for _ in amendment_ids)
        self.con.execute(
            f"UPDATE amendments SET package = ? WHERE amendment_id IN ({marks})", (package, *amendment_ids)
        )


def open_store(home: Path, clock=now_in_china) -> Store:
    return Store(home, clock)


def as_date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None
