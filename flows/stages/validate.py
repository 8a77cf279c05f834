"""Stage ``validate``: the cycle's raw rows checked against extracts.md, split into accepted and quarantined.

Writes, under ``cycle.work_dir``: ``accepted/<source>.parquet`` for every source (an empty typed table for a
missing optional source), ``accepted/annual_report_conflicts.parquet``, ``quarantine.parquet`` and ``.csv``,
``episode_conflicts.parquet`` and ``inputs.json`` (docs/architecture.md, "Files between stages"). Dates are bounded
by the extraction date of ``inbox.toml`` (else the day of the run), never by the as-of date. A source whose
quarantined share exceeds its threshold AND which has more quarantined rows than its minimum (``limits``) stops the
run after the quarantine and the counts are written, and the accepted tables are removed so no later stage can
use them.

Memory is bounded by a few parts of the raw layer (Parquet files of about ``readers.BATCH_ROWS`` rows each), not
by a source: parts are checked on two threads, a few ahead of the writer, which checks each batch of valid rows
with the source's pandera model and hands it to Polars' streaming Parquet writer. Duplicate keys span a whole
source: a hash of each written row's key is kept aside (8 bytes a row), the rows whose hash repeats are read
back and compared in full, and only a source that has duplicates is rewritten without them.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import duckdb
import pandera.polars as pa
import polars as pl
from polars.io.plugins import register_io_source

from flows.background import ordered_map
from flows.errors import InputError, QuarantineThresholdError
from flows.home import DEFAULT_QUARANTINE_MINIMUM, DEFAULT_QUARANTINE_THRESHOLD, Cycle, StageResult, now_in_china
from flows.progress import tracked
from flows.readers import InboxConfig, enum_spellings, enum_values, inbox_config, unrecognised_files
from flows.storage.raw import raw_columns, raw_parts
from flows.storage.work_files import QUARANTINED_BUSINESSES_FILE
from reference import industries, province_regions
from schemas.accepted import accepted_schema, empty_accepted
from schemas.sources import SOURCES, Kind, Source
from schemas.work_files import (
    EPISODE_CONFLICTS_SCHEMA,
    QUARANTINE_SCHEMA,
    QUARANTINED_BUSINESSES_SCHEMA,
    REPORT_CONFLICTS_SCHEMA,
)
from transforms.validate import (
    KEY_SEPARATOR,
    LINEAGE,
    SET_ASIDE_SCHEMA,
    Context,
    broken_rows,
    businesses_left_out,
    checked,
    conflict_entries,
    deduplicated,
    duplicate_key_hash,
    episode_conflicts,
    factor_name,
    field_entries,
    key_text_columns,
    quarantined_businesses,
    rule_entries,
    set_aside_rows,
    valid_rows,
)

TOP_RULES = 3
WORK_FILE_ZSTD_LEVEL = 1  # staging files are read once by the next stage: level 1 writes a third faster, same size
ROW_GROUP_ROWS = 1 << 20  # accepted tables are written in row groups of this size, whatever the parts' sizes


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


def _loaded_files(raw_db: Path, inbox: Path) -> dict[str, list[LoadedFile]]:
    with duckdb.connect(str(raw_db), read_only=True) as con:
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


def _parts(raw_db: Path, file: LoadedFile) -> list[Path]:
    """The Parquet files of one loaded file, in line order."""
    return sorted(raw_parts(raw_db, file.load_id).glob("*.parquet"))


def _raw_rows(part: Path, source: Source, file: LoadedFile) -> pl.DataFrame:
    """The raw rows of one part, in line order, with each money column's unit factor."""
    rows = pl.read_parquet(part, columns=["_line", *raw_columns(source)], glob=False)
    money = [c for c in source.columns if c.kind is Kind.MONEY]
    rows = rows if rows["_line"].is_sorted() else rows.sort("_line")
    return rows.select(
        pl.lit(file.name, dtype=pl.String).alias("_file"),
        pl.all(),
        *(pl.lit(file.factors.get(c.name, 1), dtype=pl.Int64).alias(factor_name(c)) for c in money),
    )


