"""Typing from features: every condition of both rulesets and every basic criterion at its boundaries."""

from __future__ import annotations

from decimal import Decimal

import hypothesis.strategies as st
import polars as pl
import pytest
from hypothesis import given, settings

from reference import ruleset_for
from schemas.vocabulary import (
    CRITERIA_LABELS,
    DEVELOPMENT,
    GROWTH,
    INELIGIBLE,
    MIN_AGE,
    NO_CONDITION,
    SURVIVAL,
    TYPE_RANK,
)
from tests.support.frames import feature_row, feature_table
from transforms.business_types import BASIC_CRITERIA, business_types

HL, HA = ruleset_for("23"), ruleset_for("41")
RULESETS = {"23": HL, "41": HA}


def typed(province: str, rows: list[dict]) -> pl.DataFrame:
    return business_types(feature_table(rows), RULESETS[province]).collect().sort("business_key")


def type_and_reasons(province: str, **values) -> tuple[str, list[str]]:
    row = typed(province, [feature_row(**values)]).row(0, named=True)
    return row["business_type"], row["reasons"]


D = Decimal
NONE_MET = (SURVIVAL, [NO_CONDITION])

# (province, features changed from an eligible 5-year-old business with nothing to its name, expected)
CONDITION_BOUNDARIES = [
    # Heilongjiang 成长① — net tax paid in Y-1 above 0
    ("23", {"tax_paid_prev_year": D("0")}, NONE_MET),
    ("23", {"tax_paid_prev_year": D("0.01")}, (GROWTH, ["成长①"])),
    # 成长② / 发展② — insured, operator excluded: 1–3, then 4 or more
    ("23", {"insured_excl_operator": 0}, NONE_MET),
    ("23", {"insured_excl_operator": 1}, (GROWTH, ["成长②"])),
    ("23", {"insured_excl_operator": 3}, (GROWTH, ["成长②"])),
    ("23", {"insured_excl_operator": 4}, (DEVELOPMENT, ["发展②"])),
    # 成长③ / 发展⑤ — employees from the annual report: 2–3, then 4 or more
    ("23", {"employees_prev_year": 1}, NONE_MET),
    ("23", {"employees_prev_year": 2}, (GROWTH, ["成长③"])),
    ("23", {"employees_prev_year": 3}, (GROWTH, ["成长③"])),
    ("23", {"employees_prev_year": 4}, (DEVELOPMENT, ["发展⑤"])),
    ("23", {"employees_prev_year": None}, NONE_MET),
    # 发展① — general taxpayer
    ("23", {"general_taxpayer": False}, NONE_MET),
    ("23", {"general_taxpayer": True}, (DEVELOPMENT, ["发展①"])),
    # 发展③ / 发展④ — one valid trademark / patent
    ("23", {"valid_trademarks": 0}, NONE_MET),
    ("23", {"valid_trademarks": 1}, (DEVELOPMENT, ["发展③"])),
    ("23", {"valid_patents": 0}, NONE_MET),
    ("23", {"valid_patents": 1}, (DEVELOPMENT, ["发展④"])),
    # Henan 成长A / 发展A — tax: (0, 10,000], then above 10,000
    ("41", {"tax_paid_prev_year": D("0")}, NONE_MET),
    ("41", {"tax_paid_prev_year": D("0.01")}, (GROWTH, ["成长A"])),
    ("41", {"tax_paid_prev_year": D("10000.00")}, (GROWTH, ["成长A"])),
    ("41", {"tax_paid_prev_year": D("10000.01")}, (DEVELOPMENT, ["发展A"])),
    # 成长B / 发展B — insured, operator included: 3–5, then 6 or more
    ("41", {"insured_incl_operator": 2}, NONE_MET),
    ("41", {"insured_incl_operator": 3}, (GROWTH, ["成长B"])),
    ("41", {"insured_incl_operator": 5}, (GROWTH, ["成长B"])),
    ("41", {"insured_incl_operator": 6}, (DEVELOPMENT, ["发展B"])),
    # 成长C / 发展C — sales: [300,000, 600,000), then 600,000 or more
    ("41", {"sales_prev_year": D("299999.99")}, NONE_MET),
    ("41", {"sales_prev_year": D("300000.00")}, (GROWTH, ["成长C"])),
    ("41", {"sales_prev_year": D("599999.99")}, (GROWTH, ["成长C"])),
    ("41", {"sales_prev_year": D("600000.00")}, (DEVELOPMENT, ["发展C"])),
    ("41", {"sales_prev_year": None}, NONE_MET),
    # 成长D / 发展D — years since established: [6, 10), then 10 or more
    ("41", {"years_established": 5}, NONE_MET),
    ("41", {"years_established": 6}, (GROWTH, ["成长D"])),
    ("41", {"years_established": 9}, (GROWTH, ["成长D"])),
    ("41", {"years_established": 10}, (DEVELOPMENT, ["发展D"])),
]


