"""One row per business as of the as-of date ``D``: every fact the basic criteria and any ruleset can read.

``FEATURES`` is the registry: a ruleset may name only these features, and the ``features`` table has exactly
these columns after ``business_key`` (docs/architecture.md, "Features"). The large sources (tax_payment,
social_security) are filtered and aggregated before anything is joined to them, so a lazy scan of them streams.
"""

from __future__ import annotations

import calendar
import datetime as dt

import polars as pl

from schemas.features import DEFAULTS, FEATURES
from schemas.sources import MONEY
from transforms.link import IN_FORCE, LINKED, TAX_IDENTITY, tax_identity

SUSPENSION_MAXIMUM_YEARS = 3  # 《市场主体登记管理条例》第三十条: 歇业的期限最长不得超过3年


# --- dates -----------------------------------------------------------------------------------------------


def years_before(day: dt.date, years: int) -> dt.date:
    """``day`` minus whole calendar years; 29 Feb maps to 28 Feb in a common year (rules.md, Interpretation 2)."""
    year = day.year - years
    return (
        day.replace(year=year, day=28)
        if (day.month, day.day) == (2, 29) and not calendar.isleap(year)
        else day.replace(year=year)
    )


def whole_years(since: pl.Expr, as_of: dt.date) -> pl.Expr:
    """The most whole calendar years ``n`` with ``since`` ≤ ``as_of`` minus ``n`` years (rules.md, Interpretation 2).

    Counting back from ``as_of`` to the year of ``since`` lands on the same month and day, except that a 29 Feb
    ``as_of`` lands on 28 Feb when that year is common.
    """
    as_of_day = as_of.month * 100 + as_of.day
    landing = pl.when(since.dt.is_leap_year()).then(229).otherwise(228) if as_of_day == 229 else pl.lit(as_of_day)
    since_day = since.dt.month().cast(pl.Int32) * 100 + since.dt.day().cast(pl.Int32)
    short_of_a_year = (since_day > landing).cast(pl.Int32)
    return (pl.lit(as_of.year, pl.Int32) - since.dt.year().cast(pl.Int32) - short_of_a_year).cast(pl.Int32)


def in_force_on(start: pl.Expr, end: pl.Expr, as_of: dt.date) -> pl.Expr:
    """Started on or before ``as_of`` and not ended (移出/解除/终止) on or before it (rules.md, Terms)."""
    return (start <= as_of) & (end.is_null() | (end > as_of))


def in_year(date: pl.Expr, year: int) -> pl.Expr:
    return (date >= dt.date(year, 1, 1)) & (date <= dt.date(year, 12, 31))


# --- one fact per source ---------------------------------------------------------------------------------


def registration_facts(registration: pl.LazyFrame, as_of: dt.date) -> pl.LazyFrame:
    return registration.select(
        "business_key",
        "uscc",
        years_established=whole_years(pl.col("established_on"), as_of),
        status_active=pl.col("status") == IN_FORCE,
        seasonal=pl.col("seasonal").fill_null(False),
        established_this_year=pl.col("established_on").dt.year() == as_of.year,
    )


def annual_report_facts(annual_report: pl.LazyFrame, as_of: dt.date) -> pl.LazyFrame:
    """``uscc`` with the report for ``Y-1`` as it stood on ``D``: a report filed after ``D`` did not exist yet."""
    return annual_report.filter((pl.col("report_year") == as_of.year - 1) & (pl.col("filed_on") <= as_of)).select(
        "uscc",
        report_filed=pl.lit(True),
        employees_prev_year=(pl.col("staff_count") - 1).clip(lower_bound=0).cast(pl.Int32),
        sales_prev_year=pl.col("sales_yuan").cast(MONEY),
    )