_LINEAGE_SCHEMA = {"_file": pl.String, "_line": pl.Int64}


@dataclass(frozen=True)
class _Duplicates:
    """Rows of an accepted table that share their key with another: left out, collapsed, and quarantined."""

    dropped: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema={"_position": pl.UInt32}))
    collapsed: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=_LINEAGE_SCHEMA))
    entries: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=QUARANTINE_SCHEMA))
    businesses: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=QUARANTINED_BUSINESSES_SCHEMA))
    conflict_keys: pl.DataFrame | None = None  # typed key and ``versions`` of every key with different contents


def _repeated(hashes: pl.Series) -> pl.Series:
    """Positions, ascending, of the hashes that occur more than once. Sorting finds the repeated hashes of millions
    of rows several times faster than ``is_duplicated`` (7.7M hashes: 0.25 s against 1.8 s), and this runs after
    the writer, on one core."""
    ordered = hashes.sort()
    repeats = ordered.filter(ordered == ordered.shift(1))
    return hashes.is_in(repeats.implode()).arg_true()


def _duplicates(path: Path, source: Source, raw_db: Path, files: list[LoadedFile], hashes: pl.Series) -> _Duplicates:
    """Duplicate keys in the accepted table at ``path``, whose rows' key hashes are ``hashes`` (in its order): the
    rows whose hash repeats are read back and compared in full (``transforms.validate.deduplicated``)."""
    repeated = _repeated(hashes)
    if source.name == "registration":  # a 注册号-only row of a business delivered with its USCC too (issue 13)
        reg_nos = pl.scan_parquet(path, glob=False).select("reg_no").collect().to_series()
        repeated = pl.concat([repeated, (reg_nos.is_not_null() & reg_nos.is_duplicated()).arg_true()]).unique().sort()
    if not len(repeated):
        return _Duplicates()
    suspects = (
        pl.scan_parquet(path, glob=False)
        .with_row_index("_position")
        .filter(pl.col("_position").is_in(repeated.implode()))
        .collect()
    )
    result = deduplicated(suspects, source)
    losers = pl.concat([result.conflicting, result.collapsed])
    return _Duplicates(
        dropped=suspects.join(losers, on=list(LINEAGE), how="semi").select("_position"),
        collapsed=result.collapsed,
        entries=conflict_entries(_raw_keys(raw_db, source, files, result.conflicting), source),
        businesses=(
            quarantined_businesses(suspects.join(result.conflicting, on=list(LINEAGE), how="semi"))
            if source.name == "registration"
            else pl.DataFrame(schema=QUARANTINED_BUSINESSES_SCHEMA)
        ),
        conflict_keys=result.conflict_keys,
    )


def _raw_keys(raw_db: Path, source: Source, files: list[LoadedFile], rows: pl.DataFrame) -> pl.DataFrame:
    """Lineage and key text, as delivered, of the (few) ``rows`` (lineage) of conflicting duplicate keys."""
    found = [pl.DataFrame(schema={**_LINEAGE_SCHEMA, **dict.fromkeys(key_text_columns(source), pl.String)})]
    for file in files:
        lines = rows.filter(pl.col("_file") == file.name)["_line"]
        if len(lines):
            delivered = pl.scan_parquet(_parts(raw_db, file), glob=False).select("_line", *key_text_columns(source))
            found.append(
                delivered.filter(pl.col("_line").is_in(lines.implode()))
                .select(pl.lit(file.name).alias("_file"), pl.all())
                .collect()
            )
    return pl.concat(found)


def _sink_accepted(rows: pl.LazyFrame, path: Path) -> None:
    rows.sink_parquet(path, compression="zstd", compression_level=WORK_FILE_ZSTD_LEVEL, row_group_size=ROW_GROUP_ROWS)