@pytest.mark.parametrize(("province", "values", "expected"), CONDITION_BOUNDARIES)
def test_each_condition_at_its_boundaries(province, values, expected):
    assert type_and_reasons(province, **values) == expected


@pytest.mark.parametrize("province", ["23", "41"])
def test_every_condition_of_both_rulesets_is_tested_at_a_boundary(province):
    met = {code for p, _, (_, reasons) in CONDITION_BOUNDARIES if p == province for code in reasons}
    assert met - {NO_CONDITION} == {c.code for c in RULESETS[province].conditions}


# the 2-year requirement of both higher types: exactly 2 years is enough, 1 is not (dates: test_features.py)
@pytest.mark.parametrize(
    ("province", "values", "expected"),
    [
        ("23", {"years_established": 1, "general_taxpayer": True}, (SURVIVAL, [MIN_AGE])),
        ("23", {"years_established": 2, "general_taxpayer": True}, (DEVELOPMENT, ["发展①"])),
        ("41", {"years_established": 1, "tax_paid_prev_year": D("500")}, (SURVIVAL, [MIN_AGE])),
        ("41", {"years_established": 2, "tax_paid_prev_year": D("500")}, (GROWTH, ["成长A"])),
        ("41", {"years_established": 0}, (SURVIVAL, [MIN_AGE])),
        ("41", {"years_established": 2}, NONE_MET),
    ],
)
def test_the_two_year_requirement(province, values, expected):
    assert type_and_reasons(province, **values) == expected


def test_a_young_business_keeps_the_conditions_it_meets_for_an_objection_handler():
    row = typed("41", [feature_row(years_established=1, tax_paid_prev_year=D("20000"))]).row(0, named=True)
    assert (row["business_type"], row["reasons"], row["conditions_met"]) == (SURVIVAL, [MIN_AGE], ["发展A"])


def test_reasons_list_every_condition_met_highest_type_first_in_the_documents_order():
    row = typed(
        "23",
        [feature_row(tax_paid_prev_year=D("5"), employees_prev_year=2, valid_patents=2, general_taxpayer=True)],
    ).row(0, named=True)
    assert row["business_type"] == DEVELOPMENT
    assert row["reasons"] == ["发展①", "发展④", "成长①", "成长③"]


# every basic criterion: met and failed; failing any one makes the business 不符合分型条件, whatever it has
BASIC_CRITERION_CASES = [
    ("STATUS", {"status_active": False}, {"status_active": True}),
    ("ANNUAL_REPORT", {"annual_report_filed": False}, {"annual_report_filed": True}),
    ("ABNORMAL", {"on_abnormal_list": True}, {"on_abnormal_list": False}),
    ("SERIOUS", {"on_serious_list": True}, {"on_serious_list": False}),
    ("TAX_ABNORMAL", {"tax_abnormal": True}, {"tax_abnormal": False}),
    ("SUSPENDED", {"suspended": True, "seasonal": False}, {"suspended": False, "seasonal": False}),
    # a report that cannot be matched is not "not filed" (extracts.md v2): UNMATCHABLE alone, not ANNUAL_REPORT
    (
        "UNMATCHABLE",
        {"unmatchable": True, "annual_report_filed": False},
        {"unmatchable": False, "annual_report_filed": True},
    ),
]


@pytest.mark.parametrize(("code", "failing", "passing"), BASIC_CRITERION_CASES)
@pytest.mark.parametrize("province", ["23", "41"])
def test_each_basic_criterion(province, code, failing, passing):
    rich = {"general_taxpayer": True, "tax_paid_prev_year": D("50000")}
    assert type_and_reasons(province, **rich, **failing) == (INELIGIBLE, [code])
    assert type_and_reasons(province, **rich, **passing)[0] == DEVELOPMENT


def test_basic_criteria_cover_the_six_national_codes_and_unmatchable():
    assert [c.code for c in BASIC_CRITERIA] == sorted(
        ["STATUS", "ANNUAL_REPORT", "ABNORMAL", "SERIOUS", "TAX_ABNORMAL", "SUSPENDED", "UNMATCHABLE"]
    )


