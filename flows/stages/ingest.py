"""Stage ``ingest``: every file of the cycle's inbox into the province's raw layer (``raw.duckdb``).

The raw layer keeps every delivered row as delivered text, with its lineage (``_source``, ``_file``,
``_sha256``, ``_line``, ``_load_id``) and any extra columns of the file. Each loaded file's rows are Parquet
files in ``raw/<load_id>/`` beside ``raw.duckdb`` — Polars writes them several times faster than DuckDB appends
rows to a table, and validate reads them straight back — and ``raw.duckdb`` holds one view ``raw_<source>`` per
source over them, so the raw layer is queried in DuckDB as before. The files hold ``_line``; the lineage that
is the same for a whole file is kept once, in ``_files``, and joined in by the view. Personal IDs are keyed
before the rows are written (``transforms.personal``): the clear value is never written. ``_files`` records
each loaded file: its inbox, name, checksum, format, encoding, row count and header (which delivered header is
which canonical column, and each money column's unit).

A file is identified by its inbox and name: loading it again unchanged is a no-op; a changed file (new
sha256) replaces its predecessor's rows; a file gone from the inbox takes its rows with it. A file's rows are
written aside and take their place with its ``_files`` row, in one transaction: an unusable file leaves its
predecessor in place. The views are recreated at the end, and folders no view names are removed after that.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from flows.background import in_background
from flows.errors import InputError
from flows.home import Cycle, StageResult
from flows.progress import tracked
from flows.readers import InboxConfig, InboxFile, inbox_config, inbox_files, opened, sha256_of
from flows.stages.validate import extraction_date
from flows.storage.raw import (
    _PART,
    _PARTS_GLOB,
    LINEAGE_COLUMNS,
    RAW_COMPRESSION,
    RAW_VERSION,
    quoted,
    raw_columns,
    raw_dir,
    raw_parts,
    raw_table,
)
from schemas.sources import SOURCES, Kind, Source
from transforms.headers import HeaderError, HeaderMap, holding_source, mapped_headers, matched_columns
from transforms.keys import key_fingerprint
from transforms.personal import Keyer, ids_masked

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

# What else a loaded file's rows depend on (docs/reliability.md, "Reused between runs"): added to a raw layer
# written before they were recorded, whose rows are then loaded again (their load ids no longer match).
_REUSE_COLUMNS = (
    "ALTER TABLE _files ADD COLUMN IF NOT EXISTS key_fingerprint VARCHAR",  # HMAC of a fixed label, never the key
    "ALTER TABLE _files ADD COLUMN IF NOT EXISTS settings VARCHAR",  # JSON: the source's inbox.toml settings
    "ALTER TABLE _files ADD COLUMN IF NOT EXISTS raw_version INTEGER",
)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


#: Settings of inbox.toml that are per source (source -> setting): a file depends on its own source's entry only.
_PER_SOURCE = ("encodings", "aliases", "values")
#: Settings that never change what a file becomes in the raw layer: the extraction date bounds dates in validate
#: (which keys its reuse by it), the quarantine limits only decide whether a run stops.
_NOT_READING = ("thresholds", "minimums")  # extracted_on reads: it bounds a resident ID's birth date


def source_settings(config: InboxConfig, source: str) -> str:
    """The parsed ``inbox.toml`` settings that may change how a file of ``source`` reads, as canonical JSON: of each
    per-source setting the source's own entry (null without one), and the file mapping as a whole."""
    chosen: dict[str, object] = {}
    for f in dataclasses.fields(config):
        if f.name in _NOT_READING:
            continue
        value = getattr(config, f.name)
        chosen[f.name] = value.get(source) if f.name in _PER_SOURCE else value
    return json.dumps(chosen, ensure_ascii=False, sort_keys=True, default=str)


@dataclass(frozen=True)
class Reuse:
    """Everything a loaded file's rows depend on besides its bytes: the key, the source's settings, the code."""

    key_fingerprint: str
    settings: dict[str, str]  # source -> source_settings
    raw_version: int = RAW_VERSION

    @classmethod
    def of(cls, secret: bytes, config: InboxConfig) -> Reuse:
        return cls(key_fingerprint(secret), {s: source_settings(config, s) for s in SOURCES})


