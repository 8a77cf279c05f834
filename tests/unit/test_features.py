"""Features as of D from accepted rows: dates, amounts and heads at their boundaries, then typed end to end."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest

from reference import ruleset_for
from schemas.features import FEATURES
from schemas.vocabulary import DEVELOPMENT, GROWTH, INELIGIBLE, SURVIVAL
from tests.support.frames import AS_OF, business, features_of, sources, uscc
from transforms.business_types import business_types

DAY = dt.timedelta(days=1)
B1 = uscc(1)


def feature(name: str, as_of: dt.date = AS_OF, **rows) -> object:
    """One feature of business 1 (registered as ``business(1)`` unless rows say otherwise)."""
    rows.setdefault("registration", [business(1)])
    table = features_of(sources(**rows), as_of)
    return table.filter(table["business_key"] == B1)[name].item()


def typed(province: str, as_of: dt.date = AS_OF, **rows) -> tuple[str, list[str]]:
    rows.setdefault("registration", [business(1)])
    table = business_types(features_of(sources(**rows), as_of).lazy(), ruleset_for(province)).collect()
    row = table.filter(table["business_key"] == B1).row(0, named=True)
    return row["business_type"], row["reasons"]


def report(year: int = 2024, filed_on: dt.date = dt.date(2025, 5, 1), **values) -> dict:
    return {"uscc": B1, "report_year": year, "filed_on": filed_on} | values


FILED = {"annual_report": [report()]}


def test_features_are_exactly_the_registry_one_row_per_business():
    table = features_of(
        sources(
            registration=[
                business(1),
                business(2),
                business(3, uscc=None, reg_no="410105000000001", business_key="410105000000001"),
            ]
        )
    )
    assert table.columns == ["business_key", *FEATURES]
    assert [table.schema[n] for n in FEATURES] == [f.dtype for f in FEATURES.values()]
    assert table.height == 3


def test_the_registry_is_the_feature_table_of_architecture_md():
    text = (Path(__file__).resolve().parents[2] / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Features", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `(\w+)` \| (\w+)", section, flags=re.MULTILINE)
    assert [name for name, _ in documented] == list(FEATURES)
    assert [kind for _, kind in documented] == [str(f.dtype).split("(")[0] for f in FEATURES.values()]


# --- years established: exactly 2 years, one day less, 29 February ---------------------------------------


@pytest.mark.parametrize(
    ("established_on", "as_of", "years"),
    [
        (dt.date(2023, 7, 31), dt.date(2025, 7, 31), 2),  # second anniversary on D
        (dt.date(2023, 8, 1), dt.date(2025, 7, 31), 1),  # one day short
        # 29 Feb (rules.md v2, Terms, 《民法典》第二百零一、二百零二条): the anniversary of 29 Feb in a common
        # year is 28 Feb
        (dt.date(2022, 2, 28), dt.date(2024, 2, 29), 2),  # second anniversary 2024-02-28, the day before D
        (dt.date(2022, 3, 1), dt.date(2024, 2, 29), 1),
        (dt.date(2020, 2, 29), dt.date(2022, 2, 28), 2),  # second anniversary: 2022-02-28
        (dt.date(2020, 2, 29), dt.date(2022, 2, 27), 1),
        (dt.date(2016, 2, 29), dt.date(2026, 2, 28), 10),  # the finding 7 (was 9)
        (dt.date(2016, 2, 29), dt.date(2026, 2, 27), 9),
        (dt.date(2016, 2, 29), dt.date(2024, 2, 28), 7),  # a leap year: the anniversary is 29 Feb itself
        (dt.date(2020, 2, 29), dt.date(2022, 3, 1), 2),
        (dt.date(2020, 2, 29), dt.date(2024, 2, 28), 3),
        (dt.date(2020, 2, 29), dt.date(2024, 2, 29), 4),
        (dt.date(2015, 7, 31), dt.date(2025, 7, 31), 10),
        (dt.date(2015, 8, 1), dt.date(2025, 7, 31), 9),
    ],
)
def test_years_established(established_on, as_of, years):
    registration = [business(1, established_on=established_on)]
    assert feature("years_established", as_of, registration=registration) == years


@pytest.mark.parametrize(
    ("established_on", "expected"), [(dt.date(2023, 7, 31), GROWTH), (dt.date(2023, 8, 1), SURVIVAL)]
)
def test_two_years_on_the_day_makes_a_taxpayer_growth_type_in_heilongjiang(established_on, expected):
    tax = [{"taxpayer_uscc": B1, "tax_kind": "增值税", "paid_on": dt.date(2024, 6, 1), "amount_yuan": Decimal("1")}]
    registration = [business(1, established_on=established_on)]
    assert typed("23", registration=registration, tax_payment=tax, **FILED)[0] == expected


def test_ten_years_on_the_day_makes_a_henan_business_development_type():
    for established_on, expected in [
        (dt.date(2015, 7, 31), (DEVELOPMENT, ["发展D"])),
        (dt.date(2015, 8, 1), (GROWTH, ["成长D"])),
    ]:
        assert typed("41", registration=[business(1, established_on=established_on)], **FILED) == expected


# --- tax -------------------------------------------------------------------------------------------------


def payment(amount: str, paid_on: dt.date = dt.date(2024, 6, 1), **identity) -> dict:
    identity = identity or {"taxpayer_uscc": B1}
    return identity | {"tax_kind": "增值税", "paid_on": paid_on, "amount_yuan": Decimal(amount)}


@pytest.mark.parametrize(
    ("payments", "expected"),
    [
        ([payment("10000.00")], (GROWTH, ["成长A"])),
        ([payment("10000.01")], (DEVELOPMENT, ["发展A"])),
        ([payment("6000.00"), payment("4000.01", dt.date(2024, 12, 31))], (DEVELOPMENT, ["发展A"])),
        ([payment("10000.00"), payment("-10000.00", dt.date(2024, 9, 1))], (SURVIVAL, ["NO_CONDITION"])),
        (
            [payment("20000.00", dt.date(2023, 12, 31)), payment("20000.00", dt.date(2025, 1, 1))],
            (SURVIVAL, ["NO_CONDITION"]),
        ),
    ],
    ids=["10000", "10000.01", "two-payments-sum-above", "refund-nets-to-0", "outside-the-previous-year"],
)
def test_henan_tax_tiers_from_payments(payments, expected):
    registration = [business(1, established_on=dt.date(2020, 1, 1))]
    assert typed("41", registration=registration, tax_payment=payments, **FILED) == expected


def test_a_refund_that_nets_to_zero_is_no_tax_paid_in_heilongjiang():
    payments = [payment("300.00"), payment("-300.00", dt.date(2024, 7, 1))]
    assert feature("tax_paid_prev_year", tax_payment=payments) == Decimal("0.00")
    assert typed("23", tax_payment=payments, **FILED) == (SURVIVAL, ["NO_CONDITION"])


def test_tax_paid_under_the_operators_suffixed_tax_id_counts_for_the_business():
    payments = [payment("700.00", taxpayer_key=business(1)["operator_key"], taxpayer_suffix="01")]
    assert feature("tax_paid_prev_year", tax_payment=payments) == Decimal("700.00")


@pytest.mark.parametrize(
    ("until", "general"), [(None, True), (AS_OF + DAY, True), (AS_OF, False), (AS_OF - DAY, False)]
)
def test_general_taxpayer_on_d(until, general):
    taxpayer = [{"taxpayer_uscc": B1, "general_from": dt.date(2020, 1, 1), "general_until": until}]
    assert feature("general_taxpayer", taxpayer=taxpayer) is general


def test_general_taxpayer_registered_after_d_is_not_yet_one():
    taxpayer = [{"taxpayer_uscc": B1, "general_from": AS_OF + DAY}]
    assert feature("general_taxpayer", taxpayer=taxpayer) is False


# --- insured people --------------------------------------------------------------------------------------


def insured(
    person: str, month: dt.date = dt.date(2024, 3, 1), mode: str = "单位缴纳", insurance: str = "失业保险"
) -> dict:
    return {
        "employer_uscc": B1,
        "person_key": person,
        "insurance": insurance,
        "contribution_month": month,
        "payment_mode": mode,
    }


OPERATOR = business(1)["operator_key"]


@pytest.mark.parametrize(
    ("people", "incl", "excl", "expected"),
    [
        (["p1", "p2"], 2, 2, (SURVIVAL, ["NO_CONDITION"])),
        (["p1", OPERATOR], 2, 1, (SURVIVAL, ["NO_CONDITION"])),
        (["p1", "p2", OPERATOR], 3, 2, (GROWTH, ["成长B"])),
        (["p1", "p2", "p3", "p4", OPERATOR], 5, 4, (GROWTH, ["成长B"])),
        (["p1", "p2", "p3", "p4", "p5", OPERATOR], 6, 5, (DEVELOPMENT, ["发展B"])),
        (["p1", "p2", "p3", "p4", "p5", "p6"], 6, 6, (DEVELOPMENT, ["发展B"])),
    ],
)
def test_henan_insured_people_operator_included(people, incl, excl, expected):
    rows = [insured(p) for p in people]
    assert feature("insured_incl_operator", social_security=rows) == incl
    assert feature("insured_excl_operator", social_security=rows) == excl
    assert typed("41", social_security=rows, **FILED) == expected


@pytest.mark.parametrize(
    ("people", "expected"),
    [
        ([OPERATOR], (SURVIVAL, ["NO_CONDITION"])),
        (["p1", OPERATOR], (GROWTH, ["成长②"])),
        (["p1", "p2", "p3", OPERATOR], (GROWTH, ["成长②"])),
        (["p1", "p2", "p3", "p4", OPERATOR], (DEVELOPMENT, ["发展②"])),
    ],
)
def test_heilongjiang_insured_employees_operator_excluded(people, expected):
    assert typed("23", social_security=[insured(p) for p in people], **FILED) == expected


def test_only_distinct_people_paid_in_the_employers_name_in_the_previous_year_count():
    rows = [
        insured("p1"),
        insured("p1", dt.date(2024, 12, 1), insurance="工伤保险"),  # same person again
        insured("p2", mode="个人缴纳"),  # paid by the person
        insured("p3", dt.date(2023, 12, 1)),  # before Y-1
        insured("p4", dt.date(2025, 1, 1)),  # after Y-1
        insured("p5", dt.date(2024, 1, 1)),
    ]
    assert feature("insured_incl_operator", social_security=rows) == 2


# --- annual report ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("staff", "employees"), [(0, 0), (1, 0), (3, 2), (5, 4), (None, None)])
def test_employees_are_staff_minus_the_operator(staff, employees):
    assert feature("employees_prev_year", annual_report=[report(staff_count=staff)]) == employees


@pytest.mark.parametrize(
    ("reports", "established_on", "filed"),
    [
        ([report(filed_on=AS_OF)], dt.date(2020, 3, 1), True),
        ([report(filed_on=AS_OF + DAY)], dt.date(2020, 3, 1), False),  # filed after D
        ([report(year=2023)], dt.date(2020, 3, 1), False),  # the wrong year
        ([], dt.date(2025, 1, 1), True),  # established in Y: passes automatically
        ([], dt.date(2024, 12, 31), False),  # established in Y-1: owes the report
    ],
    ids=["filed-on-D", "filed-after-D", "wrong-year", "established-in-Y", "established-in-Y-1"],
)
def test_annual_report_filed(reports, established_on, filed):
    registration = [business(1, established_on=established_on)]
    assert feature("annual_report_filed", registration=registration, annual_report=reports) is filed
    assert (typed("41", registration=registration, annual_report=reports)[0] != INELIGIBLE) is filed


def test_a_report_filed_after_d_gives_no_employees_or_sales_either():
    reports = [report(filed_on=AS_OF + DAY, staff_count=9, sales_yuan=Decimal("900000"))]
    assert feature("employees_prev_year", annual_report=reports) is None
    assert feature("sales_prev_year", annual_report=reports) is None


# --- listings in force on D ------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["abnormal_list", "serious_list"])
@pytest.mark.parametrize(
    ("listed_on", "removed_on", "in_force"),
    [
        (dt.date(2024, 1, 1), AS_OF - DAY, False),
        (dt.date(2024, 1, 1), AS_OF, False),
        (dt.date(2024, 1, 1), AS_OF + DAY, True),
        (dt.date(2024, 1, 1), None, True),
        (AS_OF, None, True),
        (AS_OF + DAY, None, False),
    ],
    ids=["removed-day-before", "removed-on-D", "removed-day-after", "not-removed", "listed-on-D", "listed-day-after"],
)
def test_listing_in_force_on_d(source, listed_on, removed_on, in_force):
    rows = {source: [{"uscc": B1, "listed_on": listed_on, "removed_on": removed_on}], **FILED}
    name = {"abnormal_list": "on_abnormal_list", "serious_list": "on_serious_list"}[source]
    code = {"abnormal_list": "ABNORMAL", "serious_list": "SERIOUS"}[source]
    assert feature(name, **rows) is in_force
    assert (typed("41", **rows) == (INELIGIBLE, [code])) is in_force


def test_an_earlier_episode_ended_does_not_hide_a_later_one_in_force():
    rows = [
        {"uscc": B1, "listed_on": dt.date(2020, 1, 1), "removed_on": dt.date(2021, 1, 1)},
        {"uscc": B1, "listed_on": dt.date(2025, 1, 1), "removed_on": None},
    ]
    assert feature("on_abnormal_list", abnormal_list=rows) is True


@pytest.mark.parametrize(
    ("lifted_on", "in_force"), [(AS_OF - DAY, False), (AS_OF, False), (AS_OF + DAY, True), (None, True)]
)
def test_tax_abnormal_on_d_reaches_the_business_through_its_operators_tax_id(lifted_on, in_force):
    rows = [
        {"taxpayer_key": OPERATOR, "taxpayer_suffix": "02", "declared_on": dt.date(2024, 1, 1), "lifted_on": lifted_on}
    ]
    assert feature("tax_abnormal", tax_abnormal=rows) is in_force
    assert (typed("41", tax_abnormal=rows, **FILED) == (INELIGIBLE, ["TAX_ABNORMAL"])) is in_force


# --- suspension within its legal maximum of 3 years ------------------------------------------------------


def suspension(start: dt.date, until: dt.date | None = None, resumed: dt.date | None = None) -> dict:
    return {"uscc": B1, "suspended_from": start, "suspended_until": until, "resumed_on": resumed}


@pytest.mark.parametrize(
    ("row", "suspended"),
    [
        (suspension(dt.date(2025, 1, 1)), True),
        (suspension(dt.date(2022, 7, 31)), True),  # the last day of the 3-year maximum is D
        (suspension(dt.date(2022, 7, 30)), False),  # past its 3-year maximum
        (suspension(dt.date(2025, 1, 1), until=AS_OF), True),
        (suspension(dt.date(2025, 1, 1), until=AS_OF - DAY), False),  # its filed period is over
        (suspension(dt.date(2025, 1, 1), resumed=AS_OF), False),  # resumed on D
        (suspension(dt.date(2025, 1, 1), resumed=AS_OF + DAY), True),
        (suspension(AS_OF + DAY), False),  # starts after D
    ],
    ids=[
        "open",
        "3-years-on-D",
        "past-3-years",
        "until-D",
        "until-day-before",
        "resumed-on-D",
        "resumed-after",
        "future",
    ],
)
def test_suspension_in_force_within_its_maximum(row, suspended):
    assert feature("suspended", suspension=[row]) is suspended
    assert (typed("41", suspension=[row], **FILED) == (INELIGIBLE, ["SUSPENDED"])) is suspended


def test_a_seasonal_business_in_suspension_is_eligible():
    rows = {"registration": [business(1, seasonal=True)], "suspension": [suspension(dt.date(2025, 1, 1))], **FILED}
    assert feature("suspended", **rows) is True
    assert typed("41", **rows) == (SURVIVAL, ["NO_CONDITION"])


def test_the_3_year_maximum_ends_on_the_third_anniversary_of_the_start():
    """《民法典》第二百零一、二百零二条: a 3-year period from S ends on S's third anniversary (29 Feb → 28 Feb)."""
    row = suspension(dt.date(2024, 2, 29))
    assert feature("suspended", dt.date(2027, 2, 28), suspension=[row]) is True  # third anniversary: 2027-02-28
    assert feature("suspended", dt.date(2027, 3, 1), suspension=[row]) is False
    leap_d = dt.date(2028, 2, 29)
    # started 2025-02-28: its third anniversary is 2028-02-28, the day before D (counting back from D said "within")
    assert feature("suspended", leap_d, suspension=[suspension(dt.date(2025, 2, 28))]) is False
    assert feature("suspended", leap_d, suspension=[suspension(dt.date(2025, 3, 1))]) is True


