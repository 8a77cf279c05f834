"""The ground truth written next to the inbox: who owns each record, and each business's intended features.

Facts follow rules.md and docs/architecture.md "Features" as of the as-of date, counting only what a correct
pipeline can see: rows a validator must quarantine are left out, and linked records count only where a
correct linker can attribute them (an ambiguous record counts for nobody, rules.md §3.4).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from synth.records import cents_text, years_before

ACTIVE = ("存续", "在营", "开业", "在册")
LINK_SCHEMA = {"source": pl.String, "record": pl.String, "business_key": pl.String, "owner": pl.String,
               "attributable": pl.Boolean}  # fmt: skip
TAX_SOURCES = ("taxpayer", "tax_abnormal", "tax_payment")


def business_keys(biz: pl.DataFrame) -> pl.DataFrame:
    return biz.select("_bidx", business_key=pl.coalesce("uscc", "reg_no"))


def links(biz: pl.DataFrame, typed: dict[str, pl.DataFrame], truth: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """links.parquet rows of one chunk: one per true (record, business) pair, or one with no business."""
    keys = business_keys(biz)
    parts = []
    for source in TAX_SOURCES:
        present = typed[source].select(record=pl.col("taxpayer_id")).unique()
        parts.append(
            present.join(truth["tax"].rename({"taxpayer_id": "record"}), on="record", how="inner").with_columns(
                source=pl.lit(source)
            )
        )
    for source, record in (("trademark", "trademark_no"), ("patent", "application_no")):
        parts.append(truth[source].rename({record: "record"}).with_columns(source=pl.lit(source)))
    return (
        pl.concat([p.select("source", "record", "_bidx", "owner", "attributable") for p in parts])
        .join(keys, on="_bidx", how="left")
        .select(*LINK_SCHEMA)
        .cast(LINK_SCHEMA)
        .sort("source", "record", "business_key", nulls_last=True)
    )


def _in_force(start: str, end: str, as_of: dt.date) -> pl.Expr:
    return (pl.col(start) <= as_of) & (pl.col(end).is_null() | (pl.col(end) > as_of))


def _any_per_business(frame: pl.DataFrame, condition: pl.Expr, name: str) -> pl.DataFrame:
    return frame.filter(condition).group_by("_bidx").agg(pl.len().alias(name)).with_columns(pl.col(name) > 0)


def facts(
    biz: pl.DataFrame, typed: dict[str, pl.DataFrame], truth: dict[str, pl.DataFrame],
    quarantined: dict[str, pl.Series], as_of: dt.date,
) -> pl.DataFrame:  # fmt: skip
    """facts.parquet rows of one chunk (one per business, in business order)."""
    year = as_of.year
    accepted = {s: f.filter(~pl.col("_rid").is_in(quarantined[s].implode())) for s, f in typed.items()}
    previous = (pl.date(year - 1, 1, 1), pl.date(year - 1, 12, 31))

    def linked(source: str, key: str, links: pl.DataFrame) -> pl.DataFrame:
        attributed = links.filter("attributable").select(key, "_bidx")
        return accepted[source].drop("_bidx").join(attributed, on=key, how="inner")

    tax = linked("tax_payment", "taxpayer_id", truth["tax"])
    tax_paid = (
        tax.filter(pl.col("paid_on").is_between(*previous)).group_by("_bidx").agg(tax_cents=pl.col("amount_yuan").sum())
    )
    general = _any_per_business(
        linked("taxpayer", "taxpayer_id", truth["tax"]),
        _in_force("general_from", "general_until", as_of),
        "general_taxpayer",
    )
    tax_abnormal = _any_per_business(
        linked("tax_abnormal", "taxpayer_id", truth["tax"]),
        _in_force("declared_on", "lifted_on", as_of),
        "tax_abnormal",
    )
    operators = biz.select("_bidx", "operator_id")
    insured = (
        accepted["social_security"]
        .filter((pl.col("payment_mode") == "单位缴纳") & pl.col("contribution_month").is_between(*previous))
        .join(operators, on="_bidx", how="inner")
        .group_by("_bidx")
        .agg(
            insured_incl_operator=pl.col("person_id").n_unique(),
            insured_excl_operator=pl.col("person_id").filter(pl.col("person_id") != pl.col("operator_id")).n_unique(),
        )
    )
    report = (
        accepted["annual_report"]
        .filter(pl.col("report_year") == year - 1)
        .select(
            "_bidx",
            _report=pl.lit(True),
            employees_prev_year=(pl.col("staff_count") - 1).clip(lower_bound=0),
            sales_cents=pl.col("sales_yuan"),
        )
    )
    abnormal = _any_per_business(
        accepted["abnormal_list"], _in_force("listed_on", "removed_on", as_of), "on_abnormal_list"
    )
    serious = _any_per_business(
        accepted["serious_list"], _in_force("listed_on", "removed_on", as_of), "on_serious_list"
    )
    limit = years_before(as_of, 3)
    suspended = _any_per_business(
        accepted["suspension"],
        _in_force("suspended_from", "resumed_on", as_of) & (pl.col("suspended_from") >= limit),
        "suspended",
    )
    marks = linked("trademark", "trademark_no", truth["trademark"]).filter(
        (pl.col("trademark_status") == "注册")
        & (pl.col("registered_on") <= as_of)
        & (pl.col("protected_until") >= as_of)
    )
    patents = linked("patent", "application_no", truth["patent"]).filter(
        (pl.col("legal_status") == "有效") & (pl.col("granted_on") <= as_of)
    )
    counts = {
        "valid_trademarks": marks.group_by("_bidx").agg(pl.len().alias("valid_trademarks")),
        "valid_patents": patents.group_by("_bidx").agg(pl.len().alias("valid_patents")),
    }
    frame = biz.select(
        "_bidx",
        "_rid",
        business_key=pl.coalesce("uscc", "reg_no"),
        established_on="established_on",
        status_active=pl.col("status").is_in(ACTIVE),
        seasonal=pl.col("seasonal").fill_null(False),
        designed_case="_designed",
        linkage_trap="_trap",
    )
    for part in (tax_paid, general, tax_abnormal, insured, report, abnormal, serious, suspended, *counts.values()):
        frame = frame.join(part, on="_bidx", how="left")
    return (
        frame.with_columns(
            years_established=_whole_years("established_on", as_of),
            annual_report_filed=pl.col("_report").fill_null(False) | (pl.col("established_on").dt.year() == year),
            on_abnormal_list=pl.col("on_abnormal_list").fill_null(False),
            on_serious_list=pl.col("on_serious_list").fill_null(False),
            tax_abnormal=pl.col("tax_abnormal").fill_null(False),
            suspended=pl.col("suspended").fill_null(False),
            tax_paid_prev_year=_decimal(pl.col("tax_cents").fill_null(0)),
            general_taxpayer=pl.col("general_taxpayer").fill_null(False),
            insured_incl_operator=pl.col("insured_incl_operator").fill_null(0).cast(pl.Int32),
            insured_excl_operator=pl.col("insured_excl_operator").fill_null(0).cast(pl.Int32),
            employees_prev_year=pl.col("employees_prev_year").cast(pl.Int32),
            sales_prev_year=_decimal(pl.col("sales_cents")),
            valid_trademarks=pl.col("valid_trademarks").fill_null(0).cast(pl.Int32),
            valid_patents=pl.col("valid_patents").fill_null(0).cast(pl.Int32),
            registration_quarantined=pl.col("_rid").is_in(quarantined["registration"].implode()),
        )
        .sort("_bidx")
        .select(*FACT_COLUMNS)
    )


FACT_COLUMNS = (
    "business_key", "years_established", "status_active", "annual_report_filed", "on_abnormal_list",
    "on_serious_list", "tax_abnormal", "suspended", "seasonal", "tax_paid_prev_year", "general_taxpayer",
    "insured_incl_operator", "insured_excl_operator", "employees_prev_year", "sales_prev_year",
    "valid_trademarks", "valid_patents", "designed_case", "linkage_trap", "registration_quarantined",
)  # fmt: skip


def _decimal(cents: pl.Expr) -> pl.Expr:
    return cents_text(cents).cast(pl.Decimal(18, 2))


def _whole_years(column: str, as_of: dt.date) -> pl.Expr:
    """Whole calendar years from ``column`` to ``as_of``: n with established ≤ as_of − n years (29 Feb → 28 Feb)."""
    naive = pl.lit(as_of.year) - pl.col(column).dt.year()
    anniversary = pl.lit(as_of).dt.offset_by(pl.format("-{}y", naive))
    return pl.when(pl.col(column) <= anniversary).then(naive).otherwise(naive - 1).cast(pl.Int32)
