"""The round, rule by rule, each at its boundary (classification.md, "The round")."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.classification.helpers import APPLIED, ROUND_DAY, D, application, business, recognition, standards
from transforms.classification.model import Debtor, OfficeEvent, Penalty, ReviewResult
from transforms.classification.round import classification_round


def run(apps, businesses, counts=None, penalties=(), debtors=(), credentials=(), register=(), events=(), **kw):
    by_uscc = {b.uscc: b for b in businesses}
    typed = counts if counts is not None else {"410102": 100}
    return classification_round(
        2025,
        apps,
        by_uscc,
        typed,
        list(penalties),
        list(debtors),
        list(credentials),
        list(register),
        list(events),
        kw.pop("standards", standards()),
        ROUND_DAY,
        kw.pop("reviews", None),
    )


def one(result, no="A1"):
    return next(d for d in result.decisions if d.application.application_no == no)


def test_a_growth_business_meeting_the_standard_is_a_candidate():
    d = one(run([application("A1", "B1")], [business("B1")]))
    assert (d.outcome, d.reasons, d.score.points, d.score.met) == ("拟认定", (), 1, ("T",))


# --- 1. pool ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "channel", "consent", "relaxation", "in_pool"),
    [
        ("发展型", "自主申报", None, None, True),
        ("成长型", "自主申报", None, None, True),
        ("生存型", "自主申报", None, None, False),
        ("生存型", "部门推荐", True, None, True),
        ("生存型", "自主申报", None, "退役军人", True),
        ("不符合分型条件", "部门推荐", True, "残疾人", False),
    ],
)
def test_pool(type_, channel, consent, relaxation, in_pool):
    app = application("A1", "B1", channel=channel, consent=consent, recommender="商务局", relaxation=relaxation)
    d = one(run([app], [business("B1", type_=type_)]))
    assert ("NOT_IN_POOL" in d.reasons) is (not in_pool)


def test_a_business_not_in_the_cycle_is_not_in_the_pool():
    d = one(run([application("A1", "GONE")], []))
    assert (d.outcome, d.reasons, d.score) == ("不予认定", ("NOT_IN_POOL",), None)


# --- 2A. penalties ---------------------------------------------------------------------------------------

TWO_YEARS_BEFORE = D(2023, 8, 20)


@pytest.mark.parametrize(
    ("decided_on", "kind", "repaired_on", "excluded"),
    [
        (TWO_YEARS_BEFORE, "罚款", None, True),  # exactly 2 years before: inside the window
        (TWO_YEARS_BEFORE - dt.timedelta(days=1), "罚款", None, False),  # 2 years and 1 day before: outside
        (APPLIED, "罚款", None, True),  # on the application date
        (APPLIED + dt.timedelta(days=1), "罚款", None, False),  # after the application: not "before"
        (D(2024, 5, 1), "警告", None, False),
        (D(2024, 5, 1), "通报批评", None, False),
        (D(2024, 5, 1), "吊销许可证件", None, True),
        (D(2024, 5, 1), "行政拘留", None, True),
        (D(2024, 5, 1), "罚款", APPLIED - dt.timedelta(days=1), False),  # repaired the day before
        (D(2024, 5, 1), "罚款", APPLIED, False),  # repaired on the day: completed by the application date
        (D(2024, 5, 1), "罚款", APPLIED + dt.timedelta(days=1), True),  # repaired the day after
    ],
)
def test_penalty_exclusion(decided_on, kind, repaired_on, excluded):
    p = Penalty("B1", decided_on, kind, repaired_on)
    d = one(run([application("A1", "B1")], [business("B1")], penalties=[p]))
    assert ("EXCLUDED_PENALTY" in d.reasons) is excluded
    assert d.outcome == ("不予认定" if excluded else "拟认定")


def test_another_business_penalty_does_not_exclude():
    d = one(run([application("A1", "B1")], [business("B1")], penalties=[Penalty("B2", D(2024, 5, 1), "罚款")]))
    assert d.outcome == "拟认定"


# --- 2B. dishonest debtor ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("listed_on", "removed_on", "excluded"),
    [
        (APPLIED, None, True),
        (APPLIED + dt.timedelta(days=1), None, False),
        (D(2020, 1, 1), APPLIED, False),  # removed on the day: no longer listed
        (D(2020, 1, 1), APPLIED + dt.timedelta(days=1), True),
    ],
)
def test_debtor_exclusion(listed_on, removed_on, excluded):
    debtor = Debtor("op-B1", listed_on, removed_on)
    d = one(run([application("A1", "B1")], [business("B1")], debtors=[debtor]))
    assert ("EXCLUDED_DEBTOR" in d.reasons) is excluded


# --- 3. ban -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("revoked_on", "is_banned"),
    [(D(2020, 8, 20), True), (D(2020, 8, 19), False), (D(2024, 1, 1), True)],
)
def test_ban_after_revocation(revoked_on, is_banned):
    events = [OfficeEvent("B1", "撤销", revoked_on, "文号")]
    d = one(run([application("A1", "B1")], [business("B1")], events=events))
    assert ("BANNED" in d.reasons) is is_banned


def test_a_revocation_in_the_register_bans_too():
    revoked = recognition("R1", "B1", D(2022, 11, 30), status="撤销", ended_on=D(2023, 3, 1))
    d = one(run([application("A1", "B1")], [business("B1")], register=[revoked]))
    assert d.reasons == ("BANNED",)


# --- 4. form ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("consent", "refused"), [(True, False), (False, True), (None, True)])
def test_a_recommendation_needs_consent(consent, refused):
    app = application("A1", "B1", channel="部门推荐", consent=consent, recommender="文旅局")
    assert ("NO_CONSENT" in one(run([app], [business("B1")])).reasons) is refused


def test_consent_does_not_matter_for_a_self_application():
    assert one(run([application("A1", "B1", consent=False)], [business("B1")])).outcome == "拟认定"


def test_already_recognised_on_the_round_day_and_its_last_day():
    last_day = recognition("R1", "B1", D(2022, 11, 30))  # valid until 2025-11-29: expired on the round day
    assert last_day.valid_until == D(2025, 11, 29)
    assert one(run([application("A1", "B1")], [business("B1")], register=[last_day])).outcome == "拟认定"
    still = recognition("R1", "B1", D(2022, 12, 1))  # valid until 2025-11-30, the round day itself
    assert one(run([application("A1", "B1")], [business("B1")], register=[still])).reasons == ("ALREADY_RECOGNISED",)


def test_a_duplicate_keeps_the_earliest_application():
    apps = [
        application("A2", "B1", on=D(2025, 8, 21), category="特色"),
        application("A1", "B1", on=D(2025, 8, 22)),
        application("A0", "B1", on=D(2025, 8, 21)),
    ]
    r = run(apps, [business("B1")])
    assert [(d.application.application_no, d.outcome, d.reasons) for d in r.decisions] == [
        ("A0", "拟认定", ()),
        ("A1", "不予认定", ("DUPLICATE",)),
        ("A2", "不予认定", ("DUPLICATE",)),
    ]


# --- 5. standard ------------------------------------------------------------------------------------------


def test_below_the_pass_mark_keeps_score_and_every_code():
    app = application("A1", "B1", channel="部门推荐", consent=False, recommender="文旅局")
    d = one(run([app], [business("B1", type_="生存型", points=0)], penalties=[Penalty("B1", D(2025, 1, 1), "罚款")]))
    assert d.reasons == ("EXCLUDED_PENALTY", "NO_CONSENT", "BELOW_PASS_MARK")
    assert d.score.points == 0


# --- 6. one per operator per county ----------------------------------------------------------------------


def test_one_per_operator_per_county_the_better_one_wins():
    bs = [business("B1", operator="P", points=1), business("B2", operator="P", points=2)]
    r = run([application("A1", "B1"), application("A2", "B2")], bs)
    assert (one(r, "A1").reasons, one(r, "A2").outcome) == (("ONE_PER_OPERATOR",), "拟认定")


def test_one_operator_in_two_counties_may_hold_two():
    bs = [business("B1", operator="P"), business("B2", region="410103", operator="P")]
    r = run([application("A1", "B1"), application("A2", "B2")], bs, counts={"410102": 100, "410103": 100})
    assert {d.outcome for d in r.decisions} == {"拟认定"}


def test_an_earlier_valid_recognition_of_the_operator_counts():
    held = recognition("R1", "B9", D(2024, 11, 30), operator="P")
    bs = [business("B1", operator="P"), business("B9", operator="P")]
    assert one(run([application("A1", "B1")], bs, register=[held])).reasons == ("ONE_PER_OPERATOR",)


# --- 7. quota and 8. ranking -----------------------------------------------------------------------------


def test_quota_exactly_full():
    # 100 成长+发展 × 5% = 5 places; 3 held, 2 left: the 2 best of 3 applicants
    held = [recognition(f"R{i}", f"H{i}", D(2024, 11, 30)) for i in range(3)]
    bs = [business(f"H{i}") for i in range(3)] + [
        business("B1", points=3),
        business("B2", points=2),
        business("B3", points=1),
    ]
    apps = [application(f"A{i}", f"B{i}") for i in (1, 2, 3)]
    r = run(apps, bs, register=held)
    assert [d.outcome for d in r.decisions] == ["拟认定", "拟认定", "不予认定"]
    assert one(r, "A3").reasons == ("OVER_QUOTA",)
    q = r.quota[0]
    assert (q.base, q.places, q.held, q.candidates, q.remaining) == (100, 5, 3, 2, 0)


def test_quota_floor_and_one_place_short():
    # 39 × 5% = 1.95 → 1 place
    r = run([application("A1", "B1"), application("A2", "B2")], [business("B1"), business("B2")], counts={"410102": 39})
    assert [d.outcome for d in r.decisions] == ["拟认定", "不予认定"]


def test_quota_at_city_level_and_allocations():
    s = standards(level="city")
    bs = [business("B1", region="410102"), business("B2", region="410103")]
    r = run([application("A1", "B1"), application("A2", "B2")], bs, counts={"410102": 20, "410103": 20}, standards=s)
    assert [q.unit for q in r.quota] == ["4101"] and r.quota[0].places == 2
    s = standards(quota={"share": 0.05, "level": "county", "allocations": {"410102": 0.1}})
    r = run([application("A1", "B1")], [business("B1")], counts={"410102": 10}, standards=s)
    assert r.quota[0].places == 1


@pytest.mark.parametrize(
    ("first", "second", "winner"),
    [
        (dict(points=2), dict(points=1), "A1"),  # higher score
        (dict(type_="成长型"), dict(type_="发展型"), "A2"),  # 发展型 before 成长型
        (dict(on=D(2025, 8, 21)), dict(on=D(2025, 8, 20)), "A2"),  # earlier application
        ({}, {}, "A1"),  # then the USCC
    ],
)
def test_ranking(first, second, winner):
    def parts(kw, uscc):
        b = business(uscc, type_=kw.get("type_", "成长型"), points=kw.get("points", 1))
        return b, kw.get("on", APPLIED)

    (b1, on1), (b2, on2) = parts(first, "B1"), parts(second, "B2")
    r = run([application("A1", "B1", on=on1), application("A2", "B2", on=on2)], [b1, b2], counts={"410102": 20})
    assert [d.application.application_no for d in r.decisions if d.outcome == "拟认定"] == [winner]


# --- review of the candidates ----------------------------------------------------------------------------


def test_review_recognises_and_frees_places_without_refilling():
    bs = [business("B1", points=3), business("B2", points=2), business("B3", points=1)]
    apps = [application(f"A{i}", f"B{i}") for i in (1, 2, 3)]
    reviews = {"A1": ReviewResult("A1", "不属实", "无"), "A2": ReviewResult("A2", "属实", "不成立")}
    r = run(apps, bs, counts={"410102": 40}, reviews=reviews)  # 2 places
    assert [(d.outcome, d.reasons) for d in r.decisions] == [
        ("不予认定", ("REVIEW_FAILED",)),
        ("认定", ()),
        ("不予认定", ("OVER_QUOTA",)),  # not moved up into the freed place
    ]
    q = r.quota[0]
    assert (q.places, q.candidates, q.recognised, q.freed, q.remaining) == (2, 2, 1, 1, 1)
    (rec,) = r.recognitions
    assert (rec.uscc, rec.recognised_on, rec.valid_until, rec.benefits_from) == (
        "B2",
        ROUND_DAY,
        D(2028, 11, 29),
        D(2026, 1, 1),
    )
    assert rec.recognition_no == "MTYX-410102-2025-0001" and r.events[0].event == "认定"


def test_an_upheld_objection_fails_the_review():
    reviews = {"A1": ReviewResult("A1", "属实", "成立")}
    assert one(run([application("A1", "B1")], [business("B1")], reviews=reviews)).reasons == ("REVIEW_FAILED",)


def test_every_application_gets_exactly_one_outcome():
    apps = [application(f"A{i}", f"B{i % 7}") for i in range(30)]
    bs = [business(f"B{i}", type_=["成长型", "生存型", "发展型"][i % 3], points=i % 4) for i in range(7)]
    r = run(apps, bs, counts={"410102": 40})
    assert sorted(d.application.application_no for d in r.decisions) == sorted(a.application_no for a in apps)
    for d in r.decisions:
        assert (d.outcome == "不予认定") == bool(d.reasons)