# --- registration ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "active"), [("存续", True), ("吊销", False), ("注销", False), ("撤销", False)])
def test_status(status, active):
    assert feature("status_active", registration=[business(1, status=status)]) is active


# --- holdings valid on D ---------------------------------------------------------------------------------


def trademark(no: str = "T1", **values) -> dict:
    row = {
        "trademark_no": no,
        "holder_name": "经营者1",
        "holder_uscc": B1,
        "registered_on": dt.date(2020, 1, 1),
        "protected_until": dt.date(2030, 1, 1),
        "trademark_status": "注册",
    }
    return row | values


@pytest.mark.parametrize(
    ("row", "valid"),
    [
        (trademark(), True),
        (trademark(protected_until=AS_OF), True),
        (trademark(protected_until=AS_OF - DAY), False),
        (trademark(registered_on=AS_OF), True),
        (trademark(registered_on=AS_OF + DAY), False),
        (trademark(trademark_status="无效"), False),
        (trademark(trademark_status="注销"), False),
    ],
    ids=["valid", "ends-on-D", "ended-day-before", "registered-on-D", "registered-after", "无效", "注销"],
)
def test_trademark_valid_on_d(row, valid):
    assert feature("valid_trademarks", trademark=[row]) == int(valid)
    assert (typed("23", trademark=[row], **FILED) == (DEVELOPMENT, ["发展③"])) is valid


def test_each_trademark_counts_once():
    assert feature("valid_trademarks", trademark=[trademark("T1"), trademark("T2")]) == 2


def patent(no: str = "P1", **values) -> dict:
    row = {
        "application_no": no,
        "patent_kind": "实用新型",
        "holder_names": "郑州市金水区经营者1餐馆",
        "granted_on": dt.date(2022, 1, 1),
        "legal_status": "有效",
    }
    return row | values


@pytest.mark.parametrize(
    ("row", "valid"),
    [
        (patent(), True),
        (patent(granted_on=AS_OF), True),
        (patent(granted_on=AS_OF + DAY), False),
        (patent(granted_on=None), False),
        (patent(legal_status="失效"), False),
    ],
    ids=["valid", "granted-on-D", "granted-after", "not-granted", "失效"],
)
def test_patent_valid_on_d(row, valid):
    registration = [business(1, name="郑州市金水区经营者1餐馆")]
    assert feature("valid_patents", registration=registration, patent=[row]) == int(valid)
    assert (typed("23", registration=registration, patent=[row], **FILED) == (DEVELOPMENT, ["发展④"])) is valid
