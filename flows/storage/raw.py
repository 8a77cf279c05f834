"""The raw layer: one DuckDB database of delivered rows (``raw.duckdb``) with its parquet parts; written by
ingest, read by validate."""

from __future__ import annotations

from pathlib import Path

from schemas.sources import Source, kept_columns, masked_name, rule_name

LINEAGE_COLUMNS = ("_source", "_file", "_sha256", "_line", "_load_id")


#: The raw layer's version: what ingest writes for a file. Raise it whenever reading, header mapping or keying
#: changes what a delivered file becomes; every file is then loaded again (docs/reliability.md, "Reused between runs").
RAW_VERSION = 3  # 3: a resident ID born after the extraction date is quarantined (issue 13, item 17)


RAW_COMPRESSION = "lz4"  # the raw layer is written once per delivery and read by every cycle: speed over size


_PART = "part-{:05d}.parquet"


_PARTS_GLOB = "*.parquet"


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


def raw_dir(raw_db: Path) -> Path:
    """Where the Parquet files of the raw layer ``raw_db`` live: one folder per loaded file."""
    return raw_db.parent / "raw"


def raw_parts(raw_db: Path, load_id: str) -> Path:
    """The folder of one loaded file's rows (Parquet files, in line order by name)."""
    return raw_dir(raw_db) / load_id


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
