"""``<inbox>/classification/``: the classification inputs, read and checked like the cycle's extracts.

The same readers (CSV in UTF-8 or GB18030, .xlsx, Parquet; ``flows.readers``), the same header matching
(``transforms.headers``), resident IDs keyed before anything is kept (``transforms.personal``), the same row rules
and duplicate handling (``transforms.rows``). A broken row is quarantined with its file, line, column (the header
as delivered), value (personal values masked) and rule. One rule is the contract's own: 推荐部门 is required for a
部门推荐 (rule ``required``). An optional ``inbox.toml`` in the folder forces encodings and adds header aliases
per classification source, in the cycle's format.
"""

from __future__ import annotations

import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from flows.errors import InputError
from flows.readers import FORMATS, InboxConfig, InboxFile, opened
from schemas.accepted import value_columns
from schemas.classification import CLASSIFICATION_SOURCES, RECOMMENDED
from schemas.sources import Source
from schemas.work_files import QUARANTINE_SCHEMA
from transforms.headers import HeaderError, mapped_headers
from transforms.personal import Keyer
from transforms.validate import (
    Context,
    checked,
    conflict_entries,
    deduplicated,
    key_text_columns,
    rule_entries,
    valid_rows,
)

FOLDER = "classification"
_ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "gb18030": "gb18030", "gbk": "gb18030"}


@dataclass
class ClassificationInputs:
    tables: dict[str, pl.DataFrame]  # accepted rows per source: value columns + _file, _line
    quarantine: pl.DataFrame  # QUARANTINE_SCHEMA, column = the header as delivered
    files: list[dict] = field(default_factory=list)  # {source, file, rows, accepted, quarantined}


def source_of(name: str) -> str | None:
    stem, _, ext = name.rpartition(".")
    if ext.lower() not in FORMATS:
        return None
    return max((s for s in CLASSIFICATION_SOURCES if stem.startswith(s)), key=len, default=None)


def folder_config(folder: Path) -> InboxConfig:
    """``inbox.toml`` of the classification folder: ``[application] encoding = "gb18030"``, ``aliases = {...}``."""
    path = folder / "inbox.toml"
    if not path.exists():
        return InboxConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError(path, f"不是 UTF-8 编码的有效 TOML（{error}）") from None
    encodings: dict[str, str] = {}
    aliases: dict[str, dict[str, tuple[str, ...]]] = {}
    for name, settings in data.items():
        if name not in CLASSIFICATION_SOURCES or not isinstance(settings, dict):
            raise InputError(path, f"[{name}] 不是分类数据来源；应为 {'、'.join(CLASSIFICATION_SOURCES)} 之一")
        if "encoding" in settings:
            encoding = str(settings["encoding"]).lower()
            if encoding not in _ENCODINGS:
                raise InputError(path, f"[{name}] encoding “{encoding}”：应为 utf-8、gb18030 或 gbk")
            encodings[name] = _ENCODINGS[encoding]
        columns = {c.name for c in CLASSIFICATION_SOURCES[name].columns}
        for column, headers in settings.get("aliases", {}).items():
            if column not in columns:
                raise InputError(path, f"[{name}] aliases：{column} 不是该来源的列；应为 {sorted(columns)} 之一")
            aliases.setdefault(name, {})[column] = tuple(headers)
    return InboxConfig(encodings=encodings, aliases=aliases)


def folder_files(folder: Path) -> list[InboxFile]:
    if not folder.is_dir():
        return []
    order = list(CLASSIFICATION_SOURCES)
    files = [
        InboxFile(source, path, f"{FOLDER}/{path.name}", path.suffix.lower().lstrip("."))
        for path in folder.iterdir()
        if path.is_file() and (source := source_of(path.name)) is not None
    ]
    return sorted(files, key=lambda f: (order.index(f.source), f.name))


def _empty_raw(source: Source) -> pl.DataFrame:
    return pl.DataFrame(schema={"_file": pl.String, "_line": pl.Int64})


