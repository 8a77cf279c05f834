"""The link, features and type stages on files: what they read and write, byte for byte, whatever the row order."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import hypothesis.strategies as st
import polars as pl
import pytest
from hypothesis import given, settings

from bench.typing_bench import run_duckdb, same_result
from flows.home import Cycle
from flows.stages.business_types import type_businesses
from flows.stages.features import features as features_stage
from flows.stages.link import link as link_stage
from reference import RULESETS_DIR, province_regions
from schemas.ruleset import RulesetError
from schemas.work_files import DIRECTORY_COLUMNS
from tests.support.frames import AS_OF, business, business_features, sources, table, uscc
from transforms.business_types import business_types, directory
from transforms.link import linkage

SHARED_OPERATOR = "op-shared"

# a small province with every route and trap: ambiguous tax, shared names, a person holder, listings
ROWS: dict[str, list[dict]] = {
    "registration": [
        business(1, name="郑州市金水区老王面馆"),
        business(2, operator_key=SHARED_OPERATOR, operator_name="张三"),
        business(3, operator_key=SHARED_OPERATOR, operator_name="张三", region_code="410102"),
        business(4, name="同名小店"),
        business(5, name="同名小店", established_on=dt.date(2024, 9, 1)),
        business(6, uscc=None, reg_no="410105600000001", business_key="410105600000001", status="吊销"),
        business(7, operator_name="李四", established_on=dt.date(2014, 1, 1)),
    ],
    "annual_report": [
        {
            "uscc": uscc(n),
            "report_year": 2024,
            "filed_on": dt.date(2025, 4, 1),
            "staff_count": n,
            "sales_yuan": Decimal(n * 100000),
        }
        for n in (1, 2, 3, 4, 7)
    ],
    "abnormal_list": [{"uscc": uscc(4), "listed_on": dt.date(2024, 1, 1), "removed_on": AS_OF}],
    "tax_payment": [
        {
            "taxpayer_uscc": uscc(1),
            "tax_kind": "增值税",
            "paid_on": dt.date(2024, m, 15),
            "amount_yuan": Decimal("2500.00"),
        }
        for m in (3, 6, 9, 12)
    ]
    + [
        {
            "taxpayer_key": SHARED_OPERATOR,
            "taxpayer_suffix": "01",
            "tax_kind": "个人所得税",
            "paid_on": dt.date(2024, 5, 1),
            "amount_yuan": Decimal("99999"),
        }
    ],
    "social_security": [
        {
            "employer_uscc": uscc(7),
            "person_key": p,
            "insurance": i,
            "contribution_month": dt.date(2024, 2, 1),
            "payment_mode": "单位缴纳",
        }
        for p in ("a", "b", "c", "d", "e", "f")
        for i in ("失业保险", "工伤保险")
    ],
    "trademark": [
        {
            "trademark_no": "T1",
            "holder_name": "张三",
            "holder_key": SHARED_OPERATOR,
            "registered_on": dt.date(2019, 1, 1),
            "trademark_status": "注册",
        },
        {
            "trademark_no": "T2",
            "holder_name": "同名小店",
            "registered_on": dt.date(2019, 1, 1),
            "trademark_status": "注册",
        },
        {
            "trademark_no": "T3",
            "holder_name": "李四",
            "holder_address": "河南省郑州市金水区",
            "registered_on": dt.date(2019, 1, 1),
            "trademark_status": "注册",
        },
    ],
}


def write_accepted(cycle: Cycle, rows: dict[str, list[dict]]) -> None:
    cycle.accepted_dir.mkdir(parents=True, exist_ok=True)
    for source, source_rows in rows.items():
        table(source, source_rows).collect().write_parquet(cycle.accepted(source))


def run_stages(cycle: Cycle) -> dict[str, bytes]:
    link_stage(cycle)
    features_stage(cycle)
    type_businesses(cycle)
    return {
        name: (cycle.work_dir / name).read_bytes()
        for name in ("linkage.parquet", "features.parquet", "directory.parquet")
    }


def cycle_at(tmp_path, province: str = "41", ruleset=None) -> Cycle:
    return Cycle(province=province, as_of=AS_OF, home=tmp_path, secret=b"test", ruleset=ruleset)


def test_the_stages_write_their_files_and_type_every_business(tmp_path):
    cycle = cycle_at(tmp_path)
    write_accepted(cycle, ROWS)
    run_stages(cycle)
    result = pl.read_parquet(cycle.work_dir / "directory.parquet")
    assert tuple(result.columns) == DIRECTORY_COLUMNS
    assert result.select("business_key", "business_type", "reasons").rows() == [
        # 吊销, and no USCC while the annual reports carry no 注册号: unmatchable, not "not filed"
        ("410105600000001", "不符合分型条件", ["STATUS", "UNMATCHABLE"]),
        (uscc(1), "成长型", ["成长A"]),  # 4 × 2,500 = 10,000 yuan: not above 10,000
        (uscc(2), "生存型", ["NO_CONDITION"]),  # the shared operator's tax is ambiguous: it counts for nobody
        (uscc(3), "成长型", ["成长C"]),  # sales 300,000
        (uscc(4), "成长型", ["成长C"]),  # removed from the abnormal list on D
        (uscc(5), "不符合分型条件", ["ANNUAL_REPORT"]),  # established in 2024, owes the 2024 report
        (uscc(7), "发展型", ["发展B", "发展C", "发展D"]),
    ]
    assert result["as_of"].unique().to_list() == [AS_OF]
    assert result["cycle_id"].unique().to_list() == ["41-20250731"]
    assert (result["ruleset_id"] + "-" + result["ruleset_version"]).unique().to_list() == ["HA-2024.1"]

    features = pl.read_parquet(cycle.work_dir / "features.parquet")
    by_key = {row["business_key"]: row for row in features.iter_rows(named=True)}
    assert [by_key[uscc(n)]["valid_trademarks"] for n in (1, 2, 3, 4, 5, 7)] == [0, 1, 1, 0, 0, 1]
    assert by_key[uscc(7)]["insured_incl_operator"] == 6
    links = pl.read_parquet(cycle.work_dir / "linkage.parquet")
    assert links.filter(pl.col("record") == "T2")["candidates"].to_list() == [sorted([uscc(4), uscc(5)])]


def test_an_accepted_table_that_breaks_its_key_stops_the_features_stage(tmp_path):
    cycle = cycle_at(tmp_path)
    twice = business(1) | {"name": "另一个名称"}  # validate never lets two rows of one business_key through
    write_accepted(cycle, {"registration": [*ROWS["registration"], twice]})
    link_stage(cycle)
    with pytest.raises(ValueError, match=f"businesses {uscc(1)} got several feature rows"):
        features_stage(cycle)


def test_a_missing_source_is_no_records(tmp_path):
    cycle = cycle_at(tmp_path)
    write_accepted(cycle, {"registration": ROWS["registration"]})
    run_stages(cycle)
    assert pl.read_parquet(cycle.work_dir / "linkage.parquet").height == 0
    result = pl.read_parquet(cycle.work_dir / "directory.parquet")
    assert result.height == len(ROWS["registration"])


def test_rerunning_gives_byte_identical_files_and_row_order_does_not_matter(tmp_path):
    first = cycle_at(tmp_path / "a")
    write_accepted(first, ROWS)
    files = run_stages(first)
    assert run_stages(first) == files
    shuffled = cycle_at(tmp_path / "b")
    rng = random.Random(7)
    write_accepted(shuffled, {source: rng.sample(rows, len(rows)) for source, rows in ROWS.items()})
    assert run_stages(shuffled) == files


def test_the_type_stage_applies_the_cycles_ruleset_file(tmp_path):
    cycle = cycle_at(tmp_path, ruleset=RULESETS_DIR / "41.toml")
    write_accepted(cycle, ROWS)
    run_stages(cycle)
    other = cycle_at(tmp_path, ruleset=RULESETS_DIR / "23.toml")
    with pytest.raises(RulesetError, match="这是省份 23 的分型标准"):
        type_businesses(other)


def test_a_province_without_a_ruleset_stops_the_type_stage_with_how_to_file_one(tmp_path):
    cycle = cycle_at(tmp_path, province="42")
    write_accepted(cycle, {"registration": [business(1, region_code="420102")]})
    link_stage(cycle)
    features_stage(cycle)
    with pytest.raises(RulesetError, match=r"写 data/rulesets/42\.toml"):
        type_businesses(cycle)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), province=st.sampled_from(["23", "41"]))
def test_the_result_never_depends_on_row_order(seed, province):
    from reference import ruleset_for

    def result(rows: dict[str, list[dict]]) -> tuple[pl.DataFrame, ...]:
        tables = sources(**rows)
        links = linkage(tables, province_regions("41")).collect()
        features = business_features(tables, links.lazy(), AS_OF).collect()
        typed = business_types(features.lazy(), ruleset_for(province))
        return links, features, directory(tables["registration"], typed, ruleset_for(province), AS_OF, "c").collect()

    rng = random.Random(seed)
    shuffled = {source: rng.sample(rows, len(rows)) for source, rows in ROWS.items()}
    for expected, actual in zip(result(ROWS), result(shuffled), strict=True):
        assert actual.equals(expected)


# 29 February, around the age and suspension boundaries, and a report without 从业人数, for the oracle below
LEAP_ROWS = {
    "annual_report": [{"uscc": uscc(20), "report_year": 2024, "filed_on": dt.date(2025, 3, 1), "staff_count": None}],
    "registration": [
        business(20 + i, established_on=day)
        for i, day in enumerate(
            [dt.date(2020, 2, 29), dt.date(2021, 2, 28), dt.date(2021, 3, 1), dt.date(2022, 2, 28), dt.date(2022, 3, 1)]
        )
    ],
    "suspension": [
        {"uscc": uscc(20 + i), "suspended_from": day}
        for i, day in enumerate([dt.date(2021, 2, 28), dt.date(2021, 3, 1), dt.date(2020, 2, 29), dt.date(2022, 7, 31)])
    ],
}


@pytest.mark.parametrize("as_of", [AS_OF, dt.date(2024, 2, 29), dt.date(2023, 2, 28)])
@pytest.mark.parametrize("province", ["23", "41"])
def test_a_hand_written_duckdb_query_of_the_same_rules_gets_the_same_features_and_types(tmp_path, province, as_of):
    cycle = Cycle(province=province, as_of=as_of, home=tmp_path, secret=b"test")
    write_accepted(cycle, {source: ROWS.get(source, []) + LEAP_ROWS.get(source, []) for source in ROWS | LEAP_ROWS})
    run_stages(cycle)
    run_duckdb(cycle, cycle.work_dir / "directory_duckdb.parquet")
    assert same_result(cycle) == "identical"
