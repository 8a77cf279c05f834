"""The generator sends what departments really send (issue 12), and its truth follows rules.md v2.

Every designed v2 case is in the delivered files and its truth is what the text of rules.md makes of it; the
truth's tax, annual report and listings are recomputed here from the delivered files alone (not from the
generator's code), for D = 31 July and for D in February of the next year (R = Y-2).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from synth.generate import generate, truth_dir
from synth.world import Plan
from tests.e2e.test_generate_cases import EXPECTED as V1_EXPECTED
from tests.support.generated import _date, breaches, data_files, read_rows, source_of

SURCHARGES = ("教育费附加", "地方教育附加", "文化事业建设费", "残疾人就业保障金", "水利建设基金")

# case -> its facts under rules.md v2, whatever the as-of date (R is the report year)
V2_EXPECTED: dict[str, dict] = {
    # Terms: a listing ended after D was in force on D; one that starts after D is not yet
    "abnormal_removed_after_as_of": {"on_abnormal_list": True},
    "abnormal_listed_after_as_of": {"on_abnormal_list": False},
    "serious_removed_after_as_of": {"on_serious_list": True},
    "tax_abnormal_lifted_after_as_of": {"tax_abnormal": True},
    "tax_abnormal_declared_after_as_of": {"tax_abnormal": False},
    "suspension_resumed_after_as_of": {"suspended": True},
    "suspension_started_after_as_of": {"suspended": False},
    # Terms: a listing episode delivered twice with different ends is resolved against the business
    "abnormal_episode_conflict": {"on_abnormal_list": True},
    "serious_episode_conflict": {"on_serious_list": True},
    "general_ended_after_as_of": {"general_taxpayer": True},
    "general_since_after_as_of": {"general_taxpayer": False},
    # Terms, amended reports: the latest version filed on or before D; same-day conflict: filed, figures null
    "report_amended": {"annual_report_filed": True, "sales_prev_year": Decimal("350000.00"), "employees_prev_year": 2},
    "report_amended_after_as_of": {"sales_prev_year": Decimal("100000.00"), "employees_prev_year": 0},
    "report_same_day_conflict": {
        "annual_report_filed": True,
        "sales_prev_year": None,
        "employees_prev_year": None,
        "report_conflict": True,
    },
    "report_filed_after_as_of": {"annual_report_filed": False, "sales_prev_year": None},
    # interpretation 3: taxes only; 9,630 yuan of tax and 450 of surcharges stays under Henan's 10,000 line
    "tax_crosses_10000_only_with_surcharges": {"tax_paid_prev_year": Decimal("9630.00")},
    "tax_surcharges_only": {"tax_paid_prev_year": Decimal("0.00")},
    "tax_paid_after_as_of": {"tax_paid_prev_year": Decimal("0.00")},
    # extracts.md v2 status labels
    "status_national_label": {"status_active": True},
    "status_zaiye": {"status_active": True},
    "status_revoked_not_cancelled": {"status_active": False},
    "status_moved_out": {"status_active": False},
    # a legacy business is matched by the 注册号 in the USCC-keyed sources
    "legacy_reg_no_abnormal": {"on_abnormal_list": True, "annual_report_filed": True},
    # a business established after R owes no report; one established after D is not typed in this cycle
    "established_after_report_year": {"annual_report_filed": True, "established_after_as_of": False},
    "established_after_as_of": {"established_after_as_of": True, "years_established": None},
}
# 29 February founders: hand-computed from rules.md "Anniversaries" (28 February in a common year)
FEB29: dict[dt.date, dict[str, int]] = {
    # 2024-02-29: first anniversary 2025-02-28; 28 February 2023, 2019, 2015 founders stand in for the others
    dt.date(2025, 7, 31): {"feb29_founder": 1, "feb28_founder_2y": 2, "feb28_founder_6y": 6, "feb28_founder_10y": 10},
    dt.date(2026, 2, 28): {"feb29_founder": 2, "feb29_founder_2y": 2, "feb29_founder_6y": 6, "feb29_founder_10y": 10},
    # 2020-02-29: fourth anniversary 2024-02-29; 28 February 2022, 2018, 2014: anniversaries the day before D
    dt.date(2024, 2, 29): {"feb29_founder": 4, "feb28_founder_2y": 2, "feb28_founder_6y": 6, "feb28_founder_10y": 10},
}
AS_OF_DATES = [("41", dt.date(2025, 7, 31)), ("41", dt.date(2026, 2, 28)), ("23", dt.date(2024, 2, 29))]


@pytest.fixture(scope="module", params=AS_OF_DATES, ids=lambda p: f"{p[0]}-{p[1]}")
def province(request, tmp_path_factory) -> tuple[Path, Plan]:
    code, as_of = request.param
    plan = Plan(code, as_of.year, 600, seed=3, as_of=as_of)
    inbox = tmp_path_factory.mktemp("v2") / code / str(as_of.year)
    generate(plan, inbox)
    return inbox, plan


def _facts(inbox: Path) -> pl.DataFrame:
    return pl.read_parquet(truth_dir(inbox) / "facts.parquet")


def _rows(inbox: Path, source: str) -> list[dict[str, str]]:
    return [row for path in data_files(inbox) if source_of(path.name) == source for row in read_rows(path)]


def _key(row: dict[str, str]) -> str:
    return row.get("统一社会信用代码") or row["注册号"]


def _expected_cases(as_of: dt.date) -> dict[str, dict]:
    expected = V2_EXPECTED | {case: {"years_established": years} for case, years in FEB29[as_of].items()}
    if as_of < dt.date(as_of.year, 6, 30):
        expected["report_early_for_next_year"] = {"annual_report_filed": False}
    return expected


def test_report_year_and_extraction_date():
    assert Plan("41", 2025, 400).report_year == 2024  # D = 31 July: R = Y-1
    assert Plan("41", 2026, 400, as_of=dt.date(2026, 2, 28)).report_year == 2024  # before 30 June: R = Y-2
    assert Plan("41", 2026, 400, as_of=dt.date(2026, 6, 30)).report_year == 2025  # on 30 June: Y-1
    assert Plan("41", 2026, 400, as_of=dt.date(2026, 6, 29)).report_year == 2024
    plan = Plan("41", 2025, 400)
    assert dt.date(2025, 8, 1) <= plan.extracted_on <= dt.date(2025, 8, 10)


def test_inbox_toml_says_when_the_extracts_were_taken(province):
    inbox, plan = province
    config = tomllib.loads((inbox / "inbox.toml").read_text(encoding="utf-8"))
    assert config == {"extracted_on": plan.extracted_on}
    assert plan.extracted_on > plan.as_of_date


def test_every_designed_case_is_present_once_with_its_v2_truth(province):
    inbox, plan = province
    facts = _facts(inbox)
    expected = _expected_cases(plan.as_of_date)
    cases = facts["designed_case"].drop_nulls()
    assert cases.n_unique() == cases.len()
    assert set(cases) == set(V1_EXPECTED) | set(expected)
    by_case = {row["designed_case"]: row for row in facts.iter_rows(named=True) if row["designed_case"]}
    for case, values in expected.items():
        for feature, value in values.items():
            assert by_case[case][feature] == value, (case, feature, by_case[case][feature], value)
    assert set(facts["report_year"]) == {plan.report_year}


def test_designed_cases_are_delivered_as_departments_send_them(province):
    inbox, plan = province
    as_of, extracted = plan.as_of_date, plan.extracted_on
    facts = _facts(inbox)
    key = dict(zip(facts["designed_case"], facts["business_key"], strict=True))
    registration = {_key(r): r for r in _rows(inbox, "registration")}
    status = {case: registration[key[case]]["登记状态"] for case in key if case and case.startswith("status_")}
    assert status["status_national_label"] == "存续（在营、开业、在册）"
    assert (status["status_zaiye"], status["status_moved_out"]) == ("在业", "迁出")
    assert status["status_revoked_not_cancelled"] == "吊销未注销"
    assert _date(registration[key["established_after_as_of"]]["成立日期"]) == as_of + dt.timedelta(days=1)
    for case, years in FEB29[as_of].items():
        established = _date(registration[key[case]]["成立日期"])
        assert (established.month, established.day) == (2, int(case[3:5])) and established.year <= as_of.year - years

    abnormal = {}
    for row in _rows(inbox, "abnormal_list"):
        abnormal.setdefault(_key(row), []).append(row)
    removed = _date(abnormal[key["abnormal_removed_after_as_of"]][0]["移出日期"])
    assert as_of < removed <= extracted
    legacy = abnormal[key["legacy_reg_no_abnormal"]][0]
    assert legacy["统一社会信用代码"] == "" and legacy["注册号"] == key["legacy_reg_no_abnormal"]

    reports: dict[str, list[dict]] = {}
    for row in _rows(inbox, "annual_report"):
        if row["报告年度"] == str(plan.report_year):
            reports.setdefault(_key(row), []).append(row)
    assert len(reports[key["report_amended"]]) == 2
    assert len({_date(r["报送日期"]) for r in reports[key["report_amended"]]}) == 2
    conflict = reports[key["report_same_day_conflict"]]
    assert len(conflict) == 2 and conflict[0]["报送日期"] == conflict[1]["报送日期"] and conflict[0] != conflict[1]
    assert as_of < max(_date(r["报送日期"]) for r in reports[key["report_amended_after_as_of"]]) <= extracted
    assert reports[key["legacy_reg_no_only"]][0]["统一社会信用代码"] == ""

    kinds = {}
    for row in _rows(inbox, "tax_payment"):
        kinds.setdefault(row["纳税人识别号"], set()).add(row["税种"])
    assert kinds[key["tax_crosses_10000_only_with_surcharges"]] == {
        "增值税",
        "城市维护建设税",
        "教育费附加",
        "地方教育附加",
    }
    assert kinds[key["tax_surcharges_only"]] == {"教育费附加", "文化事业建设费"}


def test_truth_tax_is_taxes_only_in_the_report_year(province):
    """Recomputed from the delivered tax_payment files and the linkage truth, with rules.md interpretation 3."""
    inbox, plan = province
    links = pl.read_parquet(truth_dir(inbox) / "links.parquet").filter(
        (pl.col("source") == "tax_payment") & pl.col("attributable")
    )
    owner = dict(zip(links["record"], links["business_key"], strict=True))
    taxes: dict[str, Decimal] = {}
    with_surcharges: dict[str, Decimal] = {}
    for row in _rows(inbox, "tax_payment"):
        paid = _date(row["入库日期"])
        business = owner.get(row["纳税人识别号"])
        if business is None or paid.year != plan.report_year:
            continue
        amount = Decimal(row["实缴金额（元）"])
        with_surcharges[business] = with_surcharges.get(business, Decimal(0)) + amount
        if row["税种"] not in SURCHARGES:
            taxes[business] = taxes.get(business, Decimal(0)) + amount
    facts = _facts(inbox)
    truth = dict(zip(facts["business_key"], facts["tax_paid_prev_year"], strict=True))
    assert {k: v for k, v in truth.items() if v != 0} == {k: v for k, v in taxes.items() if v != 0}
    differs = [k for k in with_surcharges if with_surcharges[k] != taxes.get(k, Decimal(0))]
    assert len(differs) > 5  # surcharges are really sent, and really left out


def test_truth_annual_report_is_the_latest_version_filed_on_or_before_d(province):
    inbox, plan = province
    latest: dict[str, tuple[dt.date, set]] = {}
    for row in _rows(inbox, "annual_report"):
        filed = _date(row["报送日期"])
        if row["报告年度"] != str(plan.report_year) or filed > plan.as_of_date:
            continue
        content = (row["营业额或营业收入（万元）"], row["纳税总额（万元）"], row["从业人数"], row["是否有网站或网店"])
        day, contents = latest.get(_key(row), (dt.date.min, set()))
        if filed > day:
            latest[_key(row)] = (filed, {content})
        elif filed == day:
            contents.add(content)
    registration = {_key(r): _date(r["成立日期"]) for r in _rows(inbox, "registration")}
    facts = _facts(inbox).filter(~pl.col("established_after_as_of"))
    for row in facts.iter_rows(named=True):
        found = latest.get(row["business_key"])
        if found is None:  # not filed, unless established after R (no report due yet)
            assert row["annual_report_filed"] is (registration[row["business_key"]].year > plan.report_year)
            assert row["sales_prev_year"] is None
            continue
        assert row["annual_report_filed"] is True
        _, contents = found
        if len(contents) > 1:
            assert row["sales_prev_year"] is None and row["report_conflict"], row["business_key"]
        else:
            (sales, _, staff, _), *_ = contents
            expected = None if sales == "" else (Decimal(sales) * 10_000).quantize(Decimal("0.01"))
            assert row["sales_prev_year"] == expected, row["business_key"]
            assert row["employees_prev_year"] == (None if staff == "" else max(int(staff) - 1, 0))


def test_truth_listings_are_in_force_by_the_terms(province):
    inbox, plan = province
    d = plan.as_of_date
    listed: set[str] = set()
    for row in _rows(inbox, "abnormal_list"):
        end = _date(row["移出日期"]) if row["移出日期"] else None
        if _date(row["列入日期"]) <= d and (end is None or end > d):
            listed.add(_key(row))
    facts = _facts(inbox)
    assert set(facts.filter("on_abnormal_list")["business_key"]) == listed


def test_anniversaries_follow_the_civil_code(province):
    inbox, plan = province
    d = plan.as_of_date
    facts = _facts(inbox).filter(~pl.col("established_after_as_of"))
    registration = {_key(r): _date(r["成立日期"]) for r in _rows(inbox, "registration")}
    for key, years in zip(facts["business_key"], facts["years_established"], strict=True):
        e = registration[key]
        n = d.year - e.year
        try:
            anniversary = e.replace(year=d.year)
        except ValueError:  # 29 February in a common year
            anniversary = dt.date(d.year, 2, 28)
        assert years == (n if anniversary <= d else n - 1), (key, e)


def test_businesses_established_after_d_are_marked_apart(province):
    inbox, plan = province
    facts = _facts(inbox)
    registration = {_key(r): _date(r["成立日期"]) for r in _rows(inbox, "registration")}
    after = {k for k, e in registration.items() if e > plan.as_of_date}
    assert set(facts.filter("established_after_as_of")["business_key"]) == after
    assert all(plan.as_of_date < registration[k] <= plan.extracted_on for k in after)


def test_february_as_of_counts_the_report_year_r(tmp_path):
    """D = 28 February 2026: R = 2024 (rules.md Terms), so most active businesses have filed and paid in R."""
    inbox = tmp_path / "41" / "2026"
    plan = Plan("41", 2026, 3000, seed=2, as_of=dt.date(2026, 2, 28))
    generate(plan, inbox)
    facts = _facts(inbox).filter(pl.col("designed_case").is_null() & pl.col("status_active"))
    assert set(facts["report_year"]) == {2024}
    assert facts["annual_report_filed"].mean() > 0.7
    assert (facts["tax_paid_prev_year"] > 0).mean() > 0.15
    assert (facts["insured_incl_operator"] > 0).mean() > 0.02


def test_department_names_are_an_option_mapped_in_inbox_toml(tmp_path):
    """--department-names: 专利.csv and 严重违法失信名单<Y>.xlsx, each mapped to its source in inbox.toml [files]."""
    plain, named = tmp_path / "plain" / "41" / "2025", tmp_path / "named" / "41" / "2025"
    generate(Plan("41", 2025, 400, seed=4), plain)
    generate(Plan("41", 2025, 400, seed=4, department_names=True), named)
    config = tomllib.loads((named / "inbox.toml").read_text(encoding="utf-8"))
    assert config["files"] == {"专利.csv": "patent", "严重违法失信名单2025.xlsx": "serious_list"}
    assert "files" not in tomllib.loads((plain / "inbox.toml").read_text(encoding="utf-8"))
    assert (named / "专利.csv").read_bytes() == (plain / "patent.csv").read_bytes()
    assert read_rows(named / "严重违法失信名单2025.xlsx") == read_rows(plain / "serious_list.xlsx")
    assert {p.name for p in named.iterdir()} ^ {p.name for p in plain.iterdir()} == {
        "专利.csv",
        "严重违法失信名单2025.xlsx",
        "patent.csv",
        "serious_list.xlsx",
    }
    generate(Plan("41", 2025, 400, seed=4), named)  # a rerun without the option leaves no department-named file
    assert {p.name for p in named.iterdir()} == {p.name for p in plain.iterdir()}


def test_with_faults_the_truth_follows_v2_for_conflicting_versions(tmp_path):
    """--faults: a report version with a same-day twin leaves the report filed, figures unknown; a listing episode
    with a conflicting twin stays in force (resolved against the business). Recomputed from the files, rows that
    break a rule other than duplicate_conflict left out."""
    inbox = tmp_path / "41" / "2025"
    plan = Plan("41", 2025, 3000, seed=10, faults=0.03)  # seed 9 drew only 2 conflicts
    generate(plan, inbox)
    d = plan.as_of_date
    found, _ = breaches(inbox, "41", d)
    broken = {(file, line) for file, line, _, rule in found if rule != "duplicate_conflict"}

    def accepted(source: str) -> list[dict[str, str]]:
        return [
            row
            for path in data_files(inbox)
            if source_of(path.name) == source
            for i, row in enumerate(read_rows(path))
            if (path.name, i + 2) not in broken
        ]

    facts = _facts(inbox)
    versions: dict[str, dict[dt.date, set]] = {}
    for row in accepted("annual_report"):
        if row["报告年度"] == str(plan.report_year) and _date(row["报送日期"]) <= d:
            content = (
                row["营业额或营业收入（万元）"],
                row["从业人数"],
                row["纳税总额（万元）"],
                row["是否有网站或网店"],
            )
            versions.setdefault(_key(row), {}).setdefault(_date(row["报送日期"]), set()).add(content)
    conflicted = {k for k, by_day in versions.items() if len(by_day[max(by_day)]) > 1}
    assert len(conflicted) >= 3
    assert set(facts.filter("report_conflict")["business_key"]) == conflicted
    assert facts.filter(pl.col("business_key").is_in(list(conflicted)))["sales_prev_year"].null_count() == len(
        conflicted
    )
    for source, feature, end in (
        ("serious_list", "on_serious_list", "移出日期"),
        ("abnormal_list", "on_abnormal_list", "移出日期"),
    ):
        listed = {_key(r) for r in accepted(source) if _date(r["列入日期"]) <= d and (not r[end] or _date(r[end]) > d)}
        assert set(facts.filter(feature)["business_key"]) == listed, source
