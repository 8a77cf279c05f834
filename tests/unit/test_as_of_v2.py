"""Issue 12, the features and typing half: rules.md v2 on hand-made accepted rows at each boundary.

The report year ``R``, records after ``D`` (accepted, simply not in force or not yet filed), amended reports and
same-day conflicts, listing versions, taxes only, 注册号-only businesses, businesses established after ``D`` and
《民法典》 anniversaries. Each test names the finding of the issue it proves.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from reference import ruleset_for
from schemas.terms import cycle_kind, report_year
from schemas.vocabulary import DEVELOPMENT, GROWTH, INELIGIBLE, SURVIVAL
from tests.support.frames import AS_OF, business, features_of, sources, uscc
from transforms.business_types import business_types

B1 = uscc(1)
REG_NO = "410105000000017"
FEBRUARY = dt.date(2026, 2, 28)  # an extra cycle before the report for 2025 is due: R = 2024


def features(as_of: dt.date = AS_OF, report_conflicts: list[dict] | None = None, **rows) -> pl.DataFrame:
    rows.setdefault("registration", [business(1)])
    return features_of(sources(**rows), as_of, report_conflicts=report_conflicts)


def feature(
    name: str, as_of: dt.date = AS_OF, report_conflicts: list[dict] | None = None, key: str = B1, **rows
) -> object:
    table = features(as_of, report_conflicts, **rows)
    return table.filter(pl.col("business_key") == key)[name].item()


def typed(province: str, as_of: dt.date = AS_OF, report_conflicts: list[dict] | None = None, **rows) -> dict:
    """``business_key → (type, reasons)`` of every typed business."""
    table = business_types(features(as_of, report_conflicts, **rows).lazy(), ruleset_for(province)).collect()
    return {r["business_key"]: (r["business_type"], r["reasons"]) for r in table.iter_rows(named=True)}


def report(year: int = 2024, filed_on: dt.date = dt.date(2025, 5, 1), **values) -> dict:
    return {"uscc": B1, "report_year": year, "filed_on": filed_on, "staff_count": 1} | values


FILED = [report()]


# --- the report year R and the cycle kind (finding 3) ----------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "year", "kind"),
    [
        (dt.date(2025, 7, 31), 2024, "yearly"),
        (dt.date(2025, 6, 30), 2024, "extra"),  # the day reports for 2024 are due
        (dt.date(2025, 6, 29), 2023, "extra"),
        (dt.date(2026, 2, 28), 2024, "extra"),
        (dt.date(2025, 12, 31), 2024, "extra"),
    ],
)
def test_the_report_year_is_the_latest_year_whose_report_was_due_on_or_before_d(as_of, year, kind):
    assert report_year(as_of) == year
    assert cycle_kind(as_of) == kind


def test_a_february_cycle_checks_the_report_for_r_not_for_the_year_before_d():
    """Finding 3: on 2026-02-28 the report for 2025 is not due yet; the one for 2024 (filed 2025) is checked."""
    assert feature("annual_report_filed", FEBRUARY, annual_report=FILED) is True
    assert feature("annual_report_filed", FEBRUARY, annual_report=[report(2025, dt.date(2026, 1, 10))]) is False
    assert feature("employees_prev_year", FEBRUARY, annual_report=[report(staff_count=4)]) == 3


def test_a_february_cycle_counts_tax_and_insured_people_of_r():
    paid = [
        {"taxpayer_uscc": B1, "tax_kind": "增值税", "paid_on": dt.date(2024, 6, 1), "amount_yuan": Decimal("700")},
        {"taxpayer_uscc": B1, "tax_kind": "增值税", "paid_on": dt.date(2025, 6, 1), "amount_yuan": Decimal("50")},
    ]
    assert feature("tax_paid_prev_year", FEBRUARY, tax_payment=paid) == Decimal("700.00")
    insured = [
        {"employer_uscc": B1, "person_key": p, "contribution_month": month, "payment_mode": "单位缴纳"}
        for p, month in (("a", dt.date(2024, 12, 1)), ("b", dt.date(2025, 1, 1)))
    ]
    assert feature("insured_incl_operator", FEBRUARY, social_security=insured) == 1


def test_a_february_cycle_types_a_province_realistically_not_everyone_ineligible():
    """Finding 3: a business established after R owes no report; one that filed for R is eligible."""
    registration = [
        business(1, established_on=dt.date(2015, 1, 1)),  # filed for 2024: 发展D
        business(2, established_on=dt.date(2025, 3, 1)),  # established after R = 2024: no report due
        business(3, established_on=dt.date(2024, 3, 1)),  # owes the 2024 report and has none
    ]
    result = typed("41", FEBRUARY, registration=registration, annual_report=FILED)
    assert result == {
        uscc(1): (DEVELOPMENT, ["发展D"]),
        uscc(2): (SURVIVAL, ["MIN_AGE"]),
        uscc(3): (INELIGIBLE, ["ANNUAL_REPORT"]),
    }


# --- records after D (finding 1, the type side) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("removed_on", "expected"),
    [(dt.date(2025, 8, 5), INELIGIBLE), (AS_OF, GROWTH), (None, INELIGIBLE)],
    ids=["removed-after-D", "removed-on-D", "never-removed"],
)
def test_a_listing_removed_after_d_is_in_force_on_d(removed_on, expected):
    listing = [{"uscc": B1, "listed_on": dt.date(2024, 3, 1), "removed_on": removed_on}]
    tax = [{"taxpayer_uscc": B1, "tax_kind": "增值税", "paid_on": dt.date(2024, 6, 1), "amount_yuan": Decimal("9")}]
    result = typed("41", abnormal_list=listing, annual_report=FILED, tax_payment=tax)
    assert result[B1][0] == expected


def test_a_listing_that_starts_after_d_is_not_in_force_and_a_report_filed_after_d_is_not_filed():
    listing = [{"uscc": B1, "listed_on": dt.date(2025, 8, 1), "removed_on": None}]
    assert feature("on_serious_list", serious_list=listing) is False
    late = [report(filed_on=dt.date(2025, 8, 2))]
    assert typed("41", annual_report=late)[B1] == (INELIGIBLE, ["ANNUAL_REPORT"])


def test_a_general_taxpayer_whose_status_ended_after_d_is_development_type_in_heilongjiang():
    """Finding 1: 一般纳税人注销日期 10 August, after D = 31 July: still a general taxpayer on D."""
    taxpayer = [{"taxpayer_uscc": B1, "general_from": dt.date(2020, 1, 1), "general_until": dt.date(2025, 8, 10)}]
    assert typed("23", taxpayer=taxpayer, annual_report=FILED)[B1] == (DEVELOPMENT, ["发展①"])


# --- amended reports and same-day conflicts (finding 2, the type side) ----------------------------------


def test_the_latest_version_filed_on_or_before_d_is_the_report():
    versions = [
        report(filed_on=dt.date(2025, 3, 1), staff_count=1, sales_yuan=Decimal("100000")),
        report(filed_on=dt.date(2025, 6, 1), staff_count=3, sales_yuan=Decimal("350000")),  # 年报修改
        report(filed_on=dt.date(2025, 8, 3), staff_count=9, sales_yuan=Decimal("900000")),  # after D: not yet
    ]
    table = features(annual_report=versions).row(0, named=True)
    assert (table["annual_report_filed"], table["employees_prev_year"], table["sales_prev_year"]) == (
        True,
        2,
        Decimal("350000.00"),
    )
    assert typed("41", annual_report=versions)[B1] == (GROWTH, ["成长C"])


def test_an_amended_report_keeps_the_filing_and_two_versions_the_same_day_make_it_filed_with_unknown_figures():
    """Finding 2: both same-day versions are quarantined (validate lists the key in annual_report_conflicts);
    the report still counts as filed, and its figures are null."""
    earlier = report(filed_on=dt.date(2025, 3, 1), staff_count=6, sales_yuan=Decimal("700000"))
    conflict = {"uscc": B1, "reg_no": None, "report_year": 2024, "filed_on": dt.date(2025, 6, 1)}
    row = features(annual_report=[earlier], report_conflicts=[conflict]).row(0, named=True)
    assert row["annual_report_filed"] is True
    assert row["employees_prev_year"] is None and row["sales_prev_year"] is None
    assert typed("41", annual_report=[earlier], report_conflicts=[conflict])[B1] == (SURVIVAL, ["NO_CONDITION"])
    # a conflict only: still filed
    assert feature("annual_report_filed", report_conflicts=[conflict]) is True


def test_a_conflict_before_the_latest_version_or_after_d_changes_nothing():
    later = report(filed_on=dt.date(2025, 6, 1), staff_count=3)
    before = {"uscc": B1, "reg_no": None, "report_year": 2024, "filed_on": dt.date(2025, 3, 1)}
    after = before | {"filed_on": dt.date(2025, 8, 2)}
    assert feature("employees_prev_year", annual_report=[later], report_conflicts=[before, after]) == 2
    other_year = before | {"report_year": 2023, "filed_on": dt.date(2025, 7, 1)}
    assert feature("employees_prev_year", annual_report=[later], report_conflicts=[other_year]) == 2


# --- listing versions: in force if any version says so (deliveries.md item 4) ----------------------------


def test_a_listing_episode_delivered_twice_with_different_ends_is_in_force_when_any_version_is():
    versions = [
        {"uscc": B1, "listed_on": dt.date(2024, 3, 1), "removed_on": dt.date(2025, 1, 1)},
        {"uscc": B1, "listed_on": dt.date(2024, 3, 1), "removed_on": None},
    ]
    assert feature("on_abnormal_list", abnormal_list=versions) is True
    assert feature("on_serious_list", serious_list=versions) is True
    ended = [versions[0], versions[0] | {"removed_on": dt.date(2025, 5, 1)}]
    assert feature("on_abnormal_list", abnormal_list=ended) is False


# --- taxes only (finding 4, the type side) ---------------------------------------------------------------


def test_surcharges_and_funds_are_not_tax():
    """Finding 4: 9,630 yuan of tax plus 教育费附加 and 地方教育附加 stay at or under Henan's 10,000 line."""

    def paid(kind: str, amount: str) -> dict:
        return {"taxpayer_uscc": B1, "tax_kind": kind, "paid_on": dt.date(2024, 6, 1), "amount_yuan": Decimal(amount)}

    rows = [paid("增值税", "9000"), paid("城市维护建设税", "630")]
    rows += [paid("教育费附加", "270"), paid("地方教育附加", "180")]
    assert feature("tax_paid_prev_year", tax_payment=rows) == Decimal("9630.00")
    assert typed("41", tax_payment=rows, annual_report=FILED)[B1] == (GROWTH, ["成长A"])
    only_surcharges = [paid("教育费附加", "300"), paid("文化事业建设费", "50"), paid("残疾人就业保障金", "10")]
    assert typed("23", tax_payment=only_surcharges, annual_report=FILED)[B1] == (SURVIVAL, ["NO_CONDITION"])