def _without(path: Path, positions: pl.Series) -> None:
    """Rewrite the accepted table at ``path`` without the rows at ``positions``."""
    kept = path.with_name(path.name + ".kept")
    _sink_accepted(
        pl.scan_parquet(path, glob=False)
        .with_row_index("_position")
        .filter(~pl.col("_position").is_in(positions.implode()))
        .drop("_position"),
        kept,
    )
    kept.replace(path)


class _ModelChecked:
    """Batches of an accepted table checked by the source's pandera model, and, across batches, the order of their
    rows by file and line. ``unique`` columns are checked on the whole table once its duplicates are gone
    (``_check_unique``): a batch may hold a row that deduplication removes later."""

    def __init__(self, source: Source, context: Context) -> None:
        schema = accepted_schema(source.name, context.extracted_on)
        unique = [name for name, column in schema.columns.items() if column.unique]
        self.schema = schema.update_columns({name: {"unique": False} for name in unique}) if unique else schema
        self.last: tuple[str, int] | None = None

    def __call__(self, rows: pl.DataFrame) -> pl.DataFrame:
        valid = self.schema.validate(rows)
        if valid.height:
            if self.last is not None and (valid["_file"][0], valid["_line"][0]) <= self.last:
                raise pa.errors.SchemaError(self.schema, valid, "rows are not in file and line order across batches")
            self.last = (valid["_file"][-1], valid["_line"][-1])
        return valid


def _check_unique(path: Path, source: Source, context: Context) -> None:
    """The ``unique`` columns of the source's pandera model, on the whole accepted table."""
    schema = accepted_schema(source.name, context.extracted_on)
    for name in [name for name, column in schema.columns.items() if column.unique]:
        # counting distinct values: the same answer as any(is_duplicated), twice as fast on a million keys
        if pl.scan_parquet(path, glob=False).select(pl.col(name).n_unique() < pl.len()).collect().item():
            path.unlink()
            raise pa.errors.SchemaError(schema, None, f"{path.name}: column {name} has a value twice")


def _write_accepted(path: Path, source: Source, context: Context, batches: Iterator[pl.DataFrame]) -> None:
    """``accepted/<source>.parquet`` from ``batches`` of valid rows in file and line order, each checked by the
    pandera model (``_ModelChecked``) before Polars' streaming writer encodes it on both cores. Row groups have
    ``ROW_GROUP_ROWS`` rows whatever the batches' sizes, so the bytes do not depend on how the raw layer was cut.
    A table that breaks its model is removed and the error raised."""
    model = _ModelChecked(source, context)
    failed: list[BaseException] = []

    def checked_batches(*_: object) -> Iterator[pl.DataFrame]:
        try:
            for rows in batches:
                yield model(rows)
        except BaseException as error:  # raised below, as it is, rather than wrapped by Polars
            failed.append(error)

    _sink_accepted(register_io_source(checked_batches, schema=empty_accepted(source.name).schema), path)
    if failed:
        path.unlink(missing_ok=True)
        raise failed[0]


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


@dataclass(frozen=True)
class _Checked:
    """What validate learnt of one delivered source."""

    entry: dict  # its inputs.json entry
    quarantine: pl.DataFrame
    rules: Counter  # quarantine entries by rule
    conflict_keys: pl.DataFrame | None  # keys delivered with different contents (None: no duplicate key)


