"""Who qualifies for each support measure (帮扶措施, "免申即享"): a province's measures compiled to Polars expressions.

A business qualifies for a measure when its type is one of the measure's ``types``, it holds a 名特优新 recognition
valid on the cycle's as-of date in one of the measure's ``categories`` (when it names any), and its features meet
every condition. Conditions are compiled by typing's own compiler (``transforms.business_types.meets``): a missing
value meets nothing, as in typing.

``businesses`` has one row per business of the cycle: ``business_key``, ``business_type``, ``categories``
(``List(String)``: the 名特优新 categories it holds valid on the as-of date, empty when none) and every feature a
condition reads, plus whatever identifying columns the caller wants carried to the result.
"""

from __future__ import annotations

import polars as pl

from schemas.measures import Measure, Measures
from transforms.business_types import meets

#: What a row of the result carries about the measure, before the business's own columns.
MEASURE_COLUMNS = ("measure_id", "measure_name", "department")


def qualifies(measure: Measure) -> pl.Expr:
    """True where a business qualifies for ``measure``; never null."""
    parts = [pl.col("business_type").is_in(list(measure.types))]
    if measure.categories:
        parts.append(pl.col("categories").list.eval(pl.element().is_in(list(measure.categories))).list.any())
    parts += [meets(condition) for condition in measure.conditions]
    return pl.all_horizontal(parts).fill_null(False)


def eligibility(businesses: pl.LazyFrame, measures: Measures, carried: list[str]) -> pl.LazyFrame:
    """One row per (measure, qualifying business): the measure's id, name and department, then ``carried``, sorted by
    department, measure (file order) and business key."""
    rows = [
        businesses.filter(qualifies(m)).select(
            pl.lit(m.department).alias("department"),
            pl.lit(order, dtype=pl.Int32).alias("_order"),
            pl.lit(m.id).alias("measure_id"),
            pl.lit(m.name).alias("measure_name"),
            *carried,
        )
        for order, m in enumerate(measures.measures)
    ]
    return (
        pl.concat(rows, how="vertical")
        .sort("department", "_order", "business_key")
        .select(*MEASURE_COLUMNS, *(c for c in carried if c not in MEASURE_COLUMNS))
    )
