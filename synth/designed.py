"""Designed businesses: every boundary of both rulesets met by one business and missed narrowly by another.

They are the first businesses of the province (numbers ``0 .. count()-1``), labelled in ``facts.parquet``
(``designed_case``) and never touched by injected faults. Linkage traps (rules.md §3) are labelled in
``linkage_trap``. Each case starts from an unremarkable business — 4 years old, active, named, with a USCC, its
annual reports for R-1 and R filed in April, sales of 100,000 yuan, one person working, no tax, no insurance, no
listing — and changes only what the case is about. "The previous year" of every case is the report year R
(rules.md v2, Terms: Y-1 from 30 June, Y-2 before). ``_v2_cases`` adds what departments really send (issue 12):
records dated between D and the extraction, amended and conflicting reports, surcharges, status labels, 注册号
keys, 29 February founders, businesses established after R and after D.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from schemas.sources import SOURCES
from synth.businesses import ACTIVE, INDUSTRY_WORDS
from synth.codes import patent_application_numbers
from synth.people import USCC_SINCE, person_names, reg_nos, reserved_person_names, resident_ids, trade_names, usccs
from synth.records import EMPLOYEE_RESERVE, years_before
from synth.world import World

D = dt.timedelta(days=1)


def month_range(first: dt.date, as_of: dt.date):
    """First days of the months from ``first`` up to (not including) the month of ``as_of``."""
    month = first
    while (month.year, month.month) < (as_of.year, as_of.month):
        yield month
        month = (month + 32 * D).replace(day=1)


@dataclass
class Cases:
    businesses: pl.DataFrame
    typed: dict[str, pl.DataFrame]
    truth: dict[str, pl.DataFrame]


@dataclass
class _Business:
    bidx: int
    case: str
    established: dt.date
    person: int
    region_pos: int
    status: str = "存续"
    named: bool = True
    has_uscc: bool = True
    seasonal: bool = False
    trap: str | None = None
    name: str | None = None  # set to copy another business's name
    operator_name: str | None = None  # a reserved name, when the case needs one
    moved_in: bool = False
    codes: dict = field(default_factory=dict)


class _Builder:
    def __init__(self, world: World) -> None:
        self.world = world
        self.as_of = world.plan.as_of_date
        self.year = world.plan.year
        self.report_year = world.plan.report_year  # R: "the previous year" of the rules (rules.md, Terms)
        self.extracted = world.plan.extracted_on
        self.businesses: list[_Business] = []
        self.rows: dict[str, list[dict]] = {s: [] for s in SOURCES if s != "registration"}
        self.truth: dict[str, list[dict]] = {"tax": [], "trademark": [], "patent": []}
        self.counties = [i for i, kind in enumerate(world.regions["kind"].to_list()) if kind == "county"]
        self.reserved = 0
        self.serial = 0

    # --- businesses ---------------------------------------------------------------------------------

    def business(
        self,
        case: str,
        *,
        report: bool = True,
        same_operator_as: _Business | None = None,
        region_pos: int | None = None,
        **fields,
    ) -> _Business:
        bidx = len(self.businesses)
        established = fields.pop("established", years_before(self.as_of, 4))
        b = _Business(
            bidx=bidx,
            case=case,
            established=established,
            person=same_operator_as.person if same_operator_as else bidx,
            region_pos=region_pos if region_pos is not None else self.counties[bidx % len(self.counties)],
            **fields,
        )
        self.businesses.append(b)
        if report:  # a legacy business (no USCC) files under its 注册号
            r = self.report_year
            if established.year <= r - 1:
                self.annual_report(b, r - 1, dt.date(r, 4, 20))
            if established.year <= r:
                self.annual_report(b, r, min(dt.date(r + 1, 4, 20), self.as_of))
        return b

    def reserved_name(self) -> str:
        self.reserved += 1
        return reserved_person_names(np.array([self.reserved - 1]))[0]

    def annual_report(self, b: _Business, year: int, filed: dt.date, sales: int = 100_000, staff: int = 1) -> None:
        """One version of ``b``'s report for ``year`` (a correction is another call with a later ``filed``)."""
        self.rows["annual_report"].append(
            {
                "_bidx": b.bidx,
                "report_year": year,
                "filed_on": filed,
                "sales_yuan": sales * 100,
                "tax_declared_yuan": 0,
                "staff_count": staff,
                "has_website": False,
            }
        )

    def replace_report(self, b: _Business, **values) -> None:
        """Change the report for R of ``b`` (sales in yuan, staff, filed date)."""
        row = next(
            r for r in self.rows["annual_report"] if r["_bidx"] == b.bidx and r["report_year"] == self.report_year
        )
        if "sales" in values:
            row["sales_yuan"] = values.pop("sales") * 100
        if "staff" in values:
            row["staff_count"] = values.pop("staff")
        if "filed" in values:
            row["filed_on"] = values.pop("filed")

    def drop_report(self, b: _Business, year: int) -> None:
        self.rows["annual_report"] = [
            r for r in self.rows["annual_report"] if not (r["_bidx"] == b.bidx and r["report_year"] == year)
        ]

    # --- tax ----------------------------------------------------------------------------------------

    def tax_id(
        self,
        b: _Business,
        kind: str = "uscc",
        *,
        owner: _Business | None = None,
        attributable: bool = True,
        general: tuple[dt.date, dt.date | None] | None = None,
    ) -> str:
        """Register a 纳税人识别号 (``uscc``, ``operator`` or ``operator+NN``) whose truth owner is ``owner or b``."""
        owner = owner or b
        self.truth["tax"].append(
            {
                "taxpayer_id": (b.bidx, kind),
                "_bidx": owner.bidx,
                "owner": "business" if kind == "uscc" else "operator",
                "attributable": attributable,
            }
        )
        self.rows["taxpayer"].append(
            {
                "_bidx": owner.bidx,
                "taxpayer_id": (b.bidx, kind),
                "taxpayer_name": None,
                "general_from": general[0] if general else None,
                "general_until": general[1] if general else None,
            }
        )
        return kind

    def pay(self, b: _Business, kind: str, paid_on: dt.date, cents: int, tax_kind: str = "增值税") -> None:
        period_end = paid_on.replace(day=1) - D
        self.rows["tax_payment"].append(
            {
                "_bidx": b.bidx,
                "taxpayer_id": (b.bidx, kind),
                "tax_kind": tax_kind,
                "period_from": period_end.replace(day=1),
                "period_to": period_end,
                "paid_on": paid_on,
                "amount_yuan": cents,
            }
        )

    def quarterly(self, b: _Business, kind: str, cents: list[int]) -> None:
        """Payments for the four quarters of R, the last one reaching the treasury in December."""
        for month, amount in zip((4, 7, 10, 12), cents, strict=True):
            self.pay(b, kind, dt.date(self.report_year, month, 15), amount)

    # --- social security ----------------------------------------------------------------------------

    def insure(
        self,
        b: _Business,
        *,
        operator: bool,
        employees: int,
        months: list[dt.date] | None = None,
        mode: str = "单位缴纳",
    ) -> None:
        months = months or [dt.date(self.report_year, m, 1) for m in range(1, 13)]
        persons = (["operator"] if operator else []) + [
            ("employee", b.bidx, len(self.rows["social_security"]), i) for i in range(employees)
        ]
        for person in persons:
            for month in months:
                for insurance, amount in (("企业职工基本养老保险", 64_000), ("职工基本医疗保险", 32_000)):
                    self.rows["social_security"].append(
                        {
                            "_bidx": b.bidx,
                            "person_id": person,
                            "insurance": insurance,
                            "contribution_month": month,
                            "payment_mode": mode,
                            "amount_yuan": amount,
                        }
                    )

    # --- intellectual property ----------------------------------------------------------------------

    def trademark(
        self,
        b: _Business,
        holder: str,
        *,
        owners: list[_Business] | None = None,
        attributable: bool = True,
        status: str = "注册",
        registered: dt.date | None = None,
        protected_until: dt.date | None = None,
    ) -> None:
        """A mark held by ``holder``: ``uscc``, ``operator_id``, or without ID ``name``, ``person`` (operator name)."""
        self.serial += 1
        number = str(9_000_000 + self.serial)
        registered = registered or years_before(self.as_of, 3)
        self.rows["trademark"].append(
            {
                "_bidx": b.bidx,
                "trademark_no": number,
                "holder": (b.bidx, holder),
                "holder_address": b.bidx,
                "nice_class": 35,
                "registered_on": registered,
                "protected_until": protected_until or years_before(registered, -10) - D,
                "trademark_status": status,
            }
        )
        route = "operator" if holder in ("operator_id", "person") else "business"
        for owner in owners or [b]:
            self.truth["trademark"].append(
                {"trademark_no": number, "_bidx": owner.bidx, "owner": route, "attributable": attributable}
            )

    def patent(
        self,
        b: _Business,
        holder: str,
        *,
        attributable: bool = True,
        status: str = "有效",
        granted: dt.date | None = None,
        co_holder: str | None = None,
    ) -> None:
        self.serial += 1
        granted = granted or years_before(self.as_of, 2)
        number = patent_application_numbers(np.array([granted.year - 1]), np.array([2]), np.array([self.serial]))[0]
        self.rows["patent"].append(
            {
                "_bidx": b.bidx,
                "application_no": number,
                "patent_kind": "实用新型",
                "holder": (b.bidx, holder),
                "co_holder": co_holder,
                "holder_address": b.bidx,
                "granted_on": granted,
                "legal_status": status,
            }
        )
        self.truth["patent"].append(
            {
                "application_no": number,
                "_bidx": b.bidx,
                "owner": "operator" if holder == "person" else "business",
                "attributable": attributable,
            }
        )

    # --- listings -----------------------------------------------------------------------------------

    def listing(self, source: str, b: _Business, start: dt.date, end: dt.date | None, **more) -> None:
        names = {
            "abnormal_list": ("listed_on", "removed_on"),
            "serious_list": ("listed_on", "removed_on"),
            "suspension": ("suspended_from", "resumed_on"),
        }[source]
        row = {"_bidx": b.bidx, names[0]: start, names[1]: end, **more}
        if source == "abnormal_list":
            row.setdefault("reason", "未按照规定报送年度报告")
        self.rows[source].append(row)