def _validate_source(source: Source, files: list[LoadedFile], cycle: Cycle, context: Context) -> _Checked:
    """Check a source part by part, writing its accepted table as it goes; returns its inputs.json entry, its
    quarantine, its rule counts and its conflicting keys.

    Duplicate keys span the source: the valid rows are written as they come, with the hash of each one's key kept
    aside; rows whose hash repeats are then compared in full, and the table is rewritten without the losers only
    when there are any (``_duplicates``).
    """
    entries: list[pl.DataFrame] = [pl.DataFrame(schema=QUARANTINE_SCHEMA)]
    delivered: Counter = Counter()
    accepted: Counter = Counter()
    hashes: list[pl.Series] = []
    set_aside: list[pl.DataFrame] = [pl.DataFrame(schema=QUARANTINED_BUSINESSES_SCHEMA)]  # registration only
    left_out: list[pl.DataFrame] = [pl.DataFrame(schema=SET_ASIDE_SCHEMA)]  # registration only: rows set aside
    fields: list[pl.DataFrame] = [pl.DataFrame(schema=QUARANTINE_SCHEMA)]  # entries of accepted rows' fields
    path = cycle.accepted(source.name)

    def checked_part(file_part: tuple[LoadedFile, Path]) -> tuple[str, int, pl.DataFrame, pl.DataFrame]:
        """Quarantine entries and valid rows of one part (on a worker thread, while the writer writes)."""
        file, part = file_part
        checked_rows = checked(_raw_rows(part, source, file), source, context)
        if source.name == "registration":
            broken = broken_rows(checked_rows, source)
            set_aside.append(quarantined_businesses(broken))
            left_out.append(set_aside_rows(broken))
        fields.append(field_entries(checked_rows, source))
        return file.name, checked_rows.height, rule_entries(checked_rows, source), valid_rows(checked_rows, source)

    def accepted_rows() -> Iterator[pl.DataFrame]:
        parts = [(file, part) for file in files for part in _parts(cycle.raw_db, file)]
        for name, rows, part_entries, valid in ordered_map(checked_part, parts):
            delivered[name] += rows
            accepted[name] += valid.height
            entries.append(part_entries)
            if source.key:
                hashes.append(valid.select(duplicate_key_hash(source)).to_series())
            yield valid

    _write_accepted(path, source, context, accepted_rows())
    duplicates = _duplicates(path, source, cycle.raw_db, files, pl.concat(hashes)) if hashes else _Duplicates()
    if duplicates.dropped.height:
        dropped = (
            pl.scan_parquet(path, glob=False)
            .with_row_index("_position")
            .join(duplicates.dropped.lazy(), on="_position")
        )
        accepted.subtract(dict(dropped.group_by("_file").len().collect().iter_rows()))
        _without(path, duplicates.dropped["_position"])
    _check_unique(path, source, context)
    entries.append(duplicates.entries)
    if source.name == "registration":
        businesses = pl.concat([*set_aside, duplicates.businesses]).unique().sort(pl.all())
        businesses.write_parquet(cycle.work_dir / QUARANTINED_BUSINESSES_FILE)
        conflicting = set_aside_rows(duplicates.businesses.with_columns(_file=None, _line=None))
        businesses_out = businesses_left_out(
            pl.concat([*left_out, conflicting]), pl.scan_parquet(path, glob=False).select("business_key")
        )
    rows_set_aside = pl.concat(entries).select(pl.col("file").alias("_file"), pl.col("line").alias("_line")).unique()
    field_level = pl.concat(fields)
    quarantine = _delivered_headers(pl.concat([*entries, field_level]), source, files)
    counts = {
        "rows": delivered,
        "accepted": accepted,
        "quarantined": _per_file(rows_set_aside, "quarantined"),
        "duplicates_collapsed": _per_file(duplicates.collapsed, "duplicates_collapsed"),
    }
    # fields quarantined in accepted rows (Column.field_only): entries of the quarantine, not rows of it
    fields_quarantined = _per_file(field_level.select(pl.col("file").alias("_file")), "fields")
    entries_json = [
        {
            "file": f.name,
            "sha256": f.sha256,
            "format": f.format,
            "encoding": f.encoding,
            **{key: per_file.get(f.name, 0) for key, per_file in counts.items()},
            "fields_quarantined": fields_quarantined.get(f.name, 0),
        }
        for f in files
    ]
    totals = {key: sum(e[key] for e in entries_json) for key in [*counts, "fields_quarantined"]}
    if totals["rows"] != totals["accepted"] + totals["quarantined"] + totals["duplicates_collapsed"]:
        raise AssertionError(f"{source.name}: rows do not reconcile: {totals}")  # a bug, never bad input
    if source.required and totals["accepted"] + totals["quarantined"] == 0:
        raise InputError(cycle.inbox_dir / files[0].name, f"{source.label}没有记录；至少应有一条")
    entry = {"source": source.name, "status": "loaded", **totals, "files": entries_json}
    if source.name == "registration":  # the summary's "left out": businesses, not rows (issue 12, finding 10)
        entry["businesses_left_out"] = businesses_out
    return _Checked(entry, quarantine, _rule_counts(quarantine), duplicates.conflict_keys)


