"""The 双随机 sample: the inspection file's checks, the allocation (sums to N, proportional, capped strata, largest
remainders), the draw's key and its reproducibility — on hand-made strata and businesses."""

from __future__ import annotations

import hashlib
from fractions import Fraction

import polars as pl
import pytest

from reference import inspection_for
from schemas.measures import MeasuresError, parse_inspection_text
from transforms.inspection import SampleError, allocate, draw_key, drawn, frame, strata

INSPECTION = """
province = "41"
version = "2025.1"
title = "t"
document = "d"
source = "s"

[[types]]
type = "不符合分型条件"
ratio = "0.10"
frequency = 2

[[types]]
type = "生存型"
ratio = "0.02"
frequency = 1

[[types]]
type = "成长型"
ratio = "0.04"
recognised_ratio = "0.01"
frequency = 1

[[types]]
type = "发展型"
ratio = "0.04"
frequency = 1
"""


def inspection(text: str = INSPECTION):
    return parse_inspection_text(text, "inspection/41.toml")


# --- the file ------------------------------------------------------------------------------------------


def test_the_shipped_files_load_with_every_type():
    for province in ("23", "41"):
        loaded = inspection_for(province)
        assert {t.type for t in loaded.types} == {"生存型", "成长型", "发展型", "不符合分型条件"}
        assert loaded.of("生存型").ratio_for(False) < loaded.of("不符合分型条件").ratio_for(False)


def test_recognised_ratio_applies_to_holders_only_and_defaults_to_the_types():
    loaded = inspection()
    assert str(loaded.of("成长型").ratio_for(True)) == "0.01"
    assert str(loaded.of("成长型").ratio_for(False)) == "0.04"
    assert str(loaded.of("发展型").ratio_for(True)) == "0.04"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('ratio = "0.02"', 'ratio = "1.5"'),
            "分型结果 生存型（第 2 条 [[types]]）：ratio = '1.5'：比例应在 0 到 1 之间",
        ),
        (('ratio = "0.02"', "ratio = 0.02"), "不用浮点数"),
        (('type = "生存型"', 'type = "生存形"'), "未知的分型结果 生存形"),
        (('type = "生存型"', 'type = "成长型"'), "分型结果写了两次：成长型"),
        (("frequency = 2", "frequency = -1"), "frequency"),
    ],
)
def test_a_broken_inspection_file_is_named(change, expected):
    with pytest.raises(MeasuresError) as caught:
        inspection(INSPECTION.replace(*change, 1))
    assert str(caught.value).startswith("inspection/41.toml：") and expected in str(caught.value)


def test_a_missing_type_is_refused():
    without = INSPECTION.split("[[types]]")
    with pytest.raises(MeasuresError, match="缺少分型结果 不符合分型条件"):
        inspection("[[types]]".join([without[0], *without[2:]]))


# --- allocation ----------------------------------------------------------------------------------------


def test_allocation_is_proportional_to_population_times_ratio():
    # 100 × 0.1 = 10 and 100 × 0.3 = 30: N = 8 splits 2 : 6
    assert allocate([100, 100], [Fraction(10), Fraction(30)], 8) == [2, 6]


def test_largest_remainders_take_the_places_left_and_ties_go_to_the_earlier_stratum():
    assert allocate([10, 10, 10], [Fraction(1)] * 3, 10) == [4, 3, 3]
    # quotas 10 × (5, 3, 2) / 10 = 5, 3, 2 exactly: no remainder
    assert allocate([50, 50, 50], [Fraction(5), Fraction(3), Fraction(2)], 10) == [5, 3, 2]
    # quotas 7 × (1, 2, 4) / 7 ... with N = 4: 4/7, 8/7, 16/7 -> whole 0, 1, 2; one left to the largest remainder
    # (4/7 > 2/7 = 16/7 - 2 > 1/7 = 8/7 - 1)
    assert allocate([9, 9, 9], [Fraction(1), Fraction(2), Fraction(4)], 4) == [1, 1, 2]


def test_a_stratum_smaller_than_its_allocation_gives_all_it_has_and_the_rest_goes_to_the_others():
    # equal weights: 5 and 5 asked of a stratum of 2 and one of 100
    assert allocate([2, 100], [Fraction(1), Fraction(1)], 10) == [2, 8]
    # a cap can make another stratum go over in the next round: 3 strata, two small
    assert allocate([1, 3, 100], [Fraction(1)] * 3, 30) == [1, 3, 26]


