"""Monitoring (监测分析) across the cycles of a province: the figures of ``monitoring.html`` and of the warehouse's
``monitoring_*`` tables (issue 20; docs/monitoring.md). Pure: frames in, frames out.

Every figure carries each cycle's ``cycle_kind``: yearly cycles (判定日期 31 July) make the series; an extra cycle
(加开, any other date) is either labelled as such (counts per cycle, employment, candidates) or left out where
a figure compares a year with the next (the transition matrix and survival compare yearly cycles only).

The inputs, each with ``cycle_id`` (and ``business_key`` for businesses) as in the warehouse:

- ``cycles``: ``province, cycle_id, as_of, report_year, cycle_kind``
- ``directory``: ``cycle_id, business_key, uscc, name, region_code, industry, business_type``
- ``features``: ``cycle_id, business_key, status_active, insured_incl_operator, insured_excl_operator,
  employees_prev_year`` and the features the 个转企 criterion reads
- ``transitions``: the warehouse's ``transitions`` rows (each cycle against the latest yearly cycle before it)
"""

from __future__ import annotations

import polars as pl

from schemas.monitoring import Conversion
from schemas.terms import YEARLY
from schemas.vocabulary import BUSINESS_TYPES, MOVEMENTS, TYPE_RANK

#: Where a directory row has no industry section (大类 not in GB/T 4754-2017).
NO_SECTION = "?"

_CYCLE_COLUMNS = ("cycle_id", "as_of", "report_year", "cycle_kind")


def cycle_order(cycles: pl.LazyFrame) -> pl.LazyFrame:
    """The province's cycles by as-of date, with ``previous_yearly`` and ``next_yearly``: the yearly cycles just
    before and after each (an extra cycle is never one of them)."""
    ordered = cycles.select(*_CYCLE_COLUMNS).sort("as_of")
    yearly = ordered.filter(pl.col("cycle_kind") == YEARLY).select("as_of", yearly_id="cycle_id")
    before = yearly.rename({"yearly_id": "previous_yearly"}).with_columns(pl.col("as_of").alias("_at"))
    after = yearly.rename({"yearly_id": "next_yearly"}).with_columns(pl.col("as_of").alias("_at"))
    return (
        ordered.join_asof(before.drop("as_of").rename({"_at": "as_of"}), on="as_of", strategy="backward",
                          allow_exact_matches=False)
        .join_asof(after.drop("as_of").rename({"_at": "as_of"}), on="as_of", strategy="forward",
                   allow_exact_matches=False)
        .sort("as_of")
    )  # fmt: skip


def _type_order() -> pl.Expr:
    return pl.col("business_type").replace_strict(
        {t: i for i, t in enumerate(BUSINESS_TYPES)}, default=len(BUSINESS_TYPES), return_dtype=pl.Int8
    )


def types_by(directory: pl.LazyFrame, cycles: pl.LazyFrame, dimension: str) -> pl.LazyFrame:
    """Businesses per cycle, ``dimension`` value and type; ``dimension`` is ``region_code`` or ``section`` (the
    industry's 门类 letter, ``?`` when unknown). Every type appears for every (cycle, value) present, 0 if none."""
    rows = directory.with_columns(section=pl.col("industry").str.slice(0, 1).fill_null(NO_SECTION))
    counts = rows.group_by("cycle_id", dimension, "business_type").agg(businesses=pl.len().cast(pl.Int64))
    grid = (
        rows.select("cycle_id", dimension)
        .unique()
        .join(pl.LazyFrame({"business_type": list(BUSINESS_TYPES)}), how="cross")
    )
    return (
        grid.join(counts, on=["cycle_id", dimension, "business_type"], how="left")
        .with_columns(pl.col("businesses").fill_null(0))
        .join(cycles.select(*_CYCLE_COLUMNS), on="cycle_id")
        .sort("as_of", dimension, _type_order())
        .select(*_CYCLE_COLUMNS, dimension, "business_type", "businesses")
    )


