"""The rows of the published data files (outputs.md, "Cycle folder"), from the directory and the quarantine.

Every frame returned here is sorted by its key: Polars 2 streams, so without an explicit sort the
same inputs would not give byte-identical files.
"""

from __future__ import annotations

import polars as pl

from schemas.outputs import PUBLIC_HEADERS, QUARANTINE_HEADERS, REASON_SEPARATOR, SUBMISSION_HEADERS
from schemas.sources import SOURCES
from schemas.vocabulary import RULESET_LABEL_SEPARATOR


def ruleset_label(ruleset_id: pl.Expr, ruleset_version: pl.Expr) -> pl.Expr:
    """分型标准 as printed in the submission: ``<id>-<version>``, e.g. ``HA-2025.1``."""
    return pl.concat_str([ruleset_id, ruleset_version], separator=RULESET_LABEL_SEPARATOR)


#: A cell Excel would run as a formula starts with one of these (OWASP, "CSV injection").
_FORMULA_START = r"^[=+\-@\t\r]"
_PLAIN_NUMBER = r"^[+-]?[0-9]+(\.[0-9]+)?$"  # -150.25 is a number to Excel, not a formula: left as it is
FORMULA_ESCAPE = "'"


def formula_safe(text: pl.Expr) -> pl.Expr:
    """Free text as a spreadsheet cannot run it: a value starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return (a plain number aside) gets a leading apostrophe, which Excel and WPS show as text and never evaluate;
    a program reading the file gets the delivered text back by dropping that one apostrophe
    (docs/architecture.md, "Publishing")."""
    risky = text.str.contains(_FORMULA_START) & ~text.str.contains(_PLAIN_NUMBER)
    return pl.when(risky).then(text.str.replace(r"^", FORMULA_ESCAPE)).otherwise(text)  # keeps the column's name


def submission_rows(directory: pl.LazyFrame) -> pl.LazyFrame:
    """One row per business, sorted by business key, under the submission's headers in contract order."""
    return (
        directory.sort("business_key")
        .with_columns(
            # no reason codes: an empty cell, the same in the CSV and the parquet file
            pl.when(pl.col("reasons").list.len() > 0).then(pl.col("reasons").list.join(REASON_SEPARATOR)),
            formula_safe(pl.col("name")),  # the one free-text column: a name may start with = (issue 13)
            ruleset=ruleset_label(pl.col("ruleset_id"), pl.col("ruleset_version")),
        )
        .select([pl.col(name).alias(header) for name, header in SUBMISSION_HEADERS.items()])
    )


def public_rows(submission: pl.LazyFrame) -> pl.LazyFrame:
    """The 查询公示 extract: the submission's identifying columns and result, in the submission's order."""
    return submission.select(list(PUBLIC_HEADERS.values()))


def quarantine_rows(quarantine: pl.LazyFrame) -> pl.LazyFrame:
    """Every quarantined row, grouped by source in contract order, then by file, line, column and rule."""
    source_order = {name: i for i, name in enumerate(SOURCES)}
    return (
        quarantine.select(list(QUARANTINE_HEADERS))
        .with_columns(formula_safe(pl.col("column")), formula_safe(pl.col("value")))
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