def _read_file(
    file: InboxFile, config: InboxConfig, keyers: dict[str, Keyer], secret: bytes, scratch: Path
) -> tuple[pl.DataFrame, dict[str, str]]:
    """All rows of one file under canonical names, personal columns keyed; and canonical → delivered header."""
    source = CLASSIFICATION_SOURCES[file.source]
    with opened(file, config, scratch) as table:
        try:
            header_map = mapped_headers(source, table.headers, config.aliases.get(file.source, {}))
        except HeaderError as error:
            raise InputError(file.path, str(error), line=1) from None
        targets = {f"_c{i}": header_map.canonical.get(h, f"_extra_{i}") for i, h in enumerate(table.headers)}
        batches = []
        for batch in table.batches:
            batch = batch.rename({k: v for k, v in targets.items() if k in batch.columns})
            batches.append(batch.select("_line", *(c for c in batch.columns if c in header_map.canonical.values())))
    rows = pl.concat(batches, how="diagonal_relaxed") if batches else pl.DataFrame(schema={"_line": pl.Int64})
    for column in source.columns:  # keyed before anything is kept; a column the file lacks keys to empty forms
        if column.personal:
            if column.name not in rows.columns:
                rows = rows.with_columns(pl.lit(None, dtype=pl.String).alias(column.name))
            rows = keyers.setdefault(column.name, Keyer(column, secret)).keyed(rows.cast({column.name: pl.String}))
    rows = rows.with_columns(pl.lit(file.name).alias("_file"), pl.col("_line").cast(pl.Int64))
    return rows, header_map.delivered


def _recommendations_without_department(accepted: pl.DataFrame) -> pl.DataFrame:
    return accepted.filter((pl.col("channel") == RECOMMENDED) & pl.col("recommender").is_null())


def read_classification_inbox(folder: Path, secret: bytes, context: Context) -> ClassificationInputs:
    """Every classification file of ``folder``, checked; a missing source gives an empty table."""
    config = folder_config(folder)
    keyers: dict[str, Keyer] = {}
    tables: dict[str, pl.DataFrame] = {}
    quarantine: list[pl.DataFrame] = [pl.DataFrame(schema=QUARANTINE_SCHEMA)]
    entries: list[dict] = []
    files = folder_files(folder)
    with tempfile.TemporaryDirectory() as scratch:
        for name, source in CLASSIFICATION_SOURCES.items():
            valid_parts, raw_parts, entries_of_source = [], [], []
            for file in (f for f in files if f.source == name):
                raw, delivered = _read_file(file, config, keyers, secret, Path(scratch))
                rows = checked(raw, source, context)
                broken = rule_entries(rows, source)
                valid = valid_rows(rows, source)
                if name == "application":
                    missing = _recommendations_without_department(valid)
                    broken = pl.concat(
                        [
                            broken,
                            missing.select(
                                pl.lit(name).alias("source"),
                                pl.col("_file").alias("file"),
                                pl.col("_line").cast(pl.Int64).alias("line"),
                                pl.lit("recommender").alias("column"),
                                pl.lit(None, dtype=pl.String).alias("value"),
                                pl.lit("required").alias("rule"),
                            ),
                        ]
                    )
                    valid = valid.join(missing.select("_file", "_line"), on=["_file", "_line"], how="anti")
                shown = broken.with_columns(
                    pl.col("column").replace_strict(
                        {c.name: delivered.get(c.name, c.header) for c in source.columns}, default=pl.col("column")
                    )
                )
                quarantine.append(shown)
                valid_parts.append(valid)
                raw_parts.append(
                    raw.select("_file", "_line", *(c for c in key_text_columns(source) if c in raw.columns))
                )
                entries_of_source.append(
                    {"source": name, "file": file.name, "rows": raw.height, "quarantined": broken["line"].n_unique()}
                )
            empty = pl.DataFrame(schema={c: pl.String for c in value_columns(source)})
            valid_all = pl.concat(valid_parts, how="diagonal_relaxed") if valid_parts else empty
            dedup = deduplicated(valid_all, source) if valid_parts else None
            if dedup is not None and dedup.conflicting.height:
                raw_keys = pl.concat(raw_parts, how="diagonal_relaxed").join(
                    dedup.conflicting, on=["_file", "_line"], how="semi"
                )
                key_header = "+".join(source.column(n).header for n in source.key)
                quarantine.append(conflict_entries(raw_keys, source).with_columns(pl.lit(key_header).alias("column")))
            tables[name] = dedup.accepted if dedup is not None else empty
            for entry in entries_of_source:
                entry["accepted"] = tables[name].filter(pl.col("_file") == entry["file"]).height if valid_parts else 0
            entries.extend(entries_of_source)
    order = list(CLASSIFICATION_SOURCES)
    all_entries = pl.concat(quarantine, how="vertical_relaxed").with_columns(
        pl.col("source").replace_strict({n: i for i, n in enumerate(order)}, return_dtype=pl.Int32).alias("_order")
    )
    return ClassificationInputs(
        tables=tables,
        quarantine=all_entries.sort("_order", "file", "line", "column", "rule").drop("_order"),
        files=entries,
    )