def listed_on(listing: pl.LazyFrame, start: str, end: str, as_of: dt.date, name: str) -> pl.LazyFrame:
    """``uscc`` of every business with an episode of ``listing`` in force on ``D``."""
    return (
        listing.filter(in_force_on(pl.col(start), pl.col(end), as_of))
        .select("uscc")
        .unique()
        .with_columns(pl.lit(True).alias(name))
    )


def suspended_on(suspension: pl.LazyFrame, as_of: dt.date) -> pl.LazyFrame:
    """``uscc`` of every business whose 歇业 covers ``D`` and is still within the legal maximum of 3 years.

    A suspension covers its filed period up to and including 歇业截止日期, unless 终止歇业日期 ended it on or before
    ``D`` ("resumed early", extracts.md). It is within the maximum while it started on or after ``D`` minus 3
    years — counted like a business's age (rules.md, Interpretation 2).
    """
    covers = (pl.col("suspended_until").is_null() | (pl.col("suspended_until") >= as_of)) & in_force_on(
        pl.col("suspended_from"), pl.col("resumed_on"), as_of
    )
    within_maximum = pl.col("suspended_from") >= years_before(as_of, SUSPENSION_MAXIMUM_YEARS)
    return suspension.filter(covers & within_maximum).select("uscc").unique().with_columns(suspended=pl.lit(True))


def linked_tax_identities(linkage: pl.LazyFrame) -> pl.LazyFrame:
    """``record → business_key`` of every linked tax identity (one business at most: rules.md §3)."""
    return linkage.filter((pl.col("source") == TAX_IDENTITY) & (pl.col("status") == LINKED)).select(
        "record", "business_key"
    )


