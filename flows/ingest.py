"""Stage ``ingest``: every file of the cycle's inbox into the province's raw layer (``raw.duckdb``).

The raw layer keeps every delivered row as delivered text, one table ``raw_<source>`` per source, with its
lineage (``_source``, ``_file``, ``_sha256``, ``_line``, ``_load_id``) and any extra columns of the file.
Personal IDs are keyed before the rows are written (``transforms.personal``): the clear value never reaches
the database. ``_files`` records each loaded file: its inbox, name, checksum, format, encoding, row count and
header (which delivered header is which canonical column, and each money column's unit).

A file is identified by its inbox and name: loading it again unchanged is a no-op; a changed file (new
sha256) replaces its predecessor's rows; a file gone from the inbox takes its rows with it. Each file is
loaded in its own transaction: an unusable file leaves its predecessor in place.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from queue import Full, Queue
from typing import TypeVar

import duckdb
import polars as pl

from flows.context import Cycle, StageResult
from flows.errors import InputError
from flows.readers import InboxConfig, InboxFile, inbox_config, inbox_files, opened, sha256_of
from schemas.sources import SOURCES, Source
from transforms.headers import HeaderError, HeaderMap, mapped_headers
from transforms.personal import kept_columns, keyed, keyed_lookup, masked_name, rule_name

T = TypeVar("T")

LINEAGE_COLUMNS = {
    "_source": "VARCHAR",
    "_file": "VARCHAR",
    "_sha256": "VARCHAR",
    "_line": "BIGINT",
    "_load_id": "VARCHAR",
}

_FILES_TABLE = """
CREATE TABLE IF NOT EXISTS _files (
    inbox VARCHAR NOT NULL,     -- absolute path of the inbox folder
    file VARCHAR NOT NULL,      -- name relative to the inbox
    source VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    format VARCHAR NOT NULL,
    encoding VARCHAR,           -- CSV only
    load_id VARCHAR NOT NULL,
    rows BIGINT NOT NULL,
    headers VARCHAR NOT NULL,   -- JSON: canonical column -> header as delivered
    factors VARCHAR NOT NULL,   -- JSON: money column -> factor to yuan of its header's unit
    PRIMARY KEY (inbox, file)
)
"""


def raw_table(source: str) -> str:
    return f"raw_{source}"


def raw_columns(source: Source) -> list[str]:
    """Contract columns of ``raw_<source>``: delivered text, and for a personal ID its kept forms, rule, mask."""
    names: list[str] = []
    for column in source.columns:
        if column.personal:
            names.extend((*kept_columns(column), rule_name(column), masked_name(column)))
        else:
            names.append(column.name)
    return names


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_FILES_TABLE)
    for source in SOURCES.values():
        columns = [f"{quoted(n)} {t}" for n, t in LINEAGE_COLUMNS.items()]
        columns += [f"{quoted(n)} VARCHAR" for n in raw_columns(source)]
        con.execute(f"CREATE TABLE IF NOT EXISTS {raw_table(source.name)} ({', '.join(columns)})")


def load_id_of(inbox: Path, name: str, sha256: str) -> str:
    """Deterministic: the same file content at the same place always gets the same load id."""
    return hashlib.sha256(f"{inbox}\0{name}\0{sha256}".encode()).hexdigest()[:16]


def _header_map(file: InboxFile, headers: list[str], config: InboxConfig) -> HeaderMap:
    try:
        return mapped_headers(SOURCES[file.source], headers, config.aliases.get(file.source, {}))
    except HeaderError as error:
        raise InputError(file.path, str(error), line=1) from None


def _targets(headers: list[str], header_map: HeaderMap) -> dict[str, str]:
    """Positional column (``_c3``) -> raw-layer column: the canonical name, or the delivered header of an extra."""
    targets: dict[str, str] = {}
    for i, header in enumerate(headers):
        target = header_map.canonical.get(header, header.strip() or f"column_{i + 1}")
        if target in targets.values():  # an extra header delivered twice keeps both columns
            target = f"{target}_{i + 1}"
        targets[f"_c{i}"] = target
    return targets


@dataclass(frozen=True)
class _Delivery:
    """One file to load: where it is, what it is, and how its header maps."""

    file: InboxFile
    sha256: str
    load_id: str
    encoding: str | None
    header_map: HeaderMap
    extras: tuple[str, ...]  # raw-layer columns of no contract column


def _prepared(
    files: list[tuple[InboxFile, str]], cycle: Cycle, config: InboxConfig
) -> Iterator[tuple[_Delivery, pl.DataFrame | None]]:
    """Every batch of every file, read, mapped and keyed; after a file's last batch, ``(delivery, None)``.

    Each distinct personal ID of the run is keyed once (``lookups``), in whichever file and batch it first
    appears.
    """
    lookups: dict[str, pl.DataFrame] = {}
    for file, sha256 in files:
        source = SOURCES[file.source]
        with (
            tempfile.TemporaryDirectory(dir=cycle.raw_db.parent) as scratch,
            opened(file, config, Path(scratch)) as data,
        ):
            header_map = _header_map(file, data.headers, config)
            targets = _targets(data.headers, header_map)
            contract = set(header_map.canonical.values())
            load_id = load_id_of(cycle.inbox_dir.resolve(), file.name, sha256)
            extras = tuple(t for t in targets.values() if t not in contract)
            delivery = _Delivery(file, sha256, load_id, data.encoding, header_map, extras)
            personal = [c for c in source.columns if c.personal and c.name in contract]
            for batch in data.batches:
                batch = batch.rename(targets)
                for column in personal:
                    known = lookups.get(column.name)
                    lookups[column.name] = keyed_lookup(batch[column.name], column, cycle.secret, known)
                    batch = keyed(batch, column, lookups[column.name])
                yield delivery, batch
            yield delivery, None


def _in_background(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """``items`` produced in a thread, ``depth`` ahead of the consumer.

    DuckDB appends on one core; meanwhile Polars reads and keys the next batch on the other.
    Exceptions of the producer reach the consumer; a consumer that stops early stops the producer.
    """
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, object]) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(("item", item)):
                    return
            put(("end", None))
        except BaseException as error:  # handed to the consumer, which raises it
            put(("error", error))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="ingest-reader", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join()


def _insert(con: duckdb.DuckDBPyConnection, delivery: _Delivery, batch: pl.DataFrame) -> None:
    con.register("_batch", batch.to_arrow())
    # constant lineage added by DuckDB: cheaper than millions of copies of the same strings from Polars
    lineage = "? AS _source, ? AS _file, ? AS _sha256, ? AS _load_id"
    file = delivery.file
    con.execute(
        f"INSERT INTO {raw_table(file.source)} BY NAME SELECT *, {lineage} FROM _batch",
        [file.source, file.name, delivery.sha256, delivery.load_id],
    )
    con.unregister("_batch")


def _record(con: duckdb.DuckDBPyConnection, inbox: str, delivery: _Delivery, rows: int) -> None:
    file = delivery.file
    con.execute(
        "INSERT INTO _files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            inbox,
            file.name,
            file.source,
            delivery.sha256,
            file.format,
            delivery.encoding,
            delivery.load_id,
            rows,
            json.dumps(delivery.header_map.delivered, ensure_ascii=False, sort_keys=True),
            json.dumps(delivery.header_map.factors, sort_keys=True),
        ],
    )


def _forget(con: duckdb.DuckDBPyConnection, inbox: str, name: str) -> None:
    found = con.execute("SELECT source, load_id FROM _files WHERE inbox = ? AND file = ?", [inbox, name]).fetchone()
    if found is None:
        return
    source, load_id = found
    con.execute(f"DELETE FROM {raw_table(source)} WHERE _load_id = ?", [load_id])
    con.execute("DELETE FROM _files WHERE inbox = ? AND file = ?", [inbox, name])


def _load(
    con: duckdb.DuckDBPyConnection, inbox: str, files: list[tuple[InboxFile, str]], cycle: Cycle, config: InboxConfig
) -> None:
    """Load ``files`` (with their checksums), each in its own transaction, replacing what the raw layer held of
    them: DuckDB holds at most one file's rows uncommitted, and an unusable file leaves its predecessor."""
    with con.cursor() as tx:
        current, rows = None, 0
        try:
            for delivery, batch in _in_background(_prepared(files, cycle, config)):
                if delivery is not current:
                    tx.begin()
                    _forget(tx, inbox, delivery.file.name)
                    for extra in delivery.extras:
                        table = raw_table(delivery.file.source)
                        tx.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {quoted(extra)} VARCHAR")
                    current, rows = delivery, 0
                if batch is None:
                    _record(tx, inbox, delivery, rows)
                    tx.commit()
                    current = None
                else:
                    _insert(tx, delivery, batch)
                    rows += batch.height
        except BaseException:
            if current is not None:
                tx.rollback()
            raise