def test_the_sizes_always_add_up_to_n():
    populations = [7, 13, 1, 40, 2, 9]
    weights = [Fraction(p) * r for p, r in zip(populations, [Fraction(1, 10), 2, 3, 1, 5, 0], strict=True)]
    for n in range(sum(populations[:5]) + 1):
        places = allocate(populations, weights, n)
        assert sum(places) == n
        assert all(0 <= k <= p for k, p in zip(places, populations, strict=True))
        assert places[5] == 0  # ratio 0: never drawn


def test_more_places_than_businesses_with_a_ratio_is_refused():
    with pytest.raises(SampleError, match="超过了可抽取的个体工商户数 3"):
        allocate([1, 2, 50], [Fraction(1), Fraction(1), Fraction(0)], 4)


# --- the draw ------------------------------------------------------------------------------------------


def test_the_draw_key_is_sha256_of_seed_colon_key():
    # printf 'seed-1:92410102MA00000001' | sha256sum
    assert draw_key("seed-1", "92410102MA00000001") == (
        "37ed1d9e135eef75a076e633d4031ef0e58155f75af473bb3773bc932b92f444"
    )


def population(counties: dict[str, dict[str, int]], recognised: int = 0) -> pl.DataFrame:
    """``{county: {type: households}}`` as businesses; the first ``recognised`` 成长型 of each county hold 名特优新."""
    rows = []
    for county, types in counties.items():
        for business_type, n in types.items():
            for i in range(n):
                key = f"92{county}{business_type}{i:04d}"
                rows.append((key, county, business_type, business_type == "成长型" and i < recognised))
    return pl.DataFrame(rows, schema=["business_key", "region_code", "business_type", "recognised"], orient="row")


PEOPLE = population({"410102": {"生存型": 200, "成长型": 50, "不符合分型条件": 20}, "410103": {"发展型": 3}}, 10)


def sample(seed: str, size: int | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    ranked = frame(PEOPLE, inspection(), seed)
    allotted = strata(ranked, size)
    return drawn(ranked, allotted), allotted


def test_the_strata_are_county_by_type_by_recognition_with_their_sizes():
    _, allotted = sample("s", 12)
    assert allotted.select("region_code", "business_type", "recognised", "population", "ratio").rows() == [
        ("410102", "生存型", False, 200, "0.02"),
        ("410102", "成长型", False, 40, "0.04"),
        ("410102", "成长型", True, 10, "0.01"),
        ("410102", "不符合分型条件", False, 20, "0.10"),
        ("410103", "发展型", False, 3, "0.04"),
    ]
    # weights 4, 1.6, 0.1, 2, 0.12 (Σ 7.82); N = 12: quotas 6.14, 2.46, 0.15, 3.07, 0.18 -> 6, 2, 0, 3, 0 and the
    # one left to the largest remainder, 2.46
    assert allotted["places"].to_list() == [6, 3, 0, 3, 0]


def test_without_a_size_the_ratios_give_it():
    _, allotted = sample("s", None)
    assert allotted["places"].sum() == 8  # Σ weights 7.82, rounded


def test_the_same_seed_gives_the_same_sample_and_another_seed_another():
    first, _ = sample("20250815", 12)
    again, _ = sample("20250815", 12)
    other, _ = sample("20250816", 12)
    assert first.equals(again)
    assert first.height == other.height == 12
    assert set(first["business_key"]) != set(other["business_key"])


def test_the_drawn_are_the_lowest_draw_keys_of_their_stratum():
    chosen, allotted = sample("abc", 12)
    for region, business_type, recognised, places in allotted.select(
        "region_code", "business_type", "recognised", "places"
    ).rows():
        members = PEOPLE.filter(
            (pl.col("region_code") == region)
            & (pl.col("business_type") == business_type)
            & (pl.col("recognised") == recognised)
        )["business_key"].to_list()
        expected = sorted(members, key=lambda k: hashlib.sha256(f"abc:{k}".encode()).hexdigest())[:places]
        got = chosen.filter(
            (pl.col("region_code") == region)
            & (pl.col("business_type") == business_type)
            & (pl.col("recognised") == recognised)
        )
        assert got["business_key"].to_list() == expected
        assert got["rank"].to_list() == list(range(1, places + 1))


def test_the_draw_does_not_depend_on_the_order_of_the_population():
    shuffled = PEOPLE.sample(fraction=1.0, shuffle=True, seed=1)
    a = drawn(ranked := frame(PEOPLE, inspection(), "x"), strata(ranked, 12))
    b = drawn(ranked := frame(shuffled, inspection(), "x"), strata(ranked, 12))
    assert a.equals(b)
