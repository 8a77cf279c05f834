"""The designed boundary cases: each is in the inbox and its intended facts are what rules.md makes of it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from synth.generate import generate, truth_dir
from synth.world import Plan
from tests.support.generated import breaches, read_rows

# case -> the facts rules.md gives it (only what the case is about; the rest is the unremarkable default)
EXPECTED: dict[str, dict] = {
    "age_exactly_2y": {"years_established": 2},
    "age_2y_minus_1d": {"years_established": 1},
    "age_exactly_6y": {"years_established": 6},
    "age_6y_minus_1d": {"years_established": 5},
    "age_exactly_10y": {"years_established": 10},
    "age_10y_minus_1d": {"years_established": 9},
    "established_this_year": {"annual_report_filed": True, "years_established": 0},
    "established_last_year_no_report": {"annual_report_filed": False},
    "report_filed_on_as_of": {"annual_report_filed": True},
    "report_filed_late": {"annual_report_filed": True},
    "report_not_filed": {"annual_report_filed": False, "sales_prev_year": None, "employees_prev_year": None},
    "tax_exactly_10000": {"tax_paid_prev_year": Decimal("10000.00")},
    "tax_10000_01": {"tax_paid_prev_year": Decimal("10000.01")},
    "tax_zero_with_refund": {"tax_paid_prev_year": Decimal("0.00")},
    "tax_one_cent": {"tax_paid_prev_year": Decimal("0.01")},
    "tax_net_negative": {"tax_paid_prev_year": Decimal("-200.00")},
    "tax_other_years_only": {"tax_paid_prev_year": Decimal("0.00")},
    "tax_paid_dec31": {"tax_paid_prev_year": Decimal("10000.01")},
    "tax_by_operator_id": {"tax_paid_prev_year": Decimal("10000.01")},
    "tax_by_operator_id_suffix": {"tax_paid_prev_year": Decimal("5000.00")},
    "tax_operator_two_in_force": {"tax_paid_prev_year": Decimal("0.00"), "tax_abnormal": False},
    "tax_operator_two_in_force_second": {"tax_paid_prev_year": Decimal("0.00")},
    "tax_operator_one_in_force": {"tax_paid_prev_year": Decimal("6000.00")},
    "tax_operator_one_in_force_closed": {"tax_paid_prev_year": Decimal("0.00"), "status_active": False},
    "general_since_as_of": {"general_taxpayer": True},
    "general_ended_on_as_of": {"general_taxpayer": False},
    "general_ended_day_before": {"general_taxpayer": False},
    "general_active": {"general_taxpayer": True},
    "insured_incl_3": {"insured_incl_operator": 3, "insured_excl_operator": 2},
    "insured_incl_5": {"insured_incl_operator": 5, "insured_excl_operator": 4},
    "insured_incl_6": {"insured_incl_operator": 6, "insured_excl_operator": 5},
    "insured_excl_1": {"insured_incl_operator": 1, "insured_excl_operator": 1},
    "insured_excl_3": {"insured_incl_operator": 3, "insured_excl_operator": 3},
    "insured_excl_4": {"insured_incl_operator": 4, "insured_excl_operator": 4},
    "insured_personal_only": {"insured_incl_operator": 0, "insured_excl_operator": 0},
    "insured_2_plus_personal": {"insured_incl_operator": 2},
    "insured_this_year_only": {"insured_incl_operator": 0},
    "insured_5_plus_one_in_this_year": {"insured_incl_operator": 5, "insured_excl_operator": 4},
    "staff_0": {"employees_prev_year": 0},
    "staff_2": {"employees_prev_year": 1},
    "staff_3": {"employees_prev_year": 2},
    "staff_4": {"employees_prev_year": 3},
    "staff_5": {"employees_prev_year": 4},
    "sales_299999": {"sales_prev_year": Decimal("299999.00")},
    "sales_300000": {"sales_prev_year": Decimal("300000.00")},
    "sales_599999": {"sales_prev_year": Decimal("599999.00")},
    "sales_600000": {"sales_prev_year": Decimal("600000.00")},
    "trademark_by_uscc": {"valid_trademarks": 1},
    "trademark_by_operator_id": {"valid_trademarks": 1},
    "trademark_by_name": {"valid_trademarks": 1},
    "trademark_name_shared": {"valid_trademarks": 0, "linkage_trap": "holder_name_shared"},
    "trademark_name_shared_twin": {"valid_trademarks": 0, "linkage_trap": "holder_name_shared"},
    "trademark_by_person_in_county": {"valid_trademarks": 1},
    "trademark_person_ambiguous": {"valid_trademarks": 0, "linkage_trap": "holder_person_ambiguous"},
    "trademark_person_ambiguous_twin": {"valid_trademarks": 0},
    "trademark_expired_day_before": {"valid_trademarks": 0},
    "trademark_ends_on_as_of": {"valid_trademarks": 1},
    "trademark_cancelled": {"valid_trademarks": 0},
    "trademark_operator_two_businesses": {"valid_trademarks": 1},
    "trademark_operator_two_businesses_second": {"valid_trademarks": 1},
    "patent_by_name": {"valid_patents": 1},
    "patent_lapsed": {"valid_patents": 0},
    "patent_granted_on_as_of": {"valid_patents": 1},
    "patent_by_person_in_county": {"valid_patents": 1},
    "patent_with_co_holder": {"valid_patents": 1},
    "abnormal_in_force": {"on_abnormal_list": True},
    "abnormal_removed_day_before": {"on_abnormal_list": False},
    "abnormal_removed_on_as_of": {"on_abnormal_list": False},
    "abnormal_listed_on_as_of": {"on_abnormal_list": True},
    "serious_in_force": {"on_serious_list": True},
    "serious_removed_on_as_of": {"on_serious_list": False},
    "tax_abnormal_in_force": {"tax_abnormal": True},
    "tax_abnormal_lifted_on_as_of": {"tax_abnormal": False},
    "suspended_in_force": {"suspended": True},
    "suspended_past_3_years": {"suspended": False},
    "suspended_seasonal": {"suspended": True, "seasonal": True},
    "suspension_resumed_on_as_of": {"suspended": False},
    "suspension_started_on_as_of": {"suspended": True},
    "status_alias_zaiying": {"status_active": True, "tax_paid_prev_year": Decimal("12000.00")},
    "status_revoked": {"status_active": False, "tax_paid_prev_year": Decimal("24000.00")},
    "status_cancelled": {"status_active": False},
    # v2: its annual report carries its 注册号 (extracts.md), so it is filed
    "legacy_reg_no_only": {"annual_report_filed": True, "tax_paid_prev_year": Decimal("3000.00")},
    "no_name": {},
    "uscc_issued_in_other_province": {},
}
DEFAULT = {
    "years_established": 4, "status_active": True, "annual_report_filed": True, "on_abnormal_list": False,
    "on_serious_list": False, "tax_abnormal": False, "suspended": False, "seasonal": False,
    "general_taxpayer": False, "insured_incl_operator": 0, "insured_excl_operator": 0, "employees_prev_year": 0,
    "sales_prev_year": Decimal("100000.00"), "valid_trademarks": 0, "valid_patents": 0,
}  # fmt: skip


@pytest.fixture(scope="module", params=[("41", dt.date(2025, 7, 31)), ("23", dt.date(2024, 2, 29))])
def province(request, tmp_path_factory) -> tuple[Path, dt.date]:
    code, as_of = request.param
    inbox = tmp_path_factory.mktemp("cases") / code / str(as_of.year)
    generate(Plan(code, as_of.year, 400, seed=11, as_of=as_of), inbox)
    return inbox, as_of


def _case_facts(inbox: Path) -> dict[str, dict]:
    facts = pl.read_parquet(truth_dir(inbox) / "facts.parquet").filter(pl.col("designed_case").is_not_null())
    return {row["designed_case"]: row for row in facts.iter_rows(named=True)}


def test_every_designed_case_is_present_once(province):
    facts = pl.read_parquet(truth_dir(province[0]) / "facts.parquet")
    cases = facts["designed_case"].drop_nulls()
    assert cases.n_unique() == cases.len() and set(EXPECTED) <= set(cases)  # v2 cases: tests/unit


def test_designed_cases_have_their_intended_facts(province):
    inbox, as_of = province
    facts = _case_facts(inbox)
    for case, expected in EXPECTED.items():
        if as_of.month < 7 and case.startswith(("insured_this_year", "insured_5_plus", "report_filed_late")):
            continue  # months of Y and late filings need an as-of after June
        row = facts[case]
        for feature, value in expected.items():
            assert row[feature] == value, (case, feature, row[feature], value)
        for feature, value in DEFAULT.items():
            if feature not in expected and not case.startswith(("established", "legacy", "age_", "insured", "tax_")):
                assert row[feature] == value, (case, feature)


def test_boundary_dates_are_delivered_as_designed(province):
    inbox, as_of = province
    facts = pl.read_parquet(truth_dir(inbox) / "facts.parquet")
    key = dict(zip(facts["designed_case"], facts["business_key"], strict=True))
    registration = {r["统一社会信用代码"] or r["注册号"]: r for r in read_rows(inbox / "registration.csv")}
    established = dt.date.fromisoformat(registration[key["age_exactly_2y"]]["成立日期"])
    assert established == as_of.replace(year=as_of.year - 2, day=min(as_of.day, 28) if as_of.month == 2 else as_of.day)
    assert registration[key["legacy_reg_no_only"]]["统一社会信用代码"] == ""
    assert registration[key["no_name"]]["名称"] == ""
    assert registration[key["status_alias_zaiying"]]["登记状态"] == "在营"
    assert registration[key["suspended_seasonal"]]["季节性经营"] == "是"
    moved = key["uscc_issued_in_other_province"]
    assert moved[2:8] != registration[moved]["行政区划代码"]
    names = [registration[key[c]]["名称"] for c in ("trademark_name_shared", "trademark_name_shared_twin")]
    assert names[0] == names[1] != ""
    report_year = Plan("41", as_of.year, 400, as_of=as_of).report_year  # R (rules.md v2, Terms)
    sales = {
        r["统一社会信用代码"]: r for r in read_rows(inbox / "annual_report.csv") if r["报告年度"] == str(report_year)
    }
    assert sales[key["sales_300000"]]["营业额或营业收入（万元）"] == "30.0000"
    assert sales[key["sales_299999"]]["营业额或营业收入（万元）"] == "29.9999"


def test_the_designed_inbox_breaks_no_rule_whatever_the_as_of_date(province):
    inbox, as_of = province
    conflicts = pl.read_csv(truth_dir(inbox) / "conflicts.csv")  # same-day report versions, sent on purpose
    expected = {(r["file"], r["line"], r["column"], r["rule"]) for r in conflicts.iter_rows(named=True)}
    assert breaches(inbox, inbox.parent.name, as_of) == (expected, set())


def test_linkage_traps_are_in_the_truth_and_unattributable(province):
    inbox, _ = province
    links = pl.read_parquet(truth_dir(inbox) / "links.parquet")
    facts = pl.read_parquet(truth_dir(inbox) / "facts.parquet")
    trapped = set(facts.filter(pl.col("linkage_trap").is_not_null())["business_key"])
    unattributable = links.filter(~pl.col("attributable") & pl.col("business_key").is_not_null())
    assert set(unattributable["business_key"]) <= trapped
    assert set(unattributable["source"]) >= {"trademark", "taxpayer", "tax_payment", "tax_abnormal"}
    suffixed = links.filter(pl.col("record").str.len_chars() == 20)
    assert suffixed.height > 0 and set(suffixed["owner"]) == {"operator"}
    two = links.filter(pl.col("source") == "trademark").group_by("record").agg(pl.len()).filter(pl.col("len") == 2)
    assert two.height >= 1  # a mark held by an operator with two businesses counts for both
