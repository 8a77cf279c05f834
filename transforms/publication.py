"""The rows of the published data files (outputs.md, "Cycle folder"), from the directory and the quarantine.

Every frame returned here is sorted by its key: Polars 2 streams, so without an explicit sort the
same inputs would not give byte-identical files.
"""

from __future__ import annotations

import polars as pl

from schemas.outputs import (
    INDUSTRY_HEADERS,
    PUBLIC_HEADERS,
    QUARANTINE_EXCEL_HEADERS,
    QUARANTINE_HEADERS,
    REASON_SEPARATOR,
    RULE_LABELS,
    SUBMISSION_HEADERS,
)
from schemas.sources import SOURCES
from schemas.vocabulary import RULESET_LABEL_SEPARATOR
from transforms.summary import industry_division


def ruleset_label(ruleset_id: pl.Expr, ruleset_version: pl.Expr) -> pl.Expr:
    """分型标准 as printed in the submission: ``<id>-<version>``, e.g. ``HA-2025.1``."""
    return pl.concat_str([ruleset_id, ruleset_version], separator=RULESET_LABEL_SEPARATOR)


def submission_rows(directory: pl.LazyFrame) -> pl.LazyFrame:
    """One row per business, sorted by business key, under the submission's headers in contract order."""
    return (
        directory.sort("business_key")
        .with_columns(
            # no reason codes: an empty cell, the same in the CSV and the parquet file
            pl.when(pl.col("reasons").list.len() > 0).then(pl.col("reasons").list.join(REASON_SEPARATOR)),
            ruleset=ruleset_label(pl.col("ruleset_id"), pl.col("ruleset_version")),
        )
        .select([pl.col(name).alias(header) for name, header in SUBMISSION_HEADERS.items()])
    )


def public_rows(submission: pl.LazyFrame) -> pl.LazyFrame:
    """The 查询公示 extract: the submission's identifying columns and result, in the submission's order.

    A row with neither 统一社会信用代码 nor 名称 is left out: nobody can find it by 查询公示 (a business known only by
    its 注册号 and without a name stays in the submission).
    """
    uscc, name = PUBLIC_HEADERS["uscc"], PUBLIC_HEADERS["name"]
    return submission.filter(pl.col(uscc).is_not_null() | pl.col(name).is_not_null()).select(
        list(PUBLIC_HEADERS.values())
    )


def quarantine_rows(quarantine: pl.LazyFrame) -> pl.LazyFrame:
    """Every quarantined row, grouped by source in contract order, then by file, line, column and rule."""
    source_order = {name: i for i, name in enumerate(SOURCES)}
    return (
        quarantine.select(list(QUARANTINE_HEADERS))
        .sort(
            pl.col("source").replace_strict(source_order, return_dtype=pl.Int32),
            "file",
            "line",
            "column",
            "rule",
            "value",
            nulls_last=True,
        )
        .rename(QUARANTINE_HEADERS)
    )


def normalised_industry(submission: pl.LazyFrame, industries: pl.LazyFrame) -> pl.LazyFrame:
    """The submission with, after 行业代码, its 门类 letter + 大类 (``H62``) and their names; null when the division
    is not in GB/T 4754-2017. ``industries`` is ``reference.industries()``."""
    code = SUBMISSION_HEADERS["industry_code"]
    names = industries.select(
        "division",
        pl.concat_str("section", "division").alias(INDUSTRY_HEADERS["industry"]),
        pl.col("section_name").alias(INDUSTRY_HEADERS["industry_section_name"]),
        pl.col("division_name").alias(INDUSTRY_HEADERS["industry_division_name"]),
    )
    columns = list(SUBMISSION_HEADERS.values())
    at = columns.index(code) + 1
    order = [*columns[:at], *INDUSTRY_HEADERS.values(), *columns[at:]]
    return (
        submission.with_columns(division=industry_division(pl.col(code)))
        .join(names, on="division", how="left", maintain_order="left")
        .select(order)
    )


def quarantine_excel_rows(quarantine: pl.LazyFrame) -> pl.LazyFrame:
    """quarantine.csv's rows under Chinese headers, each source and rule with its Chinese meaning beside its code."""
    labels = {name: source.label for name, source in SOURCES.items()}
    return (
        quarantine_rows(quarantine)
        .with_columns(
            source_label=pl.col("source").replace_strict(labels, default=None, return_dtype=pl.String),
            rule_label=pl.col("rule").replace_strict(RULE_LABELS, default=None, return_dtype=pl.String),
        )
        .select(list(QUARANTINE_EXCEL_HEADERS))
        .rename(QUARANTINE_EXCEL_HEADERS)
    )
