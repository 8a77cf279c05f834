"""Figures of one cycle for the run report: counts by type, region, industry, reason, link route and rule.

Pure: frames in, small sorted frames out; the reference lists (regions, industries) are parameters.
"""

from __future__ import annotations

import polars as pl

from schemas.vocabulary import BUSINESS_TYPES, LINK_OUTCOMES, LINKED_SOURCES, TYPE_RANK
from schemas.work_files import RunRecord


def counts_of(frame: pl.DataFrame, by: list[str], column: str, values: tuple[str, ...]) -> pl.DataFrame:
    """Rows per group with one count column per value of ``column`` (0 when none) and ``total``, sorted by group."""
    counts = [(pl.col(column) == v).sum().cast(pl.Int64).alias(v) for v in values]
    if not by:
        return frame.select(counts).with_columns(total=pl.sum_horizontal(values))
    return frame.group_by(by).agg(counts).with_columns(total=pl.sum_horizontal(values)).sort(by)


def type_counts(directory: pl.DataFrame) -> dict[str, int]:
    """Businesses per type, every type present (0 when none), in the order of ``BUSINESS_TYPES``."""
    row = counts_of(directory, [], "business_type", BUSINESS_TYPES).row(0, named=True)
    return {t: row[t] for t in BUSINESS_TYPES}


def set_apart(directory: pl.DataFrame, run: RunRecord) -> dict[str, int]:
    """Businesses counted apart (rules.md v2, Terms; extracts.md v2): ``not_yet_established`` — established after
    ``D``, not typed in this cycle (the features stage's count in ``run.json``) — and ``unmatchable`` — typed
    不符合分型条件 for UNMATCHABLE, no USCC and no 注册号 in the annual reports."""
    stage = next((s.rows for s in run.stages if s.stage == "features"), {})
    return {
        "not_yet_established": stage.get("not_yet_established", 0),
        "unmatchable": int(directory["criteria_failed"].list.contains("UNMATCHABLE").sum()),
    }


def industry_division(industry_code: pl.Expr) -> pl.Expr:
    """The GB/T 4754-2017 division (大类, two digits) of a code registered as ``H6210`` or ``6210``."""
    return industry_code.str.replace(r"^[A-Z]", "").str.slice(0, 2)


def types_by_region(directory: pl.DataFrame, regions: pl.DataFrame) -> pl.DataFrame:
    """Businesses per county and type, with the county's and city's names; unknown codes keep their code as name."""
    counts = counts_of(directory, ["region_code"], "business_type", BUSINESS_TYPES)
    names = regions.select("region_code", "region_name", "city_code", "city_name")
    return (
        counts.join(names, on="region_code", how="left")
        .with_columns(
            pl.col("region_name").fill_null(pl.col("region_code")),
            pl.col("city_code").fill_null(pl.col("region_code").str.slice(0, 4)),
            pl.col("city_name").fill_null(pl.col("region_code").str.slice(0, 4)),
        )
        .sort("region_code")
    )


def types_by_city(by_region: pl.DataFrame) -> pl.DataFrame:
    """The county counts of :func:`types_by_region` summed per city (地市)."""
    return by_region.group_by("city_code", "city_name").agg(pl.col(*BUSINESS_TYPES, "total").sum()).sort("city_code")


def types_by_section(directory: pl.DataFrame, industries: pl.DataFrame) -> pl.DataFrame:
    """Businesses per industry section (门类 A–T) and type; codes whose division is unknown fall under ``?``.

    Counted per industry code first: a province registers a few thousand codes, so each code's division is
    found once, not once per business.
    """
    divisions = industries.select("division", "section", "section_name")
    per_code = counts_of(directory, ["industry_code"], "business_type", BUSINESS_TYPES)
    return (
        per_code.with_columns(division=industry_division(pl.col("industry_code")))
        .join(divisions, on="division", how="left")
        .with_columns(pl.col("section").fill_null("?"), pl.col("section_name").fill_null("未知门类"))
        .group_by("section", "section_name")
        .agg(pl.col(*BUSINESS_TYPES, "total").sum())
        .sort("section", "section_name")
    )


def code_counts(directory: pl.DataFrame, codes: str) -> pl.DataFrame:
    """How many businesses carry each code of the list column ``codes``, most frequent first."""
    return (
        directory.select(pl.col(codes).alias("code"))
        .explode("code")
        .drop_nulls("code")
        .group_by("code")
        .agg(businesses=pl.len().cast(pl.Int64))
        .sort(["businesses", "code"], descending=[True, False])
    )


def linkage_outcomes(linkage: pl.DataFrame) -> pl.DataFrame:
    """Records per source by outcome (linked by each route, unlinked, ambiguous), each record counted once.

    ``links`` is how many businesses the source's records reach: an operator's trademark counts for each
    of the operator's businesses.
    """
    records = linkage.group_by("source", "record").agg(
        outcome=pl.when(pl.col("status").first() == "linked")
        .then(pl.col("route").drop_nulls().min())
        .otherwise(pl.col("status").first()),
        businesses=pl.col("business_key").drop_nulls().n_unique(),
    )
    outcomes = counts_of(records, ["source"], "outcome", LINK_OUTCOMES)
    links = records.group_by("source").agg(links=pl.col("businesses").sum().cast(pl.Int64))
    source_order = {s: i for i, s in enumerate(LINKED_SOURCES)}
    return outcomes.join(links, on="source", how="left").sort(
        pl.col("source").replace_strict(source_order, return_dtype=pl.Int8)
    )


def quarantine_by_rule(quarantine: pl.DataFrame) -> pl.DataFrame:
    """Quarantined rows per source and rule, most frequent first."""
    return (
        quarantine.group_by("source", "rule")
        .agg(rows=pl.len().cast(pl.Int64))
        .sort(["rows", "source", "rule"], descending=[True, False, False])
    )


def movement_matrix(transitions: pl.DataFrame) -> pl.DataFrame:
    """Businesses per previous type (rows, null: new) and current type (columns, ``退出`` when gone)."""
    current = pl.col("business_type").fill_null("退出")
    return counts_of(
        transitions.with_columns(business_type=current),
        ["previous_type"],
        "business_type",
        (*BUSINESS_TYPES, "退出"),
    ).sort(pl.col("previous_type").replace_strict(TYPE_RANK, default=-1, return_dtype=pl.Int8), descending=True)