def load_id_of(inbox: Path, name: str, sha256: str, reuse: Reuse, source: str) -> str:
    """Deterministic: the same file content at the same place, keyed under the same key, read with the same
    settings by the same raw-layer version always gets the same load id; any change gives another."""
    parts = (str(inbox), name, sha256, reuse.key_fingerprint, reuse.settings[source], str(reuse.raw_version))
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def _header_map(file: InboxFile, headers: list[str], config: InboxConfig) -> HeaderMap:
    source = SOURCES[file.source]
    other = holding_source(source, headers, list(SOURCES.values()))
    if other is not None:
        matched = matched_columns(other, headers)
        held = "、".join(c.header for c in other.columns if c.name in matched)
        raise InputError(
            file.path,
            f"文件名表示{source.label}（{source.name}），但其中是{other.label}（{other.name}）的列："
            f"{held}；应为{source.label}的列，或把文件命名为 {other.name}*.{file.format}",
            line=1,
        )
    try:
        return mapped_headers(source, headers, config.aliases.get(file.source, {}))
    except HeaderError as error:
        raise InputError(file.path, str(error), line=1) from None


def _targets(headers: list[str], header_map: HeaderMap, source: Source) -> dict[str, str]:
    """Positional column (``_c3``) -> raw-layer column: the canonical name, or the delivered header of an extra.

    An extra whose header is a name the raw layer uses itself (``_line``, ``filename``, ``operator_key``, a
    contract column's) or another extra's keeps its values under ``<header>_<position>``."""
    reserved = {*LINEAGE_COLUMNS, "filename", *raw_columns(source), *header_map.canonical.values()}
    targets: dict[str, str] = {}
    for i, header in enumerate(headers):
        target = header_map.canonical.get(header)
        if target is None:
            target = header.strip() or f"column_{i + 1}"
            while target in reserved or target in targets.values() or re.fullmatch(r"_c[0-9]+", target):
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
    reuse: Reuse


def _raw_rows(batch: pl.DataFrame, delivery: _Delivery) -> pl.DataFrame:
    """A keyed batch as the raw layer's Parquet files hold it: ``_line``, every contract column (null when not
    delivered), extras. The lineage that is the same for every row of a file is joined in by the view."""
    present = set(batch.columns)
    columns = [*raw_columns(SOURCES[delivery.file.source]), *delivery.extras]
    return batch.select(
        pl.col("_line").cast(pl.Int64),
        *(pl.col(c) if c in present else pl.lit(None, dtype=pl.String).alias(c) for c in columns),
    )


def _read(
    changed: Iterable[tuple[InboxFile, str]], cycle: Cycle, config: InboxConfig, reuse: Reuse
) -> Iterator[tuple[_Delivery, pl.DataFrame | None]]:
    """Every batch of every changed file, read and under raw-layer names; after a file's last batch,
    ``(delivery, None)``. A file without records gives one empty batch: the view still reads its columns."""
    for file, sha256 in changed:
        with (
            tempfile.TemporaryDirectory(dir=cycle.raw_db.parent) as scratch,
            opened(file, config, Path(scratch)) as data,
        ):
            header_map = _header_map(file, data.headers, config)
            targets = _targets(data.headers, header_map, SOURCES[file.source])
            contract = set(header_map.canonical.values())
            load_id = load_id_of(cycle.inbox_dir.resolve(), file.name, sha256, reuse, file.source)
            extras = tuple(t for t in targets.values() if t not in contract)
            delivery = _Delivery(file, sha256, load_id, data.encoding, header_map, extras, reuse)
            rows = 0
            for batch in data.batches:
                rows += batch.height
                yield delivery, batch.rename(targets)
            if not rows:
                yield delivery, pl.DataFrame(schema={"_line": pl.Int64})
            yield delivery, None


def _keyed(
    batches: Iterator[tuple[_Delivery, pl.DataFrame | None]], files: list[InboxFile], secret: bytes, born_by: dt.date
) -> Iterator[tuple[_Delivery, pl.DataFrame | None]]:
    """``batches`` with their personal columns keyed, in the raw layer's columns; a resident ID born after
    ``born_by`` (the extraction date) breaks ``resident_id_birth_date``.

    Each distinct value of a personal column is keyed once (``keyers``), in whichever file and batch it first
    appears, and forgotten after the last file of the inbox with that column.
    """
    keyers: dict[str, Keyer] = {}
    last_use = {c.name: i for i, file in enumerate(files) for c in SOURCES[file.source].columns if c.personal}
    for delivery, batch in batches:
        if batch is None:
            yield delivery, None
            index = files.index(delivery.file)
            for name in [n for n, last in last_use.items() if last == index]:
                keyers.pop(name, None)
            continue
        delivered = set(delivery.header_map.canonical.values())
        for column in SOURCES[delivery.file.source].columns:
            if column.personal and column.name in delivered and column.name in batch.columns:
                if column.name not in keyers:
                    keyers[column.name] = Keyer(column, secret, born_by)
                batch = keyers[column.name].keyed(batch)
        yield delivery, _raw_rows(_ids_masked(batch, delivery), delivery)


