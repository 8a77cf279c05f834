"""Stage ``validate``: the cycle's raw rows checked against extracts.md, split into accepted and quarantined.

Writes, under ``cycle.work_dir``: ``accepted/<source>.parquet`` for every source (an empty typed table for a
missing optional source), ``quarantine.parquet`` and ``inputs.json`` (docs/architecture.md, "Files between
stages"). A source whose quarantined share exceeds ``cycle.quarantine_threshold`` stops the run after the
quarantine and the counts are written, and its accepted tables are removed so no later stage can use them.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from flows.context import Cycle, StageResult
from flows.errors import InputError, QuarantineThresholdError
from flows.ingest import quoted, raw_columns, raw_table
from flows.reference import industries, province_regions
from schemas.extracts import accepted_schema, empty_accepted
from schemas.sources import SOURCES, Kind, Source
from transforms.rows import (
    KEY_SEPARATOR,
    QUARANTINE_SCHEMA,
    Context,
    checked,
    conflict_entries,
    deduplicated,
    factor_name,
    key_text_columns,
    rule_entries,
    valid_rows,
)

TOP_RULES = 3
WORK_FILE_ZSTD_LEVEL = 1  # staging files are read once by the next stage: level 1 writes a third faster, same size
DUCKDB_MEMORY = "1GB"  # DuckDB only scans the raw layer here; the frames live in Polars


@dataclass(frozen=True)
class LoadedFile:
    name: str
    sha256: str
    format: str
    encoding: str | None
    load_id: str
    rows: int
    headers: dict[str, str]  # canonical -> delivered
    factors: dict[str, int]


def _loaded_files(con: duckdb.DuckDBPyConnection, inbox: Path) -> dict[str, list[LoadedFile]]:
    rows = con.execute(
        "SELECT source, file, sha256, format, encoding, load_id, rows, headers, factors FROM _files "
        "WHERE inbox = ? ORDER BY file",
        [str(inbox.resolve())],
    ).fetchall()
    files: dict[str, list[LoadedFile]] = {}
    for source, name, sha256, fmt, encoding, load_id, count, headers, factors in rows:
        files.setdefault(source, []).append(
            LoadedFile(name, sha256, fmt, encoding, load_id, count, json.loads(headers), json.loads(factors))
        )
    return files


def _in_line_order(rows: pl.DataFrame) -> pl.DataFrame:
    return rows if rows["_line"].is_sorted() else rows.sort("_line")


def _raw_rows(con: duckdb.DuckDBPyConnection, source: Source, file: LoadedFile) -> pl.DataFrame:
    """The raw rows of one file, in line order, with each money column's unit factor."""
    columns = ", ".join(quoted(c) for c in ("_file", "_line", *raw_columns(source)))
    rows = con.sql(f"SELECT {columns} FROM {raw_table(source.name)} WHERE _load_id = ?", params=[file.load_id]).pl()
    money = [c for c in source.columns if c.kind is Kind.MONEY]
    return _in_line_order(rows).with_columns(
        pl.lit(file.factors.get(c.name, 1), dtype=pl.Int64).alias(factor_name(c)) for c in money
    )


def _raw_keys(con: duckdb.DuckDBPyConnection, source: Source, conflicting: pl.DataFrame) -> pl.DataFrame:
    """Lineage and key text, as delivered, of the (few) rows of conflicting duplicate keys."""
    columns = ", ".join(f"r.{quoted(c)}" for c in key_text_columns(source))
    con.register("_conflicting", conflicting.to_arrow())
    try:
        return con.sql(
            f"SELECT r._file, r._line, {columns} FROM {raw_table(source.name)} r "
            "JOIN _conflicting c ON r._file = c._file AND r._line = c._line"
        ).pl()
    finally:
        con.unregister("_conflicting")


def _delivered_headers(quarantine: pl.DataFrame, source: Source, files: list[LoadedFile]) -> pl.DataFrame:
    """``column`` as the data owner delivered it: the header of that file (parts of a key joined by ``+``)."""
    by_file = {f.name: f.headers for f in files}
    pairs = quarantine.select("file", "column").unique()
    shown = [
        KEY_SEPARATOR.join(by_file[file].get(c, source.column(c).header) for c in column.split(KEY_SEPARATOR))
        for file, column in pairs.iter_rows()
    ]
    lookup = pairs.with_columns(pl.Series("header", shown, dtype=pl.String))
    return (
        quarantine.join(lookup, on=["file", "column"], how="left")
        .with_columns(pl.col("header").alias("column"))
        .select(list(QUARANTINE_SCHEMA))
        .sort("file", "line", "column", "rule")
    )


def _per_file(frame: pl.DataFrame, name: str) -> dict[str, int]:
    return dict(frame.group_by("_file").agg(pl.len().alias(name)).iter_rows())


def _write_accepted(accepted: pl.DataFrame, source: Source, cycle: Cycle) -> None:
    """The pandera model of the source, then the file: a table that breaks its model is never written."""
    valid = accepted_schema(source.name, cycle.as_of).validate(accepted)
    valid.write_parquet(cycle.accepted(source.name), compression_level=WORK_FILE_ZSTD_LEVEL)