def _rule_counts(quarantine: pl.DataFrame) -> Counter:
    return Counter(dict(quarantine.group_by("rule").agg(pl.len()).iter_rows()))


# --- reuse between runs: a source's checked tables, kept while everything they depend on holds ---------------

VALIDATED_DIR = "validated"  # under work/<P>/, beside raw.duckdb: validated/<source>/<fingerprint>/

#: The code whose every line may change what validate writes for a source: its modules' bytes are part of the
#: fingerprint, so a changed rule or contract checks every source again (no version number to forget to raise). The
#: modules of flows/ that this module imports are listed one by one (a test holds the list to its imports): a change
#: to publishing (flows/storage/excel.py, warehouse.py) does not check the inbox again.
_VALIDATION_CODE = (
    "schemas",
    "transforms",
    "reference",
    "flows/readers",
    "flows/background.py",
    "flows/errors.py",
    "flows/home.py",
    "flows/progress.py",
    "flows/storage/raw.py",
    "flows/storage/work_files.py",
    "flows/stages/validate.py",
)
_ROOT = Path(__file__).resolve().parents[2]


@functools.cache  # once per process, not once per source: a process runs the code it loaded when it started
def _code_fingerprint() -> str:
    digest = hashlib.sha256()
    for entry in _VALIDATION_CODE:
        path = _ROOT / entry
        for module in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(module.relative_to(_ROOT).as_posix().encode() + b"\0" + module.read_bytes() + b"\0")
    return digest.hexdigest()


def _context_json(context: Context) -> dict:
    return {
        "extracted_on": context.extracted_on.isoformat(),
        "province": context.province,
        "regions": list(context.regions),
        "sections": sorted(context.sections.items()),
        "values": sorted([*k, list(v)] for k, v in context.values.items()),
        "value_aliases": sorted([*k, sorted(v.items())] for k, v in context.value_aliases.items()),
    }


def validated_fingerprint(source: Source, files: list[LoadedFile], context: Context) -> str:
    """Everything a source's checked tables depend on, hashed: each file's load id (its inbox and name, bytes,
    the key's fingerprint, its source's inbox.toml settings, the raw-layer version: ``ingest.load_id_of``), the
    extraction date, the province's reference lists and configured spellings, the validation code and the
    libraries that run it. Never the as-of date: validation does not depend on it (rules.md v2)."""
    parts = {
        "source": source.name,
        "files": sorted((f.name, f.load_id) for f in files),
        "context": _context_json(context),
        "code": _code_fingerprint(),
        "libraries": [version("polars"), version("pandera"), version("duckdb")],
    }
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


def validated_dir(cycle: Cycle, source: str) -> Path:
    return cycle.raw_db.parent / VALIDATED_DIR / source


_KEPT = ("accepted.parquet", "quarantine.parquet", "entry.json")


