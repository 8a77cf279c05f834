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
from schemas.vocabulary import CRITERIA_LABELS, REASON_LABELS, RULESET_LABEL_SEPARATOR
from transforms.summary import industry_division


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


#: The kinds of code in the warehouse's ``codes`` table.
CODE_KINDS = {
    "criterion": "基础条件（不满足则不符合分型条件）",
    "requirement": "成长型、发展型的共同要求",
    "condition": "分型标准的条件",
    "reason": "生存型的分型依据",
    "quarantine_rule": "隔离规则",
}

CODES_SCHEMA = {
    "kind": pl.String,
    "ruleset_id": pl.String,
    "ruleset_version": pl.String,
    "code": pl.String,
    "label": pl.String,
}


def code_labels(rulesets: list) -> pl.DataFrame:
    """Every code a person meets in the outputs with its Chinese meaning: the basic criteria, the reason codes of
    生存型, the quarantine rules, and each ruleset's conditions and requirement (``schemas.ruleset.Ruleset``).
    Sorted by kind, ruleset and code."""
    rows = [("criterion", None, None, code, label) for code, label in CRITERIA_LABELS.items()]
    rows += [("reason", None, None, code, label) for code, label in REASON_LABELS.items()]
    rows += [("quarantine_rule", None, None, code, label) for code, label in RULE_LABELS.items()]
    for ruleset in rulesets:
        rows.append(("requirement", ruleset.id, ruleset.version, "REQUIREMENT", ruleset.requirement.label))
        rows += [("condition", ruleset.id, ruleset.version, c.code, c.label) for c in ruleset.conditions]
    return (
        pl.DataFrame(rows, schema=CODES_SCHEMA, orient="row")
        .unique(["kind", "ruleset_id", "ruleset_version", "code"], keep="first")
        .sort("kind", "ruleset_id", "ruleset_version", "code", nulls_last=False)
    )