@pytest.mark.parametrize("province", ["23", "41"])
def test_every_reason_code_has_a_chinese_label(province):
    assert set(CRITERIA_LABELS) == {c.code for c in BASIC_CRITERIA}
    assert all(CRITERIA_LABELS.values())
    assert all(c.label for c in RULESETS[province].conditions)
    assert RULESETS[province].requirement.label.endswith("成立2年（含）以上")


def test_a_seasonal_business_in_suspension_stays_eligible():
    assert type_and_reasons("41", suspended=True, seasonal=True) == NONE_MET


def test_every_failed_criterion_is_listed():
    row = typed("41", [feature_row(status_active=False, on_abnormal_list=True, annual_report_filed=False)]).row(
        0, named=True
    )
    assert row["reasons"] == row["criteria_failed"] == ["ABNORMAL", "ANNUAL_REPORT", "STATUS"]


# --- properties ------------------------------------------------------------------------------------------

MONEY = st.decimals(min_value=0, max_value=2_000_000, places=2, allow_nan=False, allow_infinity=False)
COUNT = st.integers(min_value=0, max_value=30)


@st.composite
def feature_rows(draw, key: str = "B1") -> dict:
    return feature_row(
        business_key=key,
        years_established=draw(st.integers(min_value=0, max_value=40)),
        status_active=draw(st.booleans()),
        annual_report_filed=draw(st.booleans()),
        on_abnormal_list=draw(st.booleans()),
        on_serious_list=draw(st.booleans()),
        tax_abnormal=draw(st.booleans()),
        suspended=draw(st.booleans()),
        seasonal=draw(st.booleans()),
        tax_paid_prev_year=draw(st.decimals(min_value=-50_000, max_value=200_000, places=2, allow_nan=False)),
        general_taxpayer=draw(st.booleans()),
        insured_incl_operator=(incl := draw(COUNT)),
        insured_excl_operator=draw(st.integers(min_value=max(incl - 1, 0), max_value=incl)),
        employees_prev_year=draw(st.none() | COUNT),
        sales_prev_year=draw(st.none() | MONEY),
        valid_trademarks=draw(st.integers(min_value=0, max_value=3)),
        valid_patents=draw(st.integers(min_value=0, max_value=3)),
    )


RAISABLE = {
    "tax_paid_prev_year": MONEY,
    "sales_prev_year": MONEY,
    "insured_incl_operator": COUNT,
    "insured_excl_operator": COUNT,
    "employees_prev_year": COUNT,
    "years_established": COUNT,
    "valid_trademarks": COUNT,
    "valid_patents": COUNT,
}
RANK = TYPE_RANK | {INELIGIBLE: -1}


@settings(max_examples=150, deadline=None)
@given(
    row=feature_rows(),
    feature=st.sampled_from(sorted(RAISABLE)),
    data=st.data(),
    province=st.sampled_from(["23", "41"]),
)
def test_raising_tax_sales_headcount_age_or_holdings_never_lowers_a_type(row, feature, data, province):
    increase = data.draw(RAISABLE[feature].filter(lambda v: v > 0), label="increase")
    raised = dict(row, business_key="B2")
    raised[feature] = (row[feature] if row[feature] is not None else 0) + increase
    before, after = typed(province, [row, raised])["business_type"].to_list()
    assert RANK[after] >= RANK[before]


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(feature_rows(), min_size=1, max_size=12),
    order=st.randoms(use_true_random=False),
    province=st.sampled_from(["23", "41"]),
)
def test_every_business_gets_exactly_one_type_whatever_the_row_order(rows, order, province):
    rows = [dict(r, business_key=f"B{i:02d}") for i, r in enumerate(rows)]
    result = typed(province, rows)
    shuffled = rows.copy()
    order.shuffle(shuffled)
    assert typed(province, shuffled).equals(result)
    assert result.height == len(rows)
    assert result["business_type"].is_in([SURVIVAL, GROWTH, DEVELOPMENT, INELIGIBLE]).all()
    eligible = [
        r["status_active"]
        and r["annual_report_filed"]
        and not (r["on_abnormal_list"] or r["on_serious_list"] or r["tax_abnormal"])
        and not (r["suspended"] and not r["seasonal"])
        for r in rows
    ]
    assert ((result["business_type"] != INELIGIBLE).to_list()) == eligible
    assert (result["reasons"].list.len() >= 1).all()
