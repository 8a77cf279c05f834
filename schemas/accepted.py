"""The columns and Polars types of every accepted table (docs/architecture.md, "Accepted tables").

Derived from ``schemas.sources``: one definition, so a stage that finds a source missing can stand in an
empty table with exactly the columns and types a delivered one would have. (The ingest branch's pandera models,
``schemas/extracts.py``, describe the same tables; once both are merged this module should derive from them.)
"""

from __future__ import annotations

import polars as pl

from schemas.sources import SOURCES, Column, Kind

MONEY = pl.Decimal(18, 2)

KIND_DTYPES: dict[Kind, pl.DataType] = {
    Kind.TEXT: pl.String(),
    Kind.USCC: pl.String(),
    Kind.REG_NO: pl.String(),
    Kind.DATE: pl.Date(),
    Kind.PERIOD: pl.Date(),  # first day of the month
    Kind.YEAR: pl.Int32(),
    Kind.COUNT: pl.Int32(),
    Kind.MONEY: MONEY,
    Kind.FLAG: pl.Boolean(),
    Kind.ENUM: pl.String(),
    Kind.REGION: pl.String(),
    Kind.INDUSTRY: pl.String(),
    Kind.NICE_CLASS: pl.Int8(),
}

LINEAGE: dict[str, pl.DataType] = {"_file": pl.String(), "_line": pl.Int64()}


def _accepted_columns(column: Column) -> dict[str, pl.DataType]:
    """The accepted column(s) standing for one delivered column: personal IDs are replaced by their keyed forms."""
    if column.kind is Kind.TAXPAYER_ID:
        return {"taxpayer_uscc": pl.String(), "taxpayer_key": pl.String(), "taxpayer_suffix": pl.String()}
    if column.kind is Kind.PARTY_ID:
        return {"holder_uscc": pl.String(), "holder_key": pl.String()}
    if column.personal:
        return {column.key_name: pl.String()}
    return {column.name: KIND_DTYPES[column.kind]}


def accepted_schema(source: str) -> pl.Schema:
    """Columns and types of ``accepted/<source>.parquet``, lineage last."""
    columns: dict[str, pl.DataType] = {}
    for column in SOURCES[source].columns:
        columns |= _accepted_columns(column)
    if source == "registration":
        columns["business_key"] = pl.String()  # the USCC, or the 注册号 when there is no USCC
    return pl.Schema(columns | LINEAGE)


def empty_accepted(source: str) -> pl.LazyFrame:
    """An accepted table with no rows: what a missing optional source means ("no records", extracts.md)."""
    return pl.LazyFrame(schema=accepted_schema(source))