def _ids_masked(batch: pl.DataFrame, delivery: _Delivery) -> pl.DataFrame:
    """A resident ID where no personal column was declared — an extra column (法定代表人身份证件号码), an ID typed
    into 注册号, an ID shifted into 经营者姓名 by a missing field — is masked before the raw layer is written: the
    raw layer never holds a clear resident ID (docs/reliability.md)."""
    source = SOURCES[delivery.file.source]
    text = [c.name for c in source.columns if not c.personal] + list(delivery.extras)
    uscc = [c.name for c in source.columns if c.kind is Kind.USCC]
    return ids_masked(batch, text, uscc)


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_FILES_TABLE)
    for statement in _REUSE_COLUMNS:
        con.execute(statement)
    tables = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'raw\\_%' ESCAPE '\\'"
    ).fetchall()
    for (table,) in tables:  # a raw layer of DuckDB tables (before the Parquet files): its files are loaded again
        con.execute(f"DROP TABLE {quoted(table)}")
        con.execute("DELETE FROM _files WHERE source = ?", [table.removeprefix("raw_")])


def _view_sql(con: duckdb.DuckDBPyConnection, raw_db: Path, source: Source) -> str:
    """``raw_<source>`` over the Parquet files of every loaded file of the source, of every inbox."""
    load_ids = [
        i
        for (i,) in con.execute(
            "SELECT load_id FROM _files WHERE source = ? ORDER BY load_id", [source.name]
        ).fetchall()
    ]
    name = raw_table(source.name)
    if not load_ids:
        columns = [f"NULL::{'BIGINT' if c == '_line' else 'VARCHAR'} AS {quoted(c)}" for c in LINEAGE_COLUMNS]
        columns += [f"NULL::VARCHAR AS {quoted(c)}" for c in raw_columns(source)]
        return f"CREATE OR REPLACE VIEW {name} AS SELECT {', '.join(columns)} LIMIT 0"
    # the files themselves, never a pattern: a home path may hold [ or ?, which DuckDB would read as a glob
    globs = ", ".join(
        _literal(str(p)) for i in load_ids for p in sorted(raw_parts(raw_db, i).resolve().glob(_PARTS_GLOB))
    )
    lineage = "f.source AS _source, f.file AS _file, f.sha256 AS _sha256, r._line, f.load_id AS _load_id"
    return (
        f"CREATE OR REPLACE VIEW {name} AS SELECT {lineage}, r.* EXCLUDE (_line, filename) "
        f"FROM read_parquet([{globs}], union_by_name = true, filename = true) AS r "
        "JOIN _files AS f ON f.load_id = regexp_extract(r.filename, '([^/]+)/[^/]+$', 1)"
    )


def _record(con: duckdb.DuckDBPyConnection, inbox: str, delivery: _Delivery, rows: int) -> None:
    file = delivery.file
    reuse = delivery.reuse
    con.execute(
        "INSERT INTO _files (inbox, file, source, sha256, format, encoding, load_id, rows, headers, factors, "
        "key_fingerprint, settings, raw_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            reuse.key_fingerprint,
            reuse.settings[file.source],
            reuse.raw_version,
        ],
    )


def _forget(con: duckdb.DuckDBPyConnection, inbox: str, name: str) -> None:
    """Drop a file's ``_files`` row; its Parquet files go once no view names them (``_remove_unreferenced``)."""
    con.execute("DELETE FROM _files WHERE inbox = ? AND file = ?", [inbox, name])


def _remove_unreferenced(con: duckdb.DuckDBPyConnection, raw_db: Path) -> None:
    """Folders of the raw layer no ``_files`` row names: replaced or forgotten files, or a run killed midway."""
    referenced = {i for (i,) in con.execute("SELECT load_id FROM _files").fetchall()}
    folder = raw_dir(raw_db)
    if folder.is_dir():
        for path in folder.iterdir():
            if path.name not in referenced:
                shutil.rmtree(path)