def _linked(source: Path, target: Path) -> None:
    """``target`` a second name of ``source`` (the same bytes, no copy), or a copy where links are impossible.
    Neither is ever written in place: validate writes new files and renames them."""
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _keep(checked_source: _Checked, source: Source, cycle: Cycle, fingerprint: str) -> None:
    """The checked tables of ``source`` kept under ``fingerprint``, replacing any kept before (one per source). Written
    aside and renamed into place, so a kept folder is always complete."""
    folder = validated_dir(cycle, source.name)
    aside = folder / f".{fingerprint}.partial"
    shutil.rmtree(aside, ignore_errors=True)
    aside.mkdir(parents=True)
    _linked(cycle.accepted(source.name), aside / "accepted.parquet")
    checked_source.quarantine.write_parquet(aside / "quarantine.parquet")
    if checked_source.conflict_keys is not None:
        checked_source.conflict_keys.write_parquet(aside / "conflict_keys.parquet")
    if source.name == "registration":
        _linked(cycle.work_dir / QUARANTINED_BUSINESSES_FILE, aside / QUARANTINED_BUSINESSES_FILE)
    (aside / "entry.json").write_text(json.dumps(checked_source.entry, ensure_ascii=False), encoding="utf-8")
    for earlier in folder.iterdir():
        if earlier != aside:
            shutil.rmtree(earlier)
    aside.rename(folder / fingerprint)


def _reused(source: Source, cycle: Cycle, fingerprint: str) -> _Checked | None:
    """The checked tables kept under ``fingerprint``, put in place in this cycle's work folder; None when none are
    kept (or the kept folder is incomplete)."""
    kept = validated_dir(cycle, source.name) / fingerprint
    if not all((kept / name).is_file() for name in _KEPT):
        return None
    if source.name == "registration":
        if not (kept / QUARANTINED_BUSINESSES_FILE).is_file():
            return None
        _linked(kept / QUARANTINED_BUSINESSES_FILE, cycle.work_dir / QUARANTINED_BUSINESSES_FILE)
    _linked(kept / "accepted.parquet", cycle.accepted(source.name))
    quarantine = pl.read_parquet(kept / "quarantine.parquet")
    conflicts = kept / "conflict_keys.parquet"
    entry = json.loads((kept / "entry.json").read_text(encoding="utf-8"))
    conflict_keys = pl.read_parquet(conflicts) if conflicts.is_file() else None
    return _Checked(entry, quarantine, _rule_counts(quarantine), conflict_keys)


def _checked_source(source: Source, files: list[LoadedFile], cycle: Cycle, context: Context) -> _Checked:
    """The source's checked tables: those kept from an earlier run when everything they depend on is unchanged
    (``validated_fingerprint``), else checked now and kept."""
    fingerprint = validated_fingerprint(source, files, context)
    reused = _reused(source, cycle, fingerprint)
    if reused is not None:
        return reused
    result = _validate_source(source, files, cycle, context)
    _keep(result, source, cycle, fingerprint)
    return result


def _missing(source: Source, cycle: Cycle) -> dict:
    if source.required:
        raise InputError(cycle.inbox_dir, f"原始数据层中没有 {source.name} 的行；请先运行 ingest")
    shutil.rmtree(validated_dir(cycle, source.name), ignore_errors=True)  # kept for files no longer delivered
    empty_accepted(source.name).write_parquet(cycle.accepted(source.name))
    totals = dict.fromkeys(("rows", "accepted", "quarantined", "duplicates_collapsed", "fields_quarantined"), 0)
    return {"source": source.name, "status": "missing", **totals, "files": []}


@dataclass(frozen=True)
class _Limits:
    """When a source stops the run: a quarantined share above ``threshold`` AND more rows than ``minimum``."""

    threshold: float
    minimum: int

    def exceeded(self, entry: dict) -> bool:
        rows, quarantined = entry["rows"], entry["quarantined"]
        return bool(rows) and quarantined / rows > self.threshold and quarantined > self.minimum


def limits(cycle: Cycle, config: InboxConfig, source: str) -> _Limits:
    """The command line's value for every source, else inbox.toml's for this source, else the default."""
    threshold = cycle.quarantine_threshold
    if threshold is None:
        threshold = config.thresholds.get(source, DEFAULT_QUARANTINE_THRESHOLD)
    minimum = cycle.quarantine_minimum
    if minimum is None:
        minimum = config.minimums.get(source, DEFAULT_QUARANTINE_MINIMUM)
    return _Limits(threshold, minimum)