def _with_identity(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame.with_columns(
        record=tax_identity(pl.col("taxpayer_uscc"), pl.col("taxpayer_key"), pl.col("taxpayer_suffix"))
    )


def tax_facts(
    taxpayer: pl.LazyFrame,
    tax_abnormal: pl.LazyFrame,
    tax_payment: pl.LazyFrame,
    tax_links: pl.LazyFrame,
    as_of: dt.date,
) -> pl.LazyFrame:
    """``business_key`` with net tax paid in ``Y-1``, general-taxpayer status and 非正常户 on ``D``."""
    identity = ["taxpayer_uscc", "taxpayer_key", "taxpayer_suffix"]
    paid = _with_identity(
        tax_payment.filter(in_year(pl.col("paid_on"), as_of.year - 1))
        .group_by(identity)
        .agg(tax_paid_prev_year=pl.col("amount_yuan").sum())
    ).join(tax_links, on="record")
    general = _with_identity(
        taxpayer.filter(in_force_on(pl.col("general_from"), pl.col("general_until"), as_of)).select(identity)
    ).join(tax_links, on="record")
    abnormal = _with_identity(
        tax_abnormal.filter(in_force_on(pl.col("declared_on"), pl.col("lifted_on"), as_of)).select(identity)
    ).join(tax_links, on="record")
    return (
        pl.concat(
            [
                paid.select("business_key", "tax_paid_prev_year"),
                general.select("business_key", general_taxpayer=pl.lit(True)),
                abnormal.select("business_key", tax_abnormal=pl.lit(True)),
            ],
            how="diagonal",
        )
        .group_by("business_key")
        .agg(
            pl.col("tax_paid_prev_year").sum().cast(MONEY),
            pl.col("general_taxpayer").any(),
            pl.col("tax_abnormal").any(),
        )
    )


def insured_counts(social_security: pl.LazyFrame, registration: pl.LazyFrame, as_of: dt.date) -> pl.LazyFrame:
    """``uscc`` with the distinct persons insured in the employer's name in ``Y-1``, with and without the operator."""
    insured = (
        social_security.filter(
            (pl.col("payment_mode") == "单位缴纳") & in_year(pl.col("contribution_month"), as_of.year - 1)
        )
        .select("employer_uscc", "person_key")
        .unique()
    )
    operators = registration.select(
        employer_uscc=pl.col("uscc"), person_key=pl.col("operator_key"), is_operator=pl.lit(True)
    ).filter(pl.col("employer_uscc").is_not_null())
    return (
        insured.join(operators, on=["employer_uscc", "person_key"], how="left")
        .group_by("employer_uscc")
        .agg(
            insured_incl_operator=pl.len().cast(pl.Int32),
            insured_excl_operator=pl.col("is_operator").is_null().sum().cast(pl.Int32),
        )
        .rename({"employer_uscc": "uscc"})
    )


def holdings(linkage: pl.LazyFrame, trademark: pl.LazyFrame, patent: pl.LazyFrame, as_of: dt.date) -> pl.LazyFrame:
    """``business_key`` with the trademarks and patents valid on ``D`` linked to it (each counted once)."""
    valid_trademarks = trademark.filter(
        (pl.col("trademark_status") == "注册")
        & (pl.col("registered_on") <= as_of)
        & (pl.col("protected_until").is_null() | (pl.col("protected_until") >= as_of))
    ).select(record="trademark_no", source=pl.lit("trademark"))
    valid_patents = patent.filter((pl.col("legal_status") == "有效") & (pl.col("granted_on") <= as_of)).select(
        record="application_no", source=pl.lit("patent")
    )
    linked = linkage.filter(pl.col("status") == LINKED).select("source", "record", "business_key")
    return (
        pl.concat([valid_trademarks, valid_patents])
        .join(linked, on=["source", "record"])
        .unique(["source", "record", "business_key"])
        .group_by("business_key")
        .agg(
            valid_trademarks=(pl.col("source") == "trademark").sum().cast(pl.Int32),
            valid_patents=(pl.col("source") == "patent").sum().cast(pl.Int32),
        )
    )


# --- the features table ----------------------------------------------------------------------------------


def source_facts(sources: dict[str, pl.LazyFrame], linkage: pl.LazyFrame, as_of: dt.date) -> dict[str, pl.LazyFrame]:
    """The facts each source contributes, as small frames — at most one row per business — keyed by ``uscc``
    (sources that carry the business's USCC) or ``business_key`` (linked records). ``registration`` is the spine.

    Every large source is filtered and aggregated here, so collecting these frames streams through it."""
    registration = sources["registration"]
    return {
        "registration": registration_facts(registration, as_of),
        "annual_report": annual_report_facts(sources["annual_report"], as_of),
        "abnormal_list": listed_on(sources["abnormal_list"], "listed_on", "removed_on", as_of, "on_abnormal_list"),
        "serious_list": listed_on(sources["serious_list"], "listed_on", "removed_on", as_of, "on_serious_list"),
        "suspension": suspended_on(sources["suspension"], as_of),
        "social_security": insured_counts(sources["social_security"], registration, as_of),
        "tax": tax_facts(
            sources["taxpayer"], sources["tax_abnormal"], sources["tax_payment"], linked_tax_identities(linkage), as_of
        ),
        "holdings": holdings(linkage, sources["trademark"], sources["patent"], as_of),
    }


def features_from_facts(facts: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
    """``business_key`` and every feature of ``FEATURES``, one row per registered business, sorted by key."""
    features = facts["registration"]
    for name, part in facts.items():
        if name == "registration":
            continue
        # a business without a USCC (注册号 only) matches no USCC-keyed fact: null keys never join
        key = "uscc" if "uscc" in part.collect_schema() else "business_key"
        features = features.join(part, on=key, how="left", maintain_order="left")
    filed = pl.col("established_this_year") | pl.col("report_filed").fill_null(False)
    return (
        features.with_columns(annual_report_filed=filed)
        .select(
            "business_key",
            *(
                pl.col(f.name).fill_null(DEFAULTS[f.name]).cast(f.dtype)
                if f.name in DEFAULTS
                else pl.col(f.name).cast(f.dtype)
                for f in FEATURES.values()
            ),
        )
        .sort("business_key")
    )
