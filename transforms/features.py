"""One row per business as of the as-of date ``D``: every fact the basic criteria and any ruleset can read.

``FEATURES`` is the registry: a ruleset may name only these features, and the ``features`` table has exactly
these columns after ``business_key`` (docs/architecture.md, "Features"). The large sources (tax_payment,
social_security) are filtered and aggregated before anything is joined to them, so a lazy scan of them streams.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Collection

import polars as pl

from schemas import terms
from schemas.features import DEFAULTS, FEATURES
from schemas.sources import MONEY
from schemas.vocabulary import IN_FORCE
from schemas.work_files import REPORT_CONFLICTS_SCHEMA
from transforms.link import LINKED, TAX_IDENTITY, tax_identity

SUSPENSION_MAXIMUM_YEARS = 3  # 《市场主体登记管理条例》第三十条: 歇业的期限最长不得超过3年


# --- dates -----------------------------------------------------------------------------------------------


def whole_years(since: pl.Expr, as_of: dt.date) -> pl.Expr:
    """Whole anniversaries of ``since`` reached on or before ``as_of`` (《民法典》第二百零一、二百零二条).

    The ``n``-th anniversary of ``E`` is the same month and day ``n`` years later, and the anniversary of
    29 February in a common year is 28 February: 2016-02-29 is 10 years old on 2026-02-28 (rules.md, Terms).
    """
    as_of_day = as_of.month * 100 + as_of.day
    since_day = since.dt.month().cast(pl.Int32) * 100 + since.dt.day().cast(pl.Int32)
    anniversary_day = (
        since_day if calendar.isleap(as_of.year) else pl.when(since_day == 229).then(pl.lit(228)).otherwise(since_day)
    )
    short_of_a_year = (anniversary_day > as_of_day).cast(pl.Int32)
    return (pl.lit(as_of.year, pl.Int32) - since.dt.year().cast(pl.Int32) - short_of_a_year).cast(pl.Int32)


def within_years(start: pl.Expr, as_of: dt.date, years: int) -> pl.Expr:
    """``as_of`` is on or before the ``years``-th anniversary of ``start``: a period of ``years`` years from
    ``start`` ends on that anniversary (《民法典》第二百零一、二百零二条: the first day is not counted, the last is
    the corresponding day, 28 February for a 29 February start in a common year)."""
    return whole_years(start, as_of - dt.timedelta(days=1)) < years


def in_force_on(start: pl.Expr, end: pl.Expr, as_of: dt.date) -> pl.Expr:
    """Started on or before ``as_of`` and not ended (移出/解除/终止) on or before it (rules.md, Terms)."""
    return (start <= as_of) & (end.is_null() | (end > as_of))


def in_year(date: pl.Expr, year: int) -> pl.Expr:
    return (date >= dt.date(year, 1, 1)) & (date <= dt.date(year, 12, 31))


# --- matching USCC-keyed records to businesses -----------------------------------------------------------


def by_business(records: pl.LazyFrame, registration: pl.LazyFrame) -> pl.LazyFrame:
    """``records`` of a USCC-keyed source with the ``business_key`` they belong to: their USCC when they carry
    one, else the registration whose 注册号 equals their ``reg_no`` (extracts.md v2). A record matching no
    business keeps a null key and joins nobody; a 注册号 registered twice matches neither business."""
    if "reg_no" not in records.collect_schema():  # a table written before 注册号 was accepted in this source
        return records.with_columns(business_key=pl.col("uscc"))
    by_reg_no = (
        registration.filter(pl.col("reg_no").is_not_null())
        .group_by("reg_no")
        .agg(_by_reg_no=pl.col("business_key").first(), _businesses=pl.len())
        .filter(pl.col("_businesses") == 1)
        .select("reg_no", "_by_reg_no")
    )
    return (
        records.join(by_reg_no, on="reg_no", how="left")
        .with_columns(business_key=pl.coalesce("uscc", "_by_reg_no"))
        .drop("_by_reg_no")
    )


def carries_reg_no(records: pl.LazyFrame) -> pl.LazyFrame:
    """One row, ``_carries_reg_no``: whether any accepted row of ``records`` has a 注册号."""
    if "reg_no" not in records.collect_schema():
        return pl.LazyFrame({"_carries_reg_no": [False]})
    return records.select(_carries_reg_no=pl.col("reg_no").is_not_null().any())


# --- one fact per source ---------------------------------------------------------------------------------


def registration_facts(
    registration: pl.LazyFrame, annual_report: pl.LazyFrame, as_of: dt.date, report_year: int
) -> pl.LazyFrame:
    """Every business that existed on ``D`` (one established after ``D`` is not typed in this cycle: rules.md,
    Terms) with its registration facts. ``unmatchable``: no USCC, while the annual reports carry no 注册号, so
    its report for ``R`` cannot be found — unless none is due (established after ``R``)."""
    after_report_year = pl.col("established_on").dt.year() > report_year
    return (
        registration.filter(pl.col("established_on") <= as_of)
        .join(carries_reg_no(annual_report), how="cross")
        .select(
            "business_key",
            "uscc",
            years_established=whole_years(pl.col("established_on"), as_of),
            status_active=pl.col("status") == IN_FORCE,
            seasonal=pl.col("seasonal").fill_null(False),
            established_after_report_year=after_report_year,
            unmatchable=pl.col("uscc").is_null() & ~pl.col("_carries_reg_no") & ~after_report_year,
        )
    )


def not_yet_established(registration: pl.LazyFrame, as_of: dt.date) -> pl.LazyFrame:
    """``business_key`` of every registered business established after ``D``: counted apart, never typed."""
    return registration.filter(pl.col("established_on") > as_of).select("business_key")


def annual_report_facts(
    annual_report: pl.LazyFrame, conflicts: pl.LazyFrame, as_of: dt.date, report_year: int
) -> pl.LazyFrame:
    """``business_key`` with its report for ``R`` as it stood on ``D`` (rules.md, Terms): of the versions filed
    on or before ``D`` the latest wins; a report filed after ``D`` did not exist yet. When the latest date is a
    conflict date (two versions that day with different content: ``conflicts``, one row per such key) the report
    counts as filed and its figures are unknown (null)."""
    due = (pl.col("report_year") == report_year) & (pl.col("filed_on") <= as_of)
    versions = pl.concat(
        [
            annual_report.filter(due).select(
                "business_key", "filed_on", "staff_count", "sales_yuan", _conflict=pl.lit(False)
            ),
            conflicts.filter(due).select("business_key", "filed_on", _conflict=pl.lit(True)),
        ],
        how="diagonal",
    ).filter(pl.col("business_key").is_not_null())
    figures = pl.struct("staff_count", "sales_yuan").filter(~pl.col("_conflict"))
    latest = (
        versions.filter(pl.col("filed_on") == pl.col("filed_on").max().over("business_key"))
        .group_by("business_key")
        .agg(
            _conflict=pl.col("_conflict").any() | (figures.n_unique() > 1),
            _staff=pl.col("staff_count").drop_nulls().first(),
            _sales=pl.col("sales_yuan").drop_nulls().first(),
        )
    )
    known = ~pl.col("_conflict")
    return latest.select(
        "business_key",
        report_filed=pl.lit(True),
        employees_prev_year=pl.when(known).then((pl.col("_staff") - 1).clip(lower_bound=0)).cast(pl.Int32),
        sales_prev_year=pl.when(known).then(pl.col("_sales")).cast(MONEY),
    )


def listed_on(listing: pl.LazyFrame, start: str, end: str, as_of: dt.date, name: str) -> pl.LazyFrame:
    """``business_key`` of every business with an episode of ``listing`` in force on ``D``. An episode delivered
    in several versions is in force when any version is (rules.md, Terms: resolved against the business)."""
    return (
        listing.filter(in_force_on(pl.col(start), pl.col(end), as_of) & pl.col("business_key").is_not_null())
        .select("business_key")
        .unique()
        .with_columns(pl.lit(True).alias(name))
    )


def suspended_on(suspension: pl.LazyFrame, as_of: dt.date) -> pl.LazyFrame:
    """``business_key`` of every business whose 歇业 covers ``D`` and is still within the legal maximum of 3 years.

    A suspension covers its filed period up to and including 歇业截止日期, unless 终止歇业日期 ended it on or before
    ``D`` ("resumed early", extracts.md). It is within the maximum while ``D`` is on or before the third
    anniversary of its start (《民法典》第二百零一、二百零二条).
    """
    covers = (pl.col("suspended_until").is_null() | (pl.col("suspended_until") >= as_of)) & in_force_on(
        pl.col("suspended_from"), pl.col("resumed_on"), as_of
    )
    within_maximum = within_years(pl.col("suspended_from"), as_of, SUSPENSION_MAXIMUM_YEARS)
    return (
        suspension.filter(covers & within_maximum & pl.col("business_key").is_not_null())
        .select("business_key")
        .unique()
        .with_columns(suspended=pl.lit(True))
    )


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
    report_year: int,
    taxes: Collection[str],
) -> pl.LazyFrame:
    """``business_key`` with net tax paid in ``R``, general-taxpayer status and 非正常户 on ``D``.

    Only ``taxes`` count as tax paid: the 税种 ``data/tax_kinds.csv`` marks ``is_tax`` (rules.md, Interpretation
    3); surcharges and funds (教育费附加, 地方教育附加, ...) never do."""
    identity = ["taxpayer_uscc", "taxpayer_key", "taxpayer_suffix"]
    counted = pl.Series(sorted(taxes), dtype=pl.String).implode()
    paid = _with_identity(
        tax_payment.filter(in_year(pl.col("paid_on"), report_year) & pl.col("tax_kind").is_in(counted))
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


def insured_counts(social_security: pl.LazyFrame, registration: pl.LazyFrame, report_year: int) -> pl.LazyFrame:
    """``business_key`` (its USCC) with the distinct persons insured in the employer's name in ``R``, with and
    without the operator."""
    insured = (
        social_security.filter(
            (pl.col("payment_mode") == "单位缴纳") & in_year(pl.col("contribution_month"), report_year)
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
        .rename({"employer_uscc": "business_key"})  # a business with a USCC has it as its key
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


#: The USCC-keyed sources the features read, matched to businesses by USCC or 注册号 (``by_business``).
USCC_KEYED = ("annual_report", "abnormal_list", "serious_list", "suspension")


def source_facts(
    sources: dict[str, pl.LazyFrame],
    linkage: pl.LazyFrame,
    as_of: dt.date,
    *,
    taxes: Collection[str],
    report_year: int | None = None,
    report_conflicts: pl.LazyFrame | None = None,
) -> dict[str, pl.LazyFrame]:
    """The facts each source contributes, as small frames — at most one row per business — keyed by
    ``business_key``. ``registration`` is the spine: the businesses that existed on ``D``.

    ``report_year`` is ``R`` (default: ``schemas.terms.report_year(as_of)``); ``taxes`` the 税种 that count as
    tax; ``report_conflicts`` the annual-report keys filed twice on one day with different content
    (``accepted/annual_report_conflicts.parquet``; none when not given). Every large source is filtered and
    aggregated here, so collecting these frames streams through it."""
    year = report_year if report_year is not None else terms.report_year(as_of)
    registration = sources["registration"]
    keyed = {name: by_business(sources[name], registration) for name in USCC_KEYED}
    conflicts = by_business(
        report_conflicts if report_conflicts is not None else empty_report_conflicts().lazy(), registration
    )
    return {
        "registration": registration_facts(registration, sources["annual_report"], as_of, year),
        "annual_report": annual_report_facts(keyed["annual_report"], conflicts, as_of, year),
        "abnormal_list": listed_on(keyed["abnormal_list"], "listed_on", "removed_on", as_of, "on_abnormal_list"),
        "serious_list": listed_on(keyed["serious_list"], "listed_on", "removed_on", as_of, "on_serious_list"),
        "suspension": suspended_on(keyed["suspension"], as_of),
        "social_security": insured_counts(sources["social_security"], registration, year),
        "tax": tax_facts(
            sources["taxpayer"],
            sources["tax_abnormal"],
            sources["tax_payment"],
            linked_tax_identities(linkage),
            as_of,
            year,
            taxes,
        ),
        "holdings": holdings(linkage, sources["trademark"], sources["patent"], as_of),
    }


def empty_report_conflicts() -> pl.DataFrame:
    """``accepted/annual_report_conflicts.parquet`` with no rows (docs/architecture.md, "Accepted tables")."""
    return pl.DataFrame(schema=REPORT_CONFLICTS_SCHEMA)


def features_from_facts(facts: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
    """``business_key`` and every feature of ``FEATURES``, one row per business that existed on ``D``, sorted by
    key. An unmatchable business fails ``UNMATCHABLE`` instead of ``ANNUAL_REPORT``: its report may exist."""
    features = facts["registration"]
    for name, part in facts.items():
        if name != "registration":
            features = features.join(part, on="business_key", how="left", maintain_order="left")
    filed = ~pl.col("unmatchable") & (pl.col("established_after_report_year") | pl.col("report_filed").fill_null(False))
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