def over_limits(checked: _Checked, limit: _Limits) -> list[tuple[dict, Counter, _Limits]]:
    """What of a checked source stops the run: the source as a whole, else each of its files on its own — one wholly
    broken month file stops the run though the source's share stays under the threshold (issue 13, item 17)."""
    if limit.exceeded(checked.entry):
        return [(checked.entry, checked.rules, limit)]
    over = []
    for file in checked.entry["files"]:
        if limit.exceeded(file):
            of_file = checked.quarantine.filter(pl.col("file") == file["file"])
            rules = Counter(dict(of_file.group_by("rule").agg(pl.len()).iter_rows()))
            over.append(({"source": checked.entry["source"], **file}, rules, limit))
    return over


def _threshold_message(over: list[tuple[dict, Counter, _Limits]], csv_path: Path) -> str:
    """Chinese, for the data office: which sources (or files of a source), how many rows, the most frequent rules,
    what to change."""
    parts = []
    for entry, rules, limit in over:
        top = "、".join(f"{rule}（{n}）" for rule, n in sorted(rules.items(), key=lambda r: (-r[1], r[0]))[:TOP_RULES])
        share = entry["quarantined"] / entry["rows"]
        where = f"{SOURCES[entry['source']].label}（{entry['source']}）" + (
            f"的文件 {entry['file']} " if "file" in entry else ""
        )
        parts.append(
            f"{where}{entry['rows']} 行中隔离 {entry['quarantined']} 行"
            f"（{share:.1%}），超过阈值 {limit.threshold:.1%} 且多于 {limit.minimum} 行；最常见的规则：{top}"
        )
    return (
        "已停止：" + "；".join(parts) + "。未发布任何结果。"
        f"被隔离的行见 {csv_path}（可用 Excel 打开）。"
        "若确认数据无误，可用 --quarantine-threshold（隔离比例，0 到 1）和 --quarantine-minimum（隔离行数）放宽，"
        "或在收件箱的 inbox.toml 中按数据源设置 quarantine_threshold 和 quarantine_minimum"
        "（例如 [serious_list] quarantine_threshold = 0.10）。"
    )


def extraction_date(config: InboxConfig) -> dt.date:
    """``extracted_on`` of inbox.toml; without it, the day of the run in China (extracts.md v2)."""
    return config.extracted_on if config.extracted_on is not None else now_in_china().date()


def context_of(cycle: Cycle, config: InboxConfig) -> Context:
    """What the rules need: the extraction date, the province's reference lists, every configured spelling."""
    values: dict[tuple[str, str], tuple[str, ...]] = {}
    spellings: dict[tuple[str, str], dict[str, str]] = {}
    for source in SOURCES.values():
        for column in source.columns:
            if column.kind is not Kind.ENUM:
                continue
            key = (source.name, column.name)
            if column.reference_values:
                values[key] = enum_values(column)
            configured = {**enum_spellings(column), **config.values.get(source.name, {}).get(column.name, {})}
            if configured:
                spellings[key] = configured
    return Context(
        extracted_on=extraction_date(config),
        province=cycle.province,
        regions=tuple(province_regions(cycle.province)["region_code"]),
        sections=dict(industries().select("division", "section").iter_rows()),
        values=values,
        value_aliases=spellings,
    )


QUARANTINE_FILE = "quarantine.parquet"
QUARANTINE_CSV = "quarantine.csv"  # beside the Parquet: UTF-8 with BOM, so Excel opens it
EPISODE_CONFLICTS_FILE = "episode_conflicts.parquet"


def conflicts_path(cycle: Cycle, source: str) -> Path:
    """``accepted/<source>_conflicts.parquet``: keys of a ``Source.conflicts_table`` source delivered twice."""
    return cycle.accepted_dir / f"{source}_conflicts.parquet"