def transition_counts(transitions: pl.LazyFrame, cycles: pl.LazyFrame) -> pl.LazyFrame:
    """The year-on-year matrix: businesses per (previous yearly cycle's type, this yearly cycle's type), yearly
    cycles only. ``previous_type`` is null for a business new to the directory, ``business_type`` null for one
    that left it; ``movement`` is the warehouse's (上升, 下降, 不变, 新增, 退出)."""
    yearly = cycles.filter(pl.col("cycle_kind") == YEARLY)
    movement_order = {m: i for i, m in enumerate(MOVEMENTS)}
    return (
        transitions.join(yearly.select("cycle_id", "as_of"), on="cycle_id", how="semi")
        .join(yearly.select(previous_cycle_id="cycle_id"), on="previous_cycle_id", how="semi")
        .group_by("cycle_id", "previous_cycle_id", "previous_type", "business_type", "movement")
        .agg(businesses=pl.len().cast(pl.Int64))
        .join(yearly.select("cycle_id", "as_of", "report_year"), on="cycle_id")
        .sort(
            "as_of",
            pl.col("previous_type").replace_strict(TYPE_RANK, default=9, return_dtype=pl.Int8),
            pl.col("business_type").replace_strict(TYPE_RANK, default=9, return_dtype=pl.Int8),
            pl.col("movement").replace_strict(movement_order, default=9, return_dtype=pl.Int8),
        )
        .select(
            "cycle_id", "as_of", "report_year", "previous_cycle_id", "previous_type", "business_type", "movement",
            "businesses",
        )
    )  # fmt: skip


def survival(directory: pl.LazyFrame, features: pl.LazyFrame, cycles: pl.LazyFrame) -> pl.LazyFrame:
    """Of the businesses 存续 in a yearly cycle, by their type then, how many are still 存续 in the next yearly
    cycle (``surviving``), closed (注销, 吊销, 撤销 or 迁出 there: ``closed``) or no longer in its directory
    (``absent``). Only yearly cycles with a next yearly cycle; extra cycles are neither a start nor an end."""
    order = cycle_order(cycles).filter((pl.col("cycle_kind") == YEARLY) & pl.col("next_yearly").is_not_null())
    status = features.select("cycle_id", "business_key", "status_active")
    start = (
        directory.select("cycle_id", "business_key", "business_type")
        .join(status, on=["cycle_id", "business_key"])
        .filter(pl.col("status_active"))
        .join(order.select("cycle_id", "next_yearly"), on="cycle_id")
    )
    later = status.rename({"cycle_id": "next_yearly", "status_active": "active_next"})
    return (
        start.join(later, on=["next_yearly", "business_key"], how="left")
        .group_by("cycle_id", "next_yearly", "business_type")
        .agg(
            businesses=pl.len().cast(pl.Int64),
            surviving=pl.col("active_next").fill_null(False).sum().cast(pl.Int64),
            closed=(pl.col("active_next") == False).sum().cast(pl.Int64),  # noqa: E712 (null stays absent)
            absent=pl.col("active_next").is_null().sum().cast(pl.Int64),
        )
        .with_columns(survival_rate=pl.col("surviving") / pl.col("businesses"))
        .join(order.select("cycle_id", "as_of", "report_year"), on="cycle_id")
        .join(cycles.select(next_yearly="cycle_id", next_as_of="as_of"), on="next_yearly")
        .sort("as_of", _type_order())
        .select(
            "cycle_id", "as_of", "report_year", pl.col("next_yearly").alias("next_cycle_id"), "next_as_of",
            "business_type", "businesses", "surviving", "closed", "absent", "survival_rate",
        )
    )  # fmt: skip


def employment(directory: pl.LazyFrame, features: pl.LazyFrame, cycles: pl.LazyFrame) -> pl.LazyFrame:
    """Jobs per cycle and type: people insured by the businesses as employer (单位缴纳) in the report year, with
    and without their operators, businesses insuring anyone, and the employees their annual reports state."""
    people = features.select(
        "cycle_id", "business_key", "insured_incl_operator", "insured_excl_operator", "employees_prev_year"
    )
    return (
        directory.select("cycle_id", "business_key", "business_type")
        .join(people, on=["cycle_id", "business_key"], how="left")
        .group_by("cycle_id", "business_type")
        .agg(
            businesses=pl.len().cast(pl.Int64),
            insured=pl.col("insured_incl_operator").fill_null(0).sum().cast(pl.Int64),
            insured_employees=pl.col("insured_excl_operator").fill_null(0).sum().cast(pl.Int64),
            insuring_businesses=(pl.col("insured_incl_operator").fill_null(0) > 0).sum().cast(pl.Int64),
            reported_employees=pl.col("employees_prev_year").sum().cast(pl.Int64),
        )
        .join(cycles.select(*_CYCLE_COLUMNS), on="cycle_id")
        .sort("as_of", _type_order())
        .select(*_CYCLE_COLUMNS, "business_type", "businesses", "insured", "insured_employees",
                "insuring_businesses", "reported_employees")
    )  # fmt: skip