# --- 注册号-only businesses (finding 6, the type side) ------------------------------------------------------


def legacy() -> dict:
    return business(1, uscc=None, reg_no=REG_NO, business_key=REG_NO)


def test_a_legacy_business_is_matched_by_its_reg_no_in_the_report_and_the_listings():
    filed = [{"uscc": None, "reg_no": REG_NO, "report_year": 2024, "filed_on": dt.date(2025, 5, 1), "staff_count": 3}]
    row = features(registration=[legacy()], annual_report=filed).row(0, named=True)
    assert (row["annual_report_filed"], row["unmatchable"], row["employees_prev_year"]) == (True, False, 2)
    listing = [{"uscc": None, "reg_no": REG_NO, "listed_on": dt.date(2024, 1, 1), "removed_on": None}]
    result = typed("41", registration=[legacy()], annual_report=filed, abnormal_list=listing)
    assert result[REG_NO] == (INELIGIBLE, ["ABNORMAL"])


def test_a_record_with_a_uscc_matches_by_the_uscc_and_one_with_only_a_reg_no_by_the_reg_no():
    both = business(1, reg_no=REG_NO)  # a business with both numbers: its key is the USCC
    by_reg_no = [{"uscc": None, "reg_no": REG_NO, "report_year": 2024, "filed_on": dt.date(2025, 5, 1)}]
    assert feature("annual_report_filed", registration=[both], annual_report=by_reg_no) is True
    other = [{"uscc": uscc(2), "reg_no": REG_NO, "report_year": 2024, "filed_on": dt.date(2025, 5, 1)}]
    assert feature("annual_report_filed", registration=[both], annual_report=other) is False