def _write_quarantine(quarantine: pl.DataFrame, work_dir: Path) -> tuple[Path, Path]:
    parquet, csv = work_dir / QUARANTINE_FILE, work_dir / QUARANTINE_CSV
    quarantine.write_parquet(parquet)
    csv.write_bytes(b"\xef\xbb\xbf" + quarantine.write_csv(line_terminator="\n").encode("utf-8"))
    return parquet, csv


def _conflict_tables(cycle: Cycle, checked_sources: dict[str, _Checked]) -> tuple[Path, ...]:
    """``accepted/annual_report_conflicts.parquet`` and ``episode_conflicts.parquet`` (empty typed tables when none)."""
    written = []
    episodes = [pl.DataFrame(schema=EPISODE_CONFLICTS_SCHEMA)]
    for source in SOURCES.values():
        keys = checked_sources[source.name].conflict_keys if source.name in checked_sources else None
        if source.conflicts_table:
            table = pl.DataFrame(schema=REPORT_CONFLICTS_SCHEMA)
            if keys is not None and keys.height:
                table = keys.select(list(REPORT_CONFLICTS_SCHEMA)).cast(REPORT_CONFLICTS_SCHEMA)
            path = conflicts_path(cycle, source.name)
            table.sort(list(REPORT_CONFLICTS_SCHEMA), nulls_last=True).write_parquet(path)
            written.append(path)
        if source.episodes and keys is not None and keys.height:
            episodes.append(episode_conflicts(keys, source).cast(EPISODE_CONFLICTS_SCHEMA))
    path = cycle.work_dir / EPISODE_CONFLICTS_FILE
    # sources in contract order, then business and start date
    order = {name: i for i, name in enumerate(SOURCES)}
    table = pl.concat(episodes).with_columns(_order=pl.col("source").replace_strict(order, return_dtype=pl.Int32))
    table.sort("_order", "business", "started_on").drop("_order").write_parquet(path)
    return (*written, path)


def validate(cycle: Cycle) -> StageResult:
    """Check the cycle's raw rows; write accepted tables, ``quarantine.parquet`` (and ``.csv``), the conflict
    tables and ``inputs.json``."""
    shutil.rmtree(cycle.accepted_dir, ignore_errors=True)
    cycle.accepted_dir.mkdir(parents=True)
    config = inbox_config(cycle.inbox_dir)
    context = context_of(cycle, config)
    entries: list[dict] = []
    quarantines: list[pl.DataFrame] = [pl.DataFrame(schema=QUARANTINE_SCHEMA)]
    checked_sources: dict[str, _Checked] = {}
    over: list[tuple[dict, Counter, _Limits]] = []
    files = _loaded_files(cycle.raw_db, cycle.inbox_dir)
    for source in tracked(list(SOURCES.values()), "sources checked"):
        if source.name not in files:
            entries.append(_missing(source, cycle))
            continue
        result = _checked_source(source, files[source.name], cycle, context)
        checked_sources[source.name] = result
        entries.append(result.entry)
        quarantines.append(result.quarantine)
        over.extend(over_limits(result, limits(cycle, config, source.name)))
    quarantine_path, csv_path = _write_quarantine(pl.concat(quarantines), cycle.work_dir)
    conflicts = _conflict_tables(cycle, checked_sources)
    inputs_path = cycle.work_dir / "inputs.json"
    inputs = {
        "extracted_on": context.extracted_on.isoformat(),
        "sources": entries,
        "unrecognised_files": unrecognised_files(cycle.inbox_dir, config),
    }
    inputs_path.write_text(json.dumps(inputs, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if over:
        shutil.rmtree(cycle.accepted_dir)
        raise QuarantineThresholdError(_threshold_message(over, csv_path))
    outputs = (*(cycle.accepted(s) for s in SOURCES), *conflicts, quarantine_path, csv_path, inputs_path)
    return StageResult(stage="validate", outputs=outputs, rows={e["source"]: e["accepted"] for e in entries})