def _type_streaks(directory: pl.LazyFrame, cycles: pl.LazyFrame, types: tuple[str, ...]) -> pl.LazyFrame:
    """For each cycle and business of ``types`` in it: how many yearly cycles in a row, up to it, typed it so
    (an extra cycle counts itself and the yearly cycles before it)."""
    order = cycle_order(cycles)
    yearly = order.filter(pl.col("cycle_kind") == YEARLY).with_columns(_index=pl.int_range(pl.len()))
    typed = directory.filter(pl.col("business_type").is_in(list(types))).select("cycle_id", "business_key")
    runs = (
        typed.join(yearly.select("cycle_id", "_index"), on="cycle_id")
        .sort("business_key", "_index")
        .with_columns(_run=pl.col("_index") - pl.int_range(pl.len()).over("business_key"))
        .with_columns(streak=pl.int_range(1, pl.len() + 1).over("business_key", "_run"))
        .select("cycle_id", "business_key", "streak")
    )
    extra = order.filter(pl.col("cycle_kind") != YEARLY).select("cycle_id", "previous_yearly")
    extra_runs = (
        typed.join(extra, on="cycle_id")
        .join(runs.rename({"cycle_id": "previous_yearly", "streak": "before"}), on=["previous_yearly", "business_key"],
              how="left")
        .select("cycle_id", "business_key", streak=1 + pl.col("before").fill_null(0))
    )  # fmt: skip
    return pl.concat([runs.with_columns(pl.col("streak").cast(pl.Int64)), extra_runs.with_columns(
        pl.col("streak").cast(pl.Int64))])  # fmt: skip


def candidates(
    directory: pl.LazyFrame, features: pl.LazyFrame, cycles: pl.LazyFrame, conversion: Conversion
) -> pl.LazyFrame:
    """个转企 candidates per cycle: businesses of ``conversion.types``, so typed in at least
    ``conversion.min_yearly_cycles`` yearly cycles in a row up to the cycle, meeting any of its thresholds;
    ``conditions`` names the thresholds met. No money leaves here: only which threshold was met."""
    met = [pl.when(pl.col(t.feature).cast(pl.Float64) >= t.at_least).then(pl.lit(t.label)) for t in conversion.any_of]
    wanted = sorted({t.feature for t in conversion.any_of} | {"insured_incl_operator", "employees_prev_year"})
    return (
        directory.select("cycle_id", "business_key", "uscc", "name", "region_code", "industry", "business_type")
        .join(_type_streaks(directory, cycles, conversion.types), on=["cycle_id", "business_key"])
        .filter(pl.col("streak") >= conversion.min_yearly_cycles)
        .join(features.select("cycle_id", "business_key", *wanted), on=["cycle_id", "business_key"], how="left")
        .with_columns(conditions=pl.concat_list(met).list.drop_nulls().list.join("；"))
        .filter(pl.col("conditions") != "")
        .join(cycles.select(*_CYCLE_COLUMNS), on="cycle_id")
        .sort("as_of", "region_code", "business_key")
        .select(
            *_CYCLE_COLUMNS, "business_key", "uscc", "name", "region_code", "industry", "business_type",
            pl.col("streak").alias("yearly_cycles_as_type"), "conditions",
            pl.col("insured_incl_operator").fill_null(0), "employees_prev_year",
        )
    )  # fmt: skip


def figures(
    cycles: pl.LazyFrame,
    directory: pl.LazyFrame,
    features: pl.LazyFrame,
    transitions: pl.LazyFrame,
    conversion: Conversion,
) -> dict[str, pl.LazyFrame]:
    """Every figure of one province, by the warehouse table that holds it (``schemas.monitoring``)."""
    return {
        "monitoring_region_types": types_by(directory, cycles, "region_code"),
        "monitoring_section_types": types_by(directory, cycles, "section"),
        "monitoring_transitions": transition_counts(transitions, cycles),
        "monitoring_survival": survival(directory, features, cycles),
        "monitoring_employment": employment(directory, features, cycles),
        "monitoring_candidates": candidates(directory, features, cycles, conversion),
    }
