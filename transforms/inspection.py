"""The 双随机 inspection sample: strata, their allocation and the draw, as pure functions anyone can recompute.

Method ``sha256-rank-v1`` (docs/measures.md, "How to verify a sample"):

1. Strata are county (行政区划代码) × business type × 名特优新 (holds a recognition valid on the as-of date: 是/否),
   ordered by county, then type in the order 生存型, 成长型, 发展型, 不符合分型条件, then 否 before 是.
2. A stratum's weight is its population × its ratio (the type's ``ratio``, or its ``recognised_ratio`` for 是).
   Stratum ``i`` is allotted ``N × weight_i / Σ weight`` places, in exact fractions; each gets the whole part, and
   the places left go one each to the largest remainders (ties: the earlier stratum). A stratum allotted more than
   its population gets its population, and the other strata share the rest the same way again, until none is over.
   The sizes add up to ``N`` exactly.
3. Within a stratum businesses are ranked by ``SHA-256(seed + ":" + business_key)`` in hexadecimal (UTF-8), lowest
   first (ties, which SHA-256 makes practically impossible, by key); the stratum's first ``k`` are drawn.

Nothing here uses a pseudo-random generator whose stream could change between library versions: the same seed and
cycle always give the same sample, and the published frame and seed let anyone recompute it with any SHA-256.
"""

from __future__ import annotations

import hashlib
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import polars as pl

from schemas.measures import Inspection
from schemas.vocabulary import BUSINESS_TYPES

METHOD = "sha256-rank-v1"
#: The columns that make a stratum, in the order strata are listed.
STRATUM = ("region_code", "business_type", "recognised")


class SampleError(ValueError):
    """A sample that cannot be drawn as asked (more places than businesses, nothing to weigh)."""


def draw_key(seed: str, business_key: str) -> str:
    """The draw's rank key of one business: SHA-256 of ``seed:business_key`` (UTF-8), hexadecimal."""
    return hashlib.sha256(f"{seed}:{business_key}".encode()).hexdigest()


def allocate(populations: list[int], weights: list[Fraction], size: int) -> list[int]:
    """Places per stratum: proportional to ``weights``, largest remainders, capped at each population (step 2)."""
    eligible = sum(p for p, w in zip(populations, weights, strict=True) if w > 0)
    if size < 0:
        raise SampleError(f"样本量 {size} 不能为负")
    if size > eligible:
        raise SampleError(f"样本量 {size} 超过了可抽取的个体工商户数 {eligible}（抽查比例大于 0 的分层合计）")
    places = [0] * len(populations)
    capped: set[int] = set()
    left = size
    while left:
        active = [i for i, w in enumerate(weights) if w > 0 and i not in capped]
        total = sum(weights[i] for i in active)
        quotas = {i: left * weights[i] / total for i in active}
        over = [i for i in active if quotas[i] > populations[i]]
        if over:
            for i in over:
                places[i] = populations[i]
                capped.add(i)
                left -= populations[i]
            continue
        whole = {i: int(quotas[i]) for i in active}  # floor: quotas are non-negative
        rest = left - sum(whole.values())
        for i in sorted(active, key=lambda i: (-(quotas[i] - whole[i]), i))[:rest]:
            whole[i] += 1
        for i, n in whole.items():
            places[i] = n
        break
    return places


def frame(population: pl.DataFrame, inspection: Inspection, seed: str) -> pl.DataFrame:
    """The sampling frame: every business of the population with its stratum, ratio and draw key, ranked within its
    stratum (``rank`` 1 = drawn first). ``population`` has ``business_key, region_code, business_type, recognised``."""
    ratios = pl.DataFrame(
        [
            (t.type, recognised, str(t.ratio_for(recognised)), t.frequency)
            for t in inspection.types
            for recognised in (False, True)
        ],
        schema={"business_type": pl.String, "recognised": pl.Boolean, "ratio": pl.String, "frequency": pl.Int32},
        orient="row",
    )
    keys = population.get_column("business_key").to_list()
    return (
        population.with_columns(draw_key=pl.Series([draw_key(seed, k) for k in keys], dtype=pl.String))
        .join(ratios, on=["business_type", "recognised"], how="left")
        .with_columns(_type_order=pl.col("business_type").replace_strict(list(BUSINESS_TYPES), range(4)))
        .sort("region_code", "_type_order", "recognised", "draw_key", "business_key")
        .with_columns(rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int32).over(STRATUM))
        .drop("_type_order")
    )


def strata(ranked: pl.DataFrame, size: int | None) -> pl.DataFrame:
    """One row per stratum of the frame, in stratum order: population, ratio, weight and places (``size`` in all;
    None: the size the ratios imply, Σ population × ratio rounded half up)."""
    counted = ranked.group_by(STRATUM, maintain_order=True).agg(
        pl.len().cast(pl.Int64).alias("population"), pl.col("ratio").first(), pl.col("frequency").first()
    )
    populations = counted.get_column("population").to_list()
    weights = [p * Fraction(Decimal(r)) for p, r in zip(populations, counted.get_column("ratio"), strict=True)]
    if size is None:
        total = sum(weights, Fraction(0))
        size = int((Decimal(total.numerator) / Decimal(total.denominator)).quantize(Decimal(1), ROUND_HALF_UP))
    places = allocate(populations, weights, size)
    return counted.with_columns(
        weight=pl.Series([str(Decimal(w.numerator) / Decimal(w.denominator)) for w in weights], dtype=pl.String),
        places=pl.Series(places, dtype=pl.Int64),
    )


def drawn(ranked: pl.DataFrame, allotted: pl.DataFrame) -> pl.DataFrame:
    """The frame's rows within their stratum's places: the sample, in stratum order then rank."""
    return (
        ranked.join(allotted.select(*STRATUM, "places"), on=list(STRATUM), how="left", maintain_order="left")
        .filter(pl.col("rank") <= pl.col("places"))
        .drop("places")
    )