def _validate_source(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    files: list[LoadedFile],
    cycle: Cycle,
    context: Context,
    writer: ThreadPoolExecutor,
) -> tuple[dict, pl.DataFrame, Counter, Future]:
    """Check a source; returns its inputs.json entry, its quarantine, its rule counts, and the pending write
    of its accepted table (model check and Parquet on ``writer``, while the next source is checked).

    Rows are checked file by file (memory holds one file's text at a time); duplicates across files are
    found on the typed values of the whole source.
    """
    entries: list[pl.DataFrame] = [pl.DataFrame(schema=QUARANTINE_SCHEMA)]
    valid: list[pl.DataFrame] = []
    delivered: dict[str, int] = {}
    for file in files:
        checked_rows = checked(_raw_rows(con, source, file), source, context)
        delivered[file.name] = checked_rows.height
        entries.append(rule_entries(checked_rows, source))
        valid.append(valid_rows(checked_rows, source))
        del checked_rows
    result = deduplicated(pl.concat(valid), source)
    del valid
    if result.conflicting.height:
        entries.append(conflict_entries(_raw_keys(con, source, result.conflicting), source))
    accepted = result.accepted
    written = writer.submit(_write_accepted, accepted, source, cycle)
    quarantine = _delivered_headers(pl.concat(entries), source, files)
    quarantined_rows = quarantine.select(pl.col("file").alias("_file"), pl.col("line").alias("_line")).unique()
    counts = {
        "rows": delivered,
        "accepted": _per_file(accepted, "accepted"),
        "quarantined": _per_file(quarantined_rows, "quarantined"),
        "duplicates_collapsed": _per_file(result.collapsed, "duplicates_collapsed"),
    }
    entries_json = [
        {
            "file": f.name,
            "sha256": f.sha256,
            "format": f.format,
            "encoding": f.encoding,
            **{key: per_file.get(f.name, 0) for key, per_file in counts.items()},
        }
        for f in files
    ]
    totals = {key: sum(e[key] for e in entries_json) for key in counts}
    if totals["rows"] != totals["accepted"] + totals["quarantined"] + totals["duplicates_collapsed"]:
        raise AssertionError(f"{source.name}: rows do not reconcile: {totals}")  # a bug, never bad input
    if source.required and totals["accepted"] + totals["quarantined"] == 0:
        raise InputError(cycle.inbox_dir / files[0].name, f"{source.label} has no records; expected at least one")
    rules = Counter(dict(quarantine.group_by("rule").agg(pl.len()).iter_rows()))
    return {"source": source.name, "status": "loaded", **totals, "files": entries_json}, quarantine, rules, written


def _missing(source: Source, cycle: Cycle) -> dict:
    if source.required:
        raise InputError(cycle.inbox_dir, f"has no {source.name} rows in the raw layer; run ingest first")
    empty_accepted(source.name).write_parquet(cycle.accepted(source.name))
    totals = dict.fromkeys(("rows", "accepted", "quarantined", "duplicates_collapsed"), 0)
    return {"source": source.name, "status": "missing", **totals, "files": []}


def _threshold_message(over: list[tuple[dict, Counter]], cycle: Cycle, quarantine_path: Path) -> str:
    parts = []
    for entry, rules in over:
        top = ", ".join(f"{rule} ({n})" for rule, n in sorted(rules.items(), key=lambda r: (-r[1], r[0]))[:TOP_RULES])
        share = entry["quarantined"] / entry["rows"]
        parts.append(
            f"{entry['source']}: {entry['quarantined']} of {entry['rows']} rows quarantined ({share:.1%}); "
            f"most frequent rules: {top}"
        )
    return (
        f"Stopped: the quarantined share exceeds the threshold of {cycle.quarantine_threshold:.1%} in "
        + "; ".join(parts)
        + f". Nothing was published. The quarantined rows are in {quarantine_path}."
    )


def _context(cycle: Cycle) -> Context:
    return Context(
        as_of=cycle.as_of,
        province=cycle.province,
        regions=tuple(province_regions(cycle.province)["region_code"]),
        sections=dict(industries().select("division", "section").iter_rows()),
    )


def validate(cycle: Cycle) -> StageResult:
    """Check the cycle's raw rows; write accepted tables, ``quarantine.parquet`` and ``inputs.json``."""
    shutil.rmtree(cycle.accepted_dir, ignore_errors=True)
    cycle.accepted_dir.mkdir(parents=True)
    context = _context(cycle)
    entries: list[dict] = []
    quarantines: list[pl.DataFrame] = [pl.DataFrame(schema=QUARANTINE_SCHEMA)]
    over: list[tuple[dict, Counter]] = []
    with (
        duckdb.connect(str(cycle.raw_db), read_only=True, config={"memory_limit": DUCKDB_MEMORY}) as con,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="accepted-writer") as writer,
    ):
        files = _loaded_files(con, cycle.inbox_dir)
        writes: list[Future] = []
        for source in SOURCES.values():
            if source.name not in files:
                entries.append(_missing(source, cycle))
                continue
            entry, quarantine, rules, written = _validate_source(
                con, source, files[source.name], cycle, context, writer
            )
            writes.append(written)
            entries.append(entry)
            quarantines.append(quarantine)
            if entry["rows"] and entry["quarantined"] / entry["rows"] > cycle.quarantine_threshold:
                over.append((entry, rules))
        for written in writes:
            written.result()  # a table that breaks its pandera model is a bug: raise it here
    quarantine_path = cycle.work_dir / "quarantine.parquet"
    pl.concat(quarantines).write_parquet(quarantine_path)
    inputs_path = cycle.work_dir / "inputs.json"
    inputs_path.write_text(json.dumps({"sources": entries}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if over:
        shutil.rmtree(cycle.accepted_dir)
        raise QuarantineThresholdError(_threshold_message(over, cycle, quarantine_path))
    outputs = (*(cycle.accepted(s) for s in SOURCES), quarantine_path, inputs_path)
    return StageResult(stage="validate", outputs=outputs, rows={e["source"]: e["accepted"] for e in entries})