def _swap_in(
    con: duckdb.DuckDBPyConnection, inbox: str, raw_db: Path, delivery: _Delivery, written: Path, rows: int
) -> None:
    """The written rows of a file take the place of its predecessor's: one transaction changes its ``_files`` row.
    The predecessor's folder stays until the views no longer name it (``_refreshed``)."""
    target = raw_parts(raw_db, delivery.load_id)
    shutil.rmtree(target, ignore_errors=True)  # left by a killed run: no _files row names it
    written.rename(target)
    con.begin()
    try:
        _forget(con, inbox, delivery.file.name)
        _record(con, inbox, delivery, rows)
        con.commit()
    except BaseException:
        con.rollback()
        raise


def _refreshed(con: duckdb.DuckDBPyConnection, raw_db: Path) -> None:
    """Every view over the files ``_files`` names, then the folders no view names any longer removed."""
    con.begin()
    for source in SOURCES.values():
        con.execute(_view_sql(con, raw_db, source))
    con.commit()
    _remove_unreferenced(con, raw_db)


def _load(
    con: duckdb.DuckDBPyConnection,
    inbox: str,
    changed: Iterable[tuple[InboxFile, str]],
    files: list[InboxFile],
    cycle: Cycle,
    config: InboxConfig,
    reuse: Reuse,
) -> None:
    """Load the ``changed`` files of ``files`` (with their checksums), one after the other, each replacing its
    predecessor once it has been read completely."""
    staging = raw_dir(cycle.raw_db) / ".staging"
    current, rows, part = None, 0, 0
    try:
        # Polars parses the next batches on one thread, they are keyed on another, written on this one. A resident
        # ID's birth date is bounded by inbox.toml's extracted_on (part of the load id), else by the day of the load:
        # a file loaded that day was extracted by then, so a load reused on a later day keeps a bound that was true.
        read = in_background(_read(changed, cycle, config, reuse))
        keyed = in_background(_keyed(read, files, cycle.secret, extraction_date(config)))
        for delivery, batch in keyed:
            if delivery is not current:
                shutil.rmtree(staging, ignore_errors=True)
                staging.mkdir(parents=True)
                current, rows, part = delivery, 0, 0
            if batch is None:
                _swap_in(con, inbox, cycle.raw_db, delivery, staging, rows)
                current = None
            else:
                batch.write_parquet(staging / _PART.format(part), compression=RAW_COMPRESSION)
                rows += batch.height
                part += 1
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def ingest(cycle: Cycle) -> StageResult:
    """Load every file of ``cycle.inbox_dir`` into ``cycle.raw_db``; returns the rows held per loaded source."""
    inbox = cycle.inbox_dir
    config = inbox_config(inbox)
    reuse = Reuse.of(cycle.secret, config)
    files = inbox_files(inbox, config)
    if not any(f.source == "registration" for f in files):
        raise InputError(
            inbox,
            "没有登记注册信息文件；应有 registration.csv、registration.xlsx 或 registration.parquet，"
            '或在 inbox.toml 中映射到它的文件（[files] "登记注册信息.csv" = "registration"）',
        )
    cycle.raw_db.parent.mkdir(parents=True, exist_ok=True)
    inbox_key = str(inbox.resolve())
    with ThreadPoolExecutor(max_workers=1) as pool, duckdb.connect(str(cycle.raw_db)) as con:
        _create_tables(con)
        loaded = dict(con.execute("SELECT file, load_id FROM _files WHERE inbox = ?", [inbox_key]).fetchall())
        for name in sorted(set(loaded) - {f.name for f in files}):
            _forget(con, inbox_key, name)
        # checksums in file order on a thread of their own (hashlib releases the GIL), ahead of the loading
        checksums = pool.map(sha256_of, [f.path for f in files])
        delivered = zip(tracked(files, "files read"), checksums, strict=True)
        # a file is loaded again when its bytes, the key, its source's settings or the raw-layer version changed
        changed = (
            (f, sha)
            for f, sha in delivered
            if loaded.get(f.name) != load_id_of(inbox.resolve(), f.name, sha, reuse, f.source)
        )
        try:
            _load(con, inbox_key, changed, files, cycle, config, reuse)
        finally:  # the files loaded before an unusable one stay loaded
            _refreshed(con, cycle.raw_db)
        counts = con.execute(
            "SELECT source, sum(rows)::BIGINT FROM _files WHERE inbox = ? GROUP BY source", [inbox_key]
        ).fetchall()
    held = dict(counts)
    return StageResult(stage="ingest", outputs=(cycle.raw_db,), rows={s: held[s] for s in SOURCES if s in held})