def test_a_legacy_business_is_unmatchable_when_the_reports_carry_no_reg_no():
    """Finding 6: not "not filed" (ANNUAL_REPORT) but UNMATCHABLE, counted apart."""
    someone_elses = [report(year=2024) | {"uscc": uscc(2)}]
    result = typed("41", registration=[legacy(), business(2)], annual_report=someone_elses)
    assert result[REG_NO] == (INELIGIBLE, ["UNMATCHABLE"])
    assert feature("unmatchable", registration=[legacy()], annual_report=someone_elses, key=REG_NO) is True
    # once any report carries a 注册号, an unmatched legacy business has simply not filed
    with_reg_no = [*someone_elses, {"uscc": None, "reg_no": "410105000000025", "report_year": 2024}]
    result = typed("41", registration=[legacy()], annual_report=with_reg_no)
    assert result[REG_NO] == (INELIGIBLE, ["ANNUAL_REPORT"])
    # established after R: no report due, nothing to match
    young = legacy() | {"established_on": dt.date(2025, 3, 1)}
    assert typed("41", registration=[young], annual_report=someone_elses)[REG_NO] == (SURVIVAL, ["MIN_AGE"])


# --- established after D (deliveries.md item 10) ---------------------------------------------------------


def test_a_business_established_after_d_is_not_typed():
    registration = [business(1), business(2, established_on=dt.date(2025, 8, 1)), business(3, established_on=AS_OF)]
    assert features(registration=registration)["business_key"].to_list() == [uscc(1), uscc(3)]