def _minus_one_day(as_of: dt.date, years: int) -> dt.date:
    """The first founding day that has not reached its ``years``-th anniversary on ``as_of``.

    That is the day after ``as_of`` minus ``years`` years, except that a 29 February founder reaches its
    anniversary on 28 February of a common year (《民法典》), so on such a D it is 1 March.
    """
    day = years_before(as_of, years) + D
    if day.month == 2 and day.day == 29 and as_of.month == 2 and as_of.day == 28:
        day += D
    return day


def _boundary_cases(c: _Builder) -> None:
    as_of, year = c.as_of, c.year
    prev = c.report_year  # R: the year whose report, tax, insurance, sales and staff count

    # ages: each pays a little tax in Y-1, so the age alone decides 成长 in Heilongjiang
    for years in (2, 6, 10):
        exact = years_before(as_of, years)
        for label, established in (
            (f"age_exactly_{years}y", exact),
            (f"age_{years}y_minus_1d", _minus_one_day(as_of, years)),
        ):
            b = c.business(label, established=established)
            c.tax_id(b)
            c.pay(b, "uscc", dt.date(prev, 5, 15), 50_000)
    b = c.business("established_this_year", established=max(dt.date(year, 1, 1), as_of - 30 * D), report=False)
    b = c.business("established_last_year_no_report", established=dt.date(prev, 12, 31), report=False)

    # annual report for Y-1: on the as-of date, late but before it, not at all
    c.replace_report(c.business("report_filed_on_as_of"), filed=as_of)
    late = dt.date(prev + 1, 7, 15) if as_of >= dt.date(prev + 1, 7, 15) else as_of
    c.replace_report(c.business("report_filed_late"), filed=late)
    c.drop_report(c.business("report_not_filed"), prev)

    # net tax paid in Y-1, by 入库日期
    c.quarterly(b := c.business("tax_exactly_10000"), c.tax_id(b), [250_000] * 4)
    c.quarterly(b := c.business("tax_10000_01"), c.tax_id(b), [250_000, 250_000, 250_000, 250_001])
    b = c.business("tax_zero_with_refund")
    c.pay(b, c.tax_id(b), dt.date(prev, 3, 15), 80_000)
    c.pay(b, "uscc", dt.date(prev, 5, 10), -80_000)
    c.pay(b := c.business("tax_one_cent"), c.tax_id(b), dt.date(prev, 6, 15), 1)
    b = c.business("tax_net_negative")
    c.pay(b, c.tax_id(b), dt.date(prev, 2, 15), 30_000)
    c.pay(b, "uscc", dt.date(prev, 9, 15), -50_000)
    b = c.business("tax_other_years_only")
    c.pay(b, c.tax_id(b), dt.date(prev - 1, 12, 20), 2_000_000)
    c.pay(b, "uscc", dt.date(year, 1, 1), 2_000_000)
    b = c.business("tax_paid_dec31")
    c.pay(b, c.tax_id(b), dt.date(prev, 12, 31), 1_000_001)
    c.pay(b, "uscc", dt.date(year, 1, 1), 500_000)
    c.quarterly(b := c.business("tax_by_operator_id"), c.tax_id(b, "operator"), [250_000, 250_000, 250_000, 250_001])
    c.quarterly(b := c.business("tax_by_operator_id_suffix"), c.tax_id(b, "operator+01"), [125_000] * 4)
    # an operator with two businesses in force: tax filed under the resident ID cannot be told apart
    a = c.business("tax_operator_two_in_force", trap="operator_two_in_force")
    b = c.business("tax_operator_two_in_force_second", trap="operator_two_in_force", same_operator_as=a)
    c.quarterly(a, c.tax_id(a, "operator+01", attributable=False), [300_000] * 4)
    c.quarterly(b, c.tax_id(b, "operator+02", attributable=False), [100_000] * 4)
    c.rows["tax_abnormal"].append(
        {"_bidx": a.bidx, "taxpayer_id": (a.bidx, "operator+01"), "declared_on": dt.date(prev, 3, 1), "lifted_on": None}
    )
    # ... and one with a single business in force: its tax reaches that one
    a = c.business("tax_operator_one_in_force")
    c.business("tax_operator_one_in_force_closed", same_operator_as=a, status="注销")
    c.quarterly(a, c.tax_id(a, "operator"), [150_000] * 4)

    # general taxpayer on the as-of date
    c.tax_id(c.business("general_since_as_of"), general=(as_of, None))
    since = years_before(as_of, 3)
    c.tax_id(c.business("general_ended_on_as_of"), general=(since, as_of))
    c.tax_id(c.business("general_ended_day_before"), general=(since, as_of - D))
    c.tax_id(c.business("general_active"), general=(since, None))

    # insured people in Y-1 (单位缴纳 only), operator included / excluded
    for operator, employees in ((True, 2), (True, 4), (True, 5), (False, 1), (False, 3), (False, 4)):
        total = employees + operator
        label = f"insured_incl_{total}" if operator else f"insured_excl_{employees}"
        c.insure(c.business(label), operator=operator, employees=employees)
    b = c.business("insured_personal_only")
    c.insure(b, operator=True, employees=2, mode="个人缴纳")
    b = c.business("insured_2_plus_personal")
    c.insure(b, operator=False, employees=2)
    c.insure(b, operator=False, employees=1, mode="个人缴纳")
    # months after R up to the month before D (for D in February, R = Y-2: all of Y-1 and January of Y)
    this_year = list(month_range(dt.date(prev + 1, 1, 1), as_of)) or [dt.date(year, 1, 1)]
    c.insure(c.business("insured_this_year_only"), operator=False, employees=3, months=this_year)
    b = c.business("insured_5_plus_one_in_this_year")
    c.insure(b, operator=True, employees=4)
    c.insure(b, operator=False, employees=1, months=this_year)

    # 从业人数 in the Y-1 report (the operator included)
    for staff in (0, 2, 3, 4, 5):
        c.replace_report(c.business(f"staff_{staff}"), staff=staff)
    # sales in the Y-1 report (written in 万元)
    for sales in (299_999, 300_000, 599_999, 600_000):
        c.replace_report(c.business(f"sales_{sales}"), sales=sales)

    # trademarks and patents
    c.trademark(c.business("trademark_by_uscc"), "uscc")
    c.trademark(c.business("trademark_by_operator_id"), "operator_id")
    c.trademark(c.business("trademark_by_name"), "name")
    a = c.business("trademark_name_shared", trap="holder_name_shared")
    b = c.business("trademark_name_shared_twin", trap="holder_name_shared", name=a.bidx)
    c.trademark(a, "name", attributable=False)
    c.trademark(c.business("trademark_by_person_in_county", operator_name=c.reserved_name()), "person")
    twin_name = c.reserved_name()
    a = c.business("trademark_person_ambiguous", trap="holder_person_ambiguous", operator_name=twin_name)
    c.business(
        "trademark_person_ambiguous_twin",
        trap="holder_person_ambiguous",
        operator_name=twin_name,
        region_pos=a.region_pos,
    )
    c.trademark(a, "person", attributable=False)
    registered = years_before(as_of, 10)
    c.trademark(c.business("trademark_expired_day_before"), "uscc", registered=registered, protected_until=as_of - D)
    c.trademark(c.business("trademark_ends_on_as_of"), "uscc", registered=registered, protected_until=as_of)
    c.trademark(c.business("trademark_cancelled"), "uscc", status="注销")
    a = c.business("trademark_operator_two_businesses")
    b = c.business("trademark_operator_two_businesses_second", same_operator_as=a)
    c.trademark(a, "operator_id", owners=[a, b])
    c.patent(c.business("patent_by_name"), "name")
    c.patent(c.business("patent_lapsed"), "name", status="失效")
    c.patent(c.business("patent_granted_on_as_of"), "name", granted=as_of)
    c.patent(c.business("patent_by_person_in_county", operator_name=c.reserved_name()), "person")
    c.patent(c.business("patent_with_co_holder"), "name", co_holder="；郑州大学")

    # listings in force on the as-of date: started on or before it, not ended on or before it
    c.listing("abnormal_list", c.business("abnormal_in_force"), dt.date(prev, 8, 1), None)
    c.listing("abnormal_list", c.business("abnormal_removed_day_before"), dt.date(prev, 8, 1), as_of - D)
    c.listing("abnormal_list", c.business("abnormal_removed_on_as_of"), dt.date(prev, 8, 1), as_of)
    c.listing("abnormal_list", c.business("abnormal_listed_on_as_of"), as_of, None)
    c.listing("serious_list", c.business("serious_in_force"), dt.date(prev, 2, 1), None)
    c.listing("serious_list", c.business("serious_removed_on_as_of"), dt.date(prev, 2, 1), as_of)
    for label, lifted in (("tax_abnormal_in_force", None), ("tax_abnormal_lifted_on_as_of", as_of)):
        b = c.business(label)
        c.rows["tax_abnormal"].append(
            {
                "_bidx": b.bidx,
                "taxpayer_id": (b.bidx, c.tax_id(b)),
                "declared_on": dt.date(prev, 6, 1),
                "lifted_on": lifted,
            }
        )
    start = as_of - 200 * D
    c.listing("suspension", c.business("suspended_in_force"), start, None, suspended_until=as_of + 200 * D)
    old = years_before(as_of, 3) - 100 * D
    c.listing("suspension", c.business("suspended_past_3_years"), old, None, suspended_until=years_before(old, -3))
    c.listing(
        "suspension", c.business("suspended_seasonal", seasonal=True), start, None, suspended_until=as_of + 90 * D
    )
    c.listing("suspension", c.business("suspension_resumed_on_as_of"), start, as_of, suspended_until=as_of + 90 * D)
    c.listing("suspension", c.business("suspension_started_on_as_of"), as_of, None, suspended_until=as_of + 90 * D)

    # registration status, legacy numbers, names, codes issued elsewhere
    b = c.business("status_alias_zaiying", status="在营")
    c.quarterly(b, c.tax_id(b), [300_000] * 4)
    b = c.business("status_revoked", status="吊销")
    c.quarterly(b, c.tax_id(b), [600_000] * 4)
    c.business("status_cancelled", status="注销")
    b = c.business("legacy_reg_no_only", has_uscc=False, established=dt.date(2008, 5, 6))
    c.quarterly(b, c.tax_id(b, "operator"), [75_000] * 4)
    c.business("no_name", named=False)
    c.business("uscc_issued_in_other_province", moved_in=True)
    _v2_cases(c)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _v2_cases(c: _Builder) -> None:
    """What departments really deliver (issue 12, rules.md v2 Terms): records after D, amendments, surcharges."""
    as_of, year, r = c.as_of, c.year, c.report_year
    after = min(as_of + 2 * D, c.extracted)  # after D, on or before the extraction

    # listings that end after D are still in force on D; listings that start after D are not yet
    c.listing("abnormal_list", c.business("abnormal_removed_after_as_of"), dt.date(r, 8, 1), after)
    c.listing("abnormal_list", c.business("abnormal_listed_after_as_of"), as_of + D, None)
    c.listing("serious_list", c.business("serious_removed_after_as_of"), dt.date(r, 2, 1), after)
    # one episode delivered twice with different ends: in force as long as any version says so (rules.md, Terms)
    b = c.business("abnormal_episode_conflict")
    c.listing("abnormal_list", b, dt.date(r, 8, 1), as_of - 10 * D)
    c.listing("abnormal_list", b, dt.date(r, 8, 1), None)
    b = c.business("serious_episode_conflict")
    c.listing("serious_list", b, dt.date(r, 2, 1), as_of - 30 * D)
    c.listing("serious_list", b, dt.date(r, 2, 1), after)
    b = c.business("tax_abnormal_lifted_after_as_of")
    c.rows["tax_abnormal"].append(
        {"_bidx": b.bidx, "taxpayer_id": (b.bidx, c.tax_id(b)), "declared_on": dt.date(r, 6, 1), "lifted_on": after}
    )
    b = c.business("tax_abnormal_declared_after_as_of")
    c.rows["tax_abnormal"].append(
        {"_bidx": b.bidx, "taxpayer_id": (b.bidx, c.tax_id(b)), "declared_on": as_of + D, "lifted_on": None}
    )
    start = as_of - 200 * D
    c.listing("suspension", c.business("suspension_resumed_after_as_of"), start, after, suspended_until=as_of + 90 * D)
    c.listing("suspension", c.business("suspension_started_after_as_of"), as_of + D, None, suspended_until=after)
    c.tax_id(c.business("general_ended_after_as_of"), general=(years_before(as_of, 3), after))
    c.tax_id(c.business("general_since_after_as_of"), general=(as_of + D, None))

    # annual reports: corrected (the latest version on or before D counts), conflicting, filed after D
    b = c.business("report_amended")
    c.annual_report(b, r, min(dt.date(r + 1, 5, 20), as_of), sales=350_000, staff=3)
    b = c.business("report_amended_after_as_of")
    c.annual_report(b, r, after, sales=700_000, staff=6)
    b = c.business("report_same_day_conflict")
    c.annual_report(b, r, min(dt.date(r + 1, 4, 20), as_of), sales=120_000, staff=2)
    c.replace_report(c.business("report_filed_after_as_of"), filed=after)
    if dt.date(r + 2, 1, 10) <= as_of:  # D before 30 June: a report for R+1 may already be filed, early
        b = c.business("report_early_for_next_year")  # ... and it is not the report for R
        c.drop_report(b, r)
        c.annual_report(b, r + 1, dt.date(r + 2, 1, 10))

    # taxes only: surcharges and fees never count (rules.md, interpretation 3)
    b = c.business("tax_crosses_10000_only_with_surcharges")
    kind = c.tax_id(b)
    paid = dt.date(r, 10, 15)
    for tax_kind, cents in (
        ("增值税", 900_000),
        ("城市维护建设税", 63_000),
        ("教育费附加", 27_000),
        ("地方教育附加", 18_000),
    ):
        c.pay(b, kind, paid, cents, tax_kind)  # 10,080 yuan in all, 9,630 of it tax
    b = c.business("tax_surcharges_only")
    kind = c.tax_id(b)
    c.pay(b, kind, dt.date(r, 4, 15), 50_000, "教育费附加")
    c.pay(b, kind, dt.date(r, 4, 15), 30_000, "文化事业建设费")
    b = c.business("tax_paid_after_as_of")
    c.pay(b, c.tax_id(b), after, 5_000_000)

    # status labels of the national credit system and other registers
    c.business("status_national_label", status="存续（在营、开业、在册）")
    c.business("status_zaiye", status="在业")
    c.business("status_revoked_not_cancelled", status="吊销未注销")
    c.business("status_moved_out", status="迁出")

    # a legacy business (注册号 only) listed by its 注册号
    b = c.business("legacy_reg_no_abnormal", has_uscc=False, established=dt.date(2009, 3, 2))
    c.listing("abnormal_list", b, dt.date(r, 9, 1), None)

    # founded on 29 February: the anniversary in a common year is 28 February (《民法典》). Where year - years is
    # common, a 28 February founder stands in: every year has as many designed businesses, so the random
    # businesses keep their numbers (and USCCs) from one year to the next.
    for years in (2, 6, 10):
        if _leap(year - years):
            c.business(f"feb29_founder_{years}y", established=dt.date(year - years, 2, 29))
        else:
            c.business(f"feb28_founder_{years}y", established=dt.date(year - years, 2, 28))
    latest = max(y for y in range(year - 12, year) if _leap(y))
    c.business("feb29_founder", established=dt.date(latest, 2, 29))

    # the report year R: a business established after R owes no report yet; one established after D is not typed
    c.business("established_after_report_year", established=dt.date(r + 1, 1, 1), report=False)
    c.business("established_after_as_of", established=as_of + D, report=False)