def ingest(cycle: Cycle) -> StageResult:
    """Load every file of ``cycle.inbox_dir`` into ``cycle.raw_db``; returns the rows held per loaded source."""
    inbox = cycle.inbox_dir
    config = inbox_config(inbox)
    files = inbox_files(inbox)
    if not any(f.source == "registration" for f in files):
        raise InputError(
            inbox, "has no registration file; expected registration.csv, registration.xlsx or registration.parquet"
        )
    cycle.raw_db.parent.mkdir(parents=True, exist_ok=True)
    inbox_key = str(inbox.resolve())
    with ThreadPoolExecutor(max_workers=2) as pool:  # hashlib releases the GIL on large blocks
        checksums = dict(zip([f.name for f in files], pool.map(sha256_of, [f.path for f in files]), strict=True))
    with duckdb.connect(str(cycle.raw_db)) as con:
        _create_tables(con)
        loaded = dict(con.execute("SELECT file, sha256 FROM _files WHERE inbox = ?", [inbox_key]).fetchall())
        changed = [(f, checksums[f.name]) for f in files if loaded.get(f.name) != checksums[f.name]]
        for gone in sorted(set(loaded) - set(checksums)):
            _forget(con, inbox_key, gone)
        _load(con, inbox_key, changed, cycle, config)
        counts = con.execute(
            "SELECT source, sum(rows)::BIGINT FROM _files WHERE inbox = ? GROUP BY source", [inbox_key]
        ).fetchall()
    held = dict(counts)
    return StageResult(stage="ingest", outputs=(cycle.raw_db,), rows={s: held[s] for s in SOURCES if s in held})