# --- anniversaries (finding 7) ---------------------------------------------------------------------------


def test_a_business_established_on_29_february_2016_is_10_years_old_on_28_february_2026():
    """Finding 7 (《民法典》第二百零二条): Henan's 发展D (10 years or more) on the anniversary."""
    founder = [business(1, established_on=dt.date(2016, 2, 29))]
    assert feature("years_established", FEBRUARY, registration=founder) == 10
    assert typed("41", FEBRUARY, registration=founder, annual_report=FILED)[B1] == (DEVELOPMENT, ["发展D"])
    assert typed("41", FEBRUARY - dt.timedelta(days=1), registration=founder, annual_report=FILED)[B1] == (
        GROWTH,
        ["成长D"],
    )


# --- the terminal summary (deliveries.md item 13, B's lines) ---------------------------------------------


def test_the_terminal_summary_counts_apart_the_unestablished_and_the_unmatchable():
    from flows.terminal import set_apart_lines

    lines = set_apart_lines({"businesses": 10, "not_yet_established": 1204, "unmatchable": 3})
    assert lines == [
        "判定日期后成立、本期不分型：1,204 户（不计入合计）",
        "无统一社会信用代码且年报无注册号、无法匹配：3 户（计入不符合分型条件）",
    ]
    assert set_apart_lines({"businesses": 10}) == []
