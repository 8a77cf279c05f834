"""The ground truth written next to the inbox: who owns each record, and each business's intended features.

Facts follow rules.md **v2** and docs/architecture.md "Features" as of the as-of date ``D``, counting only what a
correct pipeline can see: rows a validator must quarantine are left out, and linked records count only where a
correct linker can attribute them (an ambiguous record counts for nobody, rules.md §3.4).

v2 (rules.md, Terms): "previous year" is the report year ``R`` (``Plan.report_year``: Y-1 from 30 June, Y-2
before); records dated after D (up to the extraction) are accepted and simply not in force or not yet filed on
D; the annual report of R is its latest version filed on or before D, and two versions filed that day with
different content make it filed with unknown (null) figures; a listing episode delivered twice with different
ends is in force as long as any version says so; only taxes count as tax (interpretation 3); anniversaries per
《民法典》 (29 February → 28 February); a business established after D is marked ``established_after_as_of``.
The ``*_prev_year`` column names are kept: they mean the report year R.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from synth.records import cents_text, years_before

ACTIVE = ("存续", "存续（在营、开业、在册）", "在营", "开业", "在册", "在业")
#: The 18 taxes China levies (rules.md, interpretation 3). Surcharges and funds (教育费附加, 地方教育附加,
#: 文化事业建设费, ...) are not tax and never count.
TAXES = (
    "增值税", "消费税", "企业所得税", "个人所得税", "资源税", "城市维护建设税", "房产税", "印花税", "城镇土地使用税",
    "土地增值税", "车船税", "船舶吨税", "车辆购置税", "关税", "耕地占用税", "契税", "烟叶税", "环境保护税",
)  # fmt: skip
#: Listing sources whose conflicting duplicate (faults.CONFLICT_COLUMN) differs in the end date: resolved
#: against the business, i.e. the episode is open-ended (one version is open, or the other ends on its start).
END_CONFLICT = {"serious_list": "removed_on", "tax_abnormal": "lifted_on"}
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
    quarantined: dict[str, pl.Series], as_of: dt.date, report_year: int | None = None,
    conflicts: dict[str, pl.Series] | None = None,
) -> pl.DataFrame:  # fmt: skip
    """facts.parquet rows of one chunk (one per business, in business order).

    ``conflicts``: per source, rows with a conflicting duplicate that v2 does not simply quarantine (an annual
    report version with a same-day twin; a listing episode with a twin), see ``synth.generate``.
    """
    year = report_year if report_year is not None else as_of.year - 1
    conflicts = conflicts or {}
    accepted = {s: f.filter(~pl.col("_rid").is_in(quarantined[s].implode())) for s, f in typed.items()}
    for source, end in END_CONFLICT.items():
        if source in conflicts and accepted[source].height:
            twin = pl.col("_rid").is_in(conflicts[source].implode())
            accepted[source] = accepted[source].with_columns(pl.when(twin).then(None).otherwise(pl.col(end)).alias(end))
    previous = (pl.date(year, 1, 1), pl.date(year, 12, 31))

    def linked(source: str, key: str, links: pl.DataFrame) -> pl.DataFrame:
        attributed = links.filter("attributable").select(key, "_bidx")
        return accepted[source].drop("_bidx").join(attributed, on=key, how="inner")

    tax = linked("tax_payment", "taxpayer_id", truth["tax"])
    tax_paid = (
        tax.filter(pl.col("paid_on").is_between(*previous) & pl.col("tax_kind").is_in(TAXES))
        .group_by("_bidx")
        .agg(tax_cents=pl.col("amount_yuan").sum())
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
    twin_reports = conflicts.get("annual_report", pl.Series("_rid", [], dtype=pl.Int64))
    versions = accepted["annual_report"].filter((pl.col("report_year") == year) & (pl.col("filed_on") <= as_of))
    content = pl.struct("sales_yuan", "tax_declared_yuan", "staff_count", "has_website")
    report = (
        versions.filter(pl.col("filed_on") == pl.col("filed_on").max().over("_bidx"))
        .group_by("_bidx")
        .agg(
            _conflict=(content.n_unique() > 1) | pl.col("_rid").is_in(twin_reports.implode()).any(),
            _staff=pl.col("staff_count").first(),
            _sales=pl.col("sales_yuan").first(),
        )
        .select(
            "_bidx",
            _report=pl.lit(True),
            report_conflict="_conflict",
            employees_prev_year=pl.when(~pl.col("_conflict")).then((pl.col("_staff") - 1).clip(lower_bound=0)),
            sales_cents=pl.when(~pl.col("_conflict")).then(pl.col("_sales")),
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
            years_established=pl.when(pl.col("established_on") <= as_of).then(_whole_years("established_on", as_of)),
            annual_report_filed=pl.col("_report").fill_null(False) | (pl.col("established_on").dt.year() > year),
            report_conflict=pl.col("report_conflict").fill_null(False),
            established_after_as_of=pl.col("established_on") > as_of,
            report_year=pl.lit(year, pl.Int32),
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
    "established_after_as_of", "report_year", "report_conflict",
)  # fmt: skip


def _decimal(cents: pl.Expr) -> pl.Expr:
    return cents_text(cents).cast(pl.Decimal(18, 2))


def _whole_years(column: str, as_of: dt.date) -> pl.Expr:
    """Whole anniversaries of ``column`` reached on or before ``as_of`` (《民法典》第二百零一、二百零二条).

    The n-th anniversary of E is E plus n calendar years, 29 February falling on 28 February in a common year:
    2016-02-29 is 10 years old on 2026-02-28. (Counting back from D instead would make it 9.)
    """
    naive = pl.lit(as_of.year) - pl.col(column).dt.year()
    anniversary = pl.col(column).dt.offset_by(pl.format("{}y", naive))
    return pl.when(anniversary <= pl.lit(as_of)).then(naive).otherwise(naive - 1).cast(pl.Int32)
