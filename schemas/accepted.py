"""pandera models of the accepted tables (``accepted/<source>.parquet``), one per source.

Generated from ``schemas.sources`` so they cannot drift from the contract: every canonical column with the
type of its kind (docs/architecture.md, "Accepted tables"), its nullability, its value checks and its
description. Validate a collected ``polars.DataFrame``: on a LazyFrame pandera runs only schema-level checks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cache

import pandera.polars as pa
import polars as pl

from schemas.codes import uscc_problem
from schemas.sources import KEY_LENGTH, MONEY, SOURCES, Column, Kind, Source, kept_columns, suffix_name, uscc_name

DTYPES: dict[Kind, pl.DataType] = {
    Kind.TEXT: pl.String(),
    Kind.USCC: pl.String(),
    Kind.REG_NO: pl.String(),
    Kind.DATE: pl.Date(),
    Kind.PERIOD: pl.Date(),
    Kind.YEAR: pl.Int32(),
    Kind.COUNT: pl.Int32(),
    Kind.MONEY: MONEY,
    Kind.FLAG: pl.Boolean(),
    Kind.ENUM: pl.String(),
    Kind.REGION: pl.String(),
    Kind.INDUSTRY: pl.String(),
    Kind.NICE_CLASS: pl.Int8(),
}

_KEY_PATTERN = rf"^[0-9a-f]{{{KEY_LENGTH}}}$"


def _on_distinct(valid: Callable[[pl.Expr], pl.Expr], name: str) -> pa.Check:
    """An element-wise check evaluated once per distinct value: the rows fail whose value is among the invalid.

    Accepted tables repeat codes over millions of rows; the check stays exact and costs one pass.
    """

    def check(data: pa.PolarsData) -> pl.LazyFrame:
        distinct = data.lazyframe.select(pl.col(data.key).drop_nulls().unique())
        invalid = distinct.filter(~valid(pl.col(data.key))).collect()[data.key]
        return data.lazyframe.select(~pl.col(data.key).is_in(invalid.implode()))

    return pa.Check(check, name=name)


def _valid_uscc() -> pa.Check:
    return _on_distinct(lambda code: uscc_problem(code).is_null(), "uscc_check")


def _in_file_order(data: pa.PolarsData) -> pl.LazyFrame:
    """Rows sorted by (file, line) with no pair twice: unique lineage and a deterministic order in one pass."""
    file, line = pl.col("_file"), pl.col("_line")
    after_previous = (file > file.shift()) | ((file == file.shift()) & (line > line.shift()))
    return data.lazyframe.select(after_previous.fill_null(True))


def _not_blank(data: pa.PolarsData) -> pl.LazyFrame:
    value = pl.col(data.key)
    return data.lazyframe.select(value.is_null() | (value.str.strip_chars() == value) & (value != ""))


def _checks(source: Source, column: Column, extracted_on: dt.date | None) -> list[pa.Check]:
    checks: list[pa.Check] = []
    match column.kind:
        case Kind.TEXT:
            checks.append(pa.Check(_not_blank, name="normalised_text"))
        case Kind.USCC:
            checks.append(_valid_uscc())
            if source.name == "registration":
                checks.append(pa.Check.str_startswith("92"))
        case Kind.REG_NO:
            checks.append(pa.Check.str_matches(r"^[0-9]{15}$"))
        case Kind.MONEY if not column.negative_allowed:
            checks.append(pa.Check.ge(0))
        case Kind.COUNT:
            checks.append(pa.Check.ge(0))
        case Kind.ENUM if column.values:  # without values: a reference list (data/) decides, in validate
            checks.append(pa.Check.isin(list(column.values)))
        case Kind.REGION:
            checks.append(pa.Check.str_matches(r"^[0-9]{6}$"))
        case Kind.INDUSTRY:
            checks.append(pa.Check.str_matches(r"^[A-T]?[0-9]{4}$"))
        case Kind.NICE_CLASS:
            checks.append(pa.Check.in_range(1, 45))
    if column.not_after_extraction and extracted_on is not None:
        checks.append(pa.Check.le(extracted_on.year if column.kind is Kind.YEAR else extracted_on))
    return checks


def _personal_columns(column: Column) -> dict[str, pa.Column]:
    """The kept forms of a personal ID: a key (hex), a USCC in clear, a 2-character suffix."""
    described = {
        column.key_name: pa.Column(
            pl.String,
            _on_distinct(lambda key: key.str.contains(_KEY_PATTERN), "hmac_key"),
            nullable=True,
            description=f"{column.description}: HMAC key of the resident ID",
        ),
    }
    if column.kind in (Kind.TAXPAYER_ID, Kind.PARTY_ID):
        described[uscc_name(column)] = pa.Column(
            pl.String,
            _valid_uscc(),
            nullable=True,
            description=f"{column.description}: the ID when it is a USCC",
        )
    if column.kind is Kind.TAXPAYER_ID:
        described[suffix_name(column)] = pa.Column(
            pl.String,
            pa.Check.str_matches(r"^[0-9A-Z]{2}$"),
            nullable=True,
            description=f"{column.description}: 2-character suffix after a resident ID",
        )
    return {name: described[name] for name in kept_columns(column)}


def _identified(source: Source, column: Column) -> list[pa.Check]:
    """Row-level check that a required personal ID is present in one of its kept forms."""
    forms = kept_columns(column)
    return [
        pa.Check(
            lambda data, forms=forms: data.lazyframe.select(pl.any_horizontal(pl.col(f).is_not_null() for f in forms)),
            name=f"{column.name}_present",
        )
    ]


@cache
def accepted_schema(source_name: str, extracted_on: dt.date | None = None) -> pa.DataFrameSchema:
    """The accepted table of ``source_name``; with ``extracted_on``, also no event after the extraction date."""
    source = SOURCES[source_name]
    columns: dict[str, pa.Column] = {}
    frame_checks: list[pa.Check] = []
    for column in source.columns:
        if column.personal:
            columns.update(_personal_columns(column))
            if column.required:
                frame_checks.extend(_identified(source, column))
            continue
        columns[column.name] = pa.Column(
            DTYPES[column.kind],
            _checks(source, column, extracted_on),
            nullable=not column.required,
            description=column.description,
        )
    if source.name == "registration":
        columns["business_key"] = pa.Column(
            pl.String, nullable=False, unique=True, description="统一社会信用代码, or 注册号 when there is none"
        )
    columns["_file"] = pa.Column(pl.String, nullable=False, description="the delivered file, relative to the inbox")
    columns["_line"] = pa.Column(
        pl.Int64, pa.Check.ge(2), nullable=False, description="line of the record in its file; the header is line 1"
    )
    assert list(columns) == [*value_columns(source), "_file", "_line"], "schema and accepted columns disagree"
    return pa.DataFrameSchema(
        columns,
        checks=[*frame_checks, pa.Check(_in_file_order, name="sorted_by_file_and_line")],
        strict=True,
        ordered=True,
        name=f"accepted_{source.name}",
        description=f"{source.label} ({source.department}): rows that passed every rule of extracts.md",
    )


def empty_accepted(source_name: str) -> pl.DataFrame:
    """A typed accepted table with no rows: what a missing optional source stands for."""
    schema = accepted_schema(source_name)
    return pl.DataFrame(schema={name: col.dtype.type for name, col in schema.columns.items()})


def value_columns(source: Source) -> list[str]:
    """The columns of an accepted table, in contract order, personal IDs replaced by their kept forms."""
    names: list[str] = []
    for column in source.columns:
        names.extend(kept_columns(column) if column.personal else (column.name,))
    if source.name == "registration":
        names.append("business_key")
    return names
