"""The web front's read-only access to the published warehouse, across publishes.

A run publishes by renaming a freshly built file over ``warehouse.duckdb`` (``replace_published``). A connection
opened before the rename keeps reading the old file (the old inode) — consistent, never half-published — so the
web front notices a new file by its inode and change time and opens it for the requests that start after that;
requests already running finish on the old one. Connections are read-only, so the web front never blocks a run
nor alters the warehouse.

DuckDB caches one database instance per path inside a process: a second ``duckdb.connect(path)`` while a first
is open returns the first's instance, i.e. the *old* file after a rename. So each generation of the file is
opened as ``ATTACH … (READ_ONLY)`` in a fresh in-memory database, which is not shared through that cache, and
every request works on its own cursor of it (DuckDB connections are not shared between threads).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from flows.errors import WarehouseError

#: The name the warehouse is attached under in each generation's in-memory database.
ALIAS = "wh"


class NoWarehouse(WarehouseError):
    """No warehouse is published in this home yet."""


@dataclass
class _Generation:
    identity: tuple[int, int, int]
    database: duckdb.DuckDBPyConnection
    users: int = 0
    retired: bool = False


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return (status.st_dev, status.st_ino, status.st_ctime_ns)


class PublishedWarehouse:
    """``with warehouse.cursor() as con:`` — a read-only cursor on the file published now."""

    def __init__(self, path: Path, memory_limit: str = "1GB", threads: int = 2):
        self.path = path
        self._config = {"memory_limit": memory_limit, "threads": threads}
        self._lock = threading.Lock()
        self._current: _Generation | None = None

    def _open(self, identity: tuple[int, int, int]) -> _Generation:
        database = duckdb.connect(":memory:", config=self._config)
        try:
            database.execute(f"ATTACH ? AS {ALIAS} (READ_ONLY)", [str(self.path)]).fetchall()
        except duckdb.Error as e:
            database.close()
            raise WarehouseError(f"{self.path}: cannot be opened read-only ({e})") from None
        database.execute(f"USE {ALIAS}").fetchall()
        return _Generation(identity, database)

    def _acquire(self) -> _Generation:
        with self._lock:
            identity = _identity(self.path)
            if identity is None:
                raise NoWarehouse(f"{self.path}: no warehouse here yet; `getihu run` publishes one")
            if self._current is None or self._current.identity != identity:
                previous = self._current
                self._current = self._open(identity)
                if previous is not None:
                    previous.retired = True
                    self._close_if_unused(previous)
            self._current.users += 1
            return self._current

    def _release(self, generation: _Generation) -> None:
        with self._lock:
            generation.users -= 1
            self._close_if_unused(generation)

    @staticmethod
    def _close_if_unused(generation: _Generation) -> None:
        if generation.retired and generation.users == 0:
            generation.database.close()

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        generation = self._acquire()
        try:
            con = generation.database.cursor()
            try:
                con.execute(f"USE {ALIAS}").fetchall()
                yield con
            finally:
                con.close()
        finally:
            self._release(generation)

    def close(self) -> None:
        with self._lock:
            if self._current is not None:
                self._current.retired = True
                self._close_if_unused(self._current)
                self._current = None