def _materialise(c: _Builder) -> Cases:
    """Codes, names and addresses for the designed businesses, and their rows as the random ones have them."""
    world, plan = c.world, c.world.plan
    bs = c.businesses
    n = len(bs)
    bidx = np.array([b.bidx for b in bs])
    established = np.array([b.established for b in bs], dtype="datetime64[D]")
    regions = world.regions
    pos = np.array([b.region_pos for b in bs])
    region = regions["region_code"].to_numpy()[pos]
    authority = np.where([b.moved_in for b in bs], "320102", region)
    uscc = usccs(bidx, authority, established).to_list()
    reg_no = reg_nos(bidx, authority).to_list()
    person = np.array([b.person for b in bs])
    operator_id = resident_ids(world, person, 1960 + person % 35).to_list()
    common = person_names(plan.rng(0, "designed/names"), n).to_list()
    operator_name = [b.operator_name or common[b.person] for b in bs]
    county = regions["region_name"].to_numpy()[pos]
    city = np.where(
        regions["city_name"].to_numpy()[pos] == "省直辖县级行政区划", "", regions["city_name"].to_numpy()[pos]
    )
    industry = ["F5211" if i % 2 == 0 else "6210" for i in range(n)]
    trade = trade_names(world, bidx).to_list()
    own_name = [f"{county[i]}{trade[i]}{INDUSTRY_WORDS[industry[i][-4:]]}" for i in range(n)]
    name = [own_name[b.name] if b.name is not None else own_name[i] if b.named else None for i, b in enumerate(bs)]
    address = [f"{world.province_name}{city[i]}{county[i]}人民路{i + 1}号" for i in range(n)]
    uscc = [u if b.has_uscc else None for u, b in zip(uscc, bs, strict=True)]
    reg_no = [
        r if (not b.has_uscc or b.established < USCC_SINCE.astype(dt.date)) else None
        for r, b in zip(reg_no, bs, strict=True)
    ]

    biz = pl.DataFrame(
        {
            "_bidx": bidx,
            "uscc": uscc,
            "reg_no": reg_no,
            "name": name,
            "operator_name": operator_name,
            "operator_id": operator_id,
            "_person": person,
            "org_form": ["个人经营"] * n,
            "industry_code": industry,
            "region_code": region,
            "established_on": [b.established for b in bs],
            "status": [b.status for b in bs],
            "seasonal": [b.seasonal for b in bs],
            "address": address,
            "capital_yuan": [5_000_000] * n,
            "_authority": [f"{county[i]}市场监督管理局" for i in range(n)],
            "_active": [b.status in ACTIVE for b in bs],
            "_designed": [b.case for b in bs],
            "_trap": [b.trap for b in bs],
        },
        schema_overrides={"uscc": pl.String, "reg_no": pl.String, "name": pl.String, "_trap": pl.String},
    )

    def taxpayer_id(ref: tuple[int, str]) -> str:
        i, kind = ref
        if kind == "uscc":
            return uscc[i]
        return operator_id[i] + kind.removeprefix("operator").removeprefix("+")

    employees: dict[tuple, str] = {}

    def person_id(ref, i: int) -> str:
        if ref == "operator":
            return operator_id[i]
        if ref not in employees:
            number = plan.businesses + len(employees)
            employees[ref] = resident_ids(world, np.array([number]), np.array([1990]))[0]
        return employees[ref]

    rows = {s: [dict(r) for r in rs] for s, rs in c.rows.items()}
    for source, records in rows.items():
        for r in records:
            i = r["_bidx"]
            if source in ("annual_report", "abnormal_list", "serious_list", "suspension", "penalty"):
                r["uscc"] = uscc[i]
                r["reg_no"] = reg_no[i]
            if "taxpayer_id" in r:
                r["taxpayer_id"] = taxpayer_id(r["taxpayer_id"])
            if source == "taxpayer":
                r["taxpayer_name"] = name[i] or operator_name[i]
            if source == "social_security":
                r["employer_uscc"] = uscc[i]
                r["person_id"] = person_id(r["person_id"], i)
            if source in ("trademark", "patent"):
                holder_of, how = r.pop("holder")
                by_person = how in ("operator_id", "person") or name[holder_of] is None
                holder_name = operator_name[holder_of] if by_person else name[holder_of]
                r["holder_address"] = address[r["holder_address"]]
                if source == "trademark":
                    r["holder_name"] = holder_name
                    r["holder_id"] = {"uscc": uscc[holder_of], "operator_id": operator_id[holder_of]}.get(how)
                else:
                    r["holder_names"] = holder_name + (r.pop("co_holder") or "")
    if len(employees) > EMPLOYEE_RESERVE:
        raise ValueError("too many designed employees")
    typed = {"registration": biz}
    for source in rows:
        frame = pl.DataFrame(rows[source], infer_schema_length=None) if rows[source] else pl.DataFrame({"_bidx": []})
        typed[source] = frame.with_columns(pl.col("_bidx").cast(pl.Int64))
    truth = {}
    for kind, records in c.truth.items():
        key = "taxpayer_id" if kind == "tax" else "trademark_no" if kind == "trademark" else "application_no"
        if kind == "tax":
            records = [r | {key: taxpayer_id(r[key])} for r in records]
        truth[kind] = pl.DataFrame(records).with_columns(pl.col("_bidx").cast(pl.Int64))
    return Cases(businesses=biz, typed=typed, truth=truth)


def cases(world: World) -> Cases:
    """The designed businesses of this province and cycle, with their rows and linkage truth."""
    builder = _Builder(world)
    _boundary_cases(builder)
    return _materialise(builder)
