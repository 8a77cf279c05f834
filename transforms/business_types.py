"""Typing: the national basic criteria (code), then the province's ruleset (data) compiled to Polars expressions.

Every business of the features table gets exactly one ``business_type``:

- ``不符合分型条件`` when it fails any basic criterion; ``reasons`` = the failed criteria's codes.
- ``发展型`` / ``成长型``, the highest type whose requirement and one condition it meets; ``reasons`` = every
  condition met, highest type first, in the ruleset's order (``发展①;成长①``).
- ``生存型`` otherwise (the national fallback); ``reasons`` says why it is not higher: ``MIN_AGE`` when it misses
  the requirement both higher types share (成立2年（含）以上) — whatever conditions it meets — else
  ``NO_CONDITION``: old enough, but it meets no condition of a higher type.

``conditions_met`` always lists every condition the features meet (also for a business that is 生存型 for its
age or 不符合分型条件), and ``criteria_failed`` every failed basic criterion, so an objection handler sees what
would change the type. The feature values behind them are the ``features`` table's row of the business.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from schemas.features import FEATURES
from schemas.ruleset import Bound, Comparison, Ruleset
from schemas.vocabulary import DEVELOPMENT, GROWTH, INELIGIBLE, MIN_AGE, NO_CONDITION, SURVIVAL, TYPE_RANK
from schemas.work_files import DIRECTORY_COLUMNS, DIRECTORY_DETAILS


@dataclass(frozen=True)
class Criterion:
    code: str  # its Chinese label: schemas.vocabulary.CRITERIA_LABELS
    passes: pl.Expr


#: The national basic criteria (基础标准, 000 总体方案 一(四)1), in codes order; features are never null.
BASIC_CRITERIA: tuple[Criterion, ...] = tuple(
    sorted(
        (
            Criterion("STATUS", pl.col("status_active")),
            Criterion(
                "ANNUAL_REPORT",
                pl.col("annual_report_filed") | pl.col("unmatchable"),
            ),
            Criterion("ABNORMAL", ~pl.col("on_abnormal_list")),
            Criterion("SERIOUS", ~pl.col("on_serious_list")),
            # a business whose report cannot be matched (no USCC, no 注册号 in the reports) fails UNMATCHABLE
            # instead: "not filed" would not be the truth (extracts.md v2)
            Criterion("UNMATCHABLE", ~pl.col("unmatchable")),
            Criterion("TAX_ABNORMAL", ~pl.col("tax_abnormal")),
            Criterion(
                "SUSPENDED",
                ~(pl.col("suspended") & ~pl.col("seasonal")),
            ),
        ),
        key=lambda c: c.code,
    )
)


def _literal(value: Decimal, feature: str) -> pl.Expr:
    dtype = FEATURES[feature].dtype
    return pl.lit(int(value), dtype=dtype) if dtype.is_integer() else pl.lit(value, dtype=dtype)


def _compare(column: pl.Expr, bound: Bound, feature: str, lower: bool) -> pl.Expr:
    threshold = _literal(bound.value, feature)
    if lower:
        return column >= threshold if bound.inclusive else column > threshold
    return column <= threshold if bound.inclusive else column < threshold


def meets(comparison: Comparison) -> pl.Expr:
    """True where the business's feature meets the comparison; a missing value (no annual report) meets nothing."""
    column, feature = pl.col(comparison.feature), comparison.feature
    if comparison.equals is not None:
        met = column == comparison.equals
    else:
        parts = [_compare(column, b, feature, lower=True) for b in [comparison.lower] if b is not None]
        parts += [_compare(column, b, feature, lower=False) for b in [comparison.upper] if b is not None]
        met = pl.all_horizontal(parts)
    return met.fill_null(False)


def _mask(flags: list[pl.Expr]) -> pl.Expr:
    """The flags as the bits of one integer (flag ``i`` is bit ``i``)."""
    return pl.sum_horizontal([flag.cast(pl.UInt64) * (1 << i) for i, flag in enumerate(flags)]).cast(pl.UInt64)


def _codes(mask: pl.Expr, codes: list[str]) -> pl.Expr:
    """The codes whose bit is set in ``mask``, in the given order."""
    return pl.concat_list(
        [pl.when(mask & (1 << i) != 0).then(pl.lit(code)) for i, code in enumerate(codes)]
    ).list.drop_nulls()


def _any_bit(mask: pl.Expr, positions: list[int]) -> pl.Expr:
    return mask & sum(1 << i for i in positions) != 0


def business_types(features: pl.LazyFrame, ruleset: Ruleset) -> pl.LazyFrame:
    """``business_key, business_type, reasons, conditions_met, criteria_failed`` for every row of ``features``,
    in its order.

    Per business only the bits are computed — criteria failed, conditions met, requirement met; the type and the
    code lists are functions of those bits, so they are computed once per distinct combination and joined back.
    """
    ordered = sorted(ruleset.conditions, key=lambda c: -TYPE_RANK[c.type])  # stable: ruleset order within a type
    per_business = features.select(
        "business_key",
        _failed=_mask([~c.passes for c in BASIC_CRITERIA]),
        _met=_mask([meets(c) for c in ordered]),
        _old_enough=meets(ruleset.requirement),
    )
    met, failed, old_enough = pl.col("_met"), pl.col("_failed"), pl.col("_old_enough")

    def meets_any(type_name: str) -> pl.Expr:
        return old_enough & _any_bit(met, [i for i, c in enumerate(ordered) if c.type == type_name])

    outcomes = (
        per_business.select("_failed", "_met", "_old_enough")
        .unique()
        .with_columns(
            business_type=pl.when(failed != 0)
            .then(pl.lit(INELIGIBLE))
            .when(meets_any(DEVELOPMENT))
            .then(pl.lit(DEVELOPMENT))
            .when(meets_any(GROWTH))
            .then(pl.lit(GROWTH))
            .otherwise(pl.lit(SURVIVAL)),
            conditions_met=_codes(met, [c.code for c in ordered]),
            criteria_failed=_codes(failed, [c.code for c in BASIC_CRITERIA]),
        )
        .with_columns(
            reasons=pl.when(pl.col("business_type") == INELIGIBLE)
            .then(pl.col("criteria_failed"))
            .when(pl.col("business_type") != SURVIVAL)
            .then(pl.col("conditions_met"))
            .when(~old_enough)
            .then(pl.lit([MIN_AGE]))
            .otherwise(pl.lit([NO_CONDITION]))
        )
    )
    return per_business.join(outcomes, on=["_failed", "_met", "_old_enough"], how="left", maintain_order="left").select(
        "business_key", "business_type", "reasons", "conditions_met", "criteria_failed"
    )


def directory(
    registration: pl.LazyFrame, typed: pl.LazyFrame, ruleset: Ruleset, as_of: dt.date, cycle_id: str
) -> pl.LazyFrame:
    """The directory (docs/architecture.md, "The directory"): every typed business — one per registered business,
    as the features table has them — with its registration details, sorted by key.

    Joins keep the order of ``typed`` (the features table's, sorted by key), so the final sort finds the rows in
    order and costs little; sorting 1M string keys from scratch costs more than the rest of the stage.
    """
    details = registration.select(DIRECTORY_DETAILS)
    return (
        typed.join(details, on="business_key", how="left", maintain_order="left")
        .with_columns(
            ruleset_id=pl.lit(ruleset.id),
            ruleset_version=pl.lit(ruleset.version),
            as_of=pl.lit(as_of, dtype=pl.Date),
            cycle_id=pl.lit(cycle_id),
        )
        .select(DIRECTORY_COLUMNS)
        .sort("business_key")
    )
