"""The yearly review of the register, each rule at its boundary."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.classification.helpers import D, business, recognition, standards
from transforms.classification.model import Credential, Debtor, InfoReport, OfficeEvent, Penalty
from transforms.classification.review import yearly_review

FILED = InfoReport("B1", 2025, D(2025, 7, 31))


def review(register, businesses, reports=(FILED,), penalties=(), debtors=(), credentials=(), events=(), year=2025):
    return yearly_review(
        year,
        list(register),
        {b.uscc: b for b in businesses},
        list(reports),
        list(penalties),
        list(debtors),
        list(credentials),
        list(events),
        standards(),
    )


def row(outcome, number="R1"):
    return next(r for r in outcome.rows if r.recognition.recognition_no == number)


def test_a_recognition_with_its_report_continues():
    out = review([recognition("R1", "B1", D(2024, 11, 30))], [business("B1")])
    assert (row(out).result, row(out).reasons, out.events) == ("继续有效", (), ())


@pytest.mark.parametrize(("filed_on", "cancelled"), [(D(2025, 7, 31), False), (D(2025, 8, 1), True)])
def test_information_report_by_31_july(filed_on, cancelled):
    out = review(
        [recognition("R1", "B1", D(2024, 11, 30))], [business("B1")], reports=[InfoReport("B1", 2025, filed_on)]
    )
    assert (row(out).result == "取消认定") is cancelled
    if cancelled:
        assert row(out).reasons == ("NO_INFO_REPORT",)
        assert out.events[0].event == "取消" and out.recognitions[0].status == "取消"
        assert not out.recognitions[0].valid_on(D(2025, 7, 31))


def test_not_eligible_and_gone_are_cancelled_a_fall_to_survival_is_flagged():
    reg = [recognition("R1", "B1", D(2024, 11, 30)), recognition("R2", "B2", D(2024, 11, 30))]
    reg.append(recognition("R3", "B3", D(2024, 11, 30)))
    reports = [InfoReport(u, 2025, D(2025, 7, 1)) for u in ("B1", "B2", "B3")]
    out = review(reg, [business("B1", type_="不符合分型条件"), business("B3", type_="生存型")], reports=reports)
    assert [(r.result, r.reasons) for r in out.rows] == [
        ("取消认定", ("NOT_ELIGIBLE",)),
        ("取消认定", ("NOT_ELIGIBLE",)),
        ("提示关注", ("FELL_TO_SURVIVAL",)),
    ]


@pytest.mark.parametrize(
    ("penalty", "cancelled"),
    [
        (Penalty("B1", D(2025, 3, 1), "罚款"), True),
        (Penalty("B1", D(2025, 3, 1), "警告"), False),
        (Penalty("B1", D(2025, 3, 1), "罚款", D(2025, 7, 30)), False),  # repaired the day before
        (Penalty("B1", D(2025, 3, 1), "罚款", D(2025, 8, 1)), True),  # repaired the day after
        (Penalty("B1", D(2024, 8, 1), "罚款"), False),  # before the application: already weighed then
    ],
)
def test_a_new_penalty_cancels(penalty, cancelled):
    out = review([recognition("R1", "B1", D(2024, 11, 30))], [business("B1")], penalties=[penalty])
    assert (row(out).reasons == ("EXCLUDED_PENALTY",)) is cancelled


def test_a_listed_operator_cancels():
    out = review(
        [recognition("R1", "B1", D(2024, 11, 30))], [business("B1")], debtors=[Debtor("op-B1", D(2025, 7, 31))]
    )
    assert row(out).reasons == ("EXCLUDED_DEBTOR",)


def test_an_operator_change_reruns_one_per_person():
    reg = [
        recognition("R1", "B1", D(2023, 11, 30), operator="P"),
        recognition("R2", "B2", D(2024, 11, 30), operator="Q"),
    ]
    reports = [FILED, InfoReport("B2", 2025, D(2025, 6, 1), True, "P")]
    out = review(reg, [business("B1", operator="P"), business("B2", operator="P")], reports=reports)
    assert [(e.event, e.reasons) for e in out.events] == [
        ("经营者变更", ("OPERATOR_CHANGED",)),
        ("取消", ("ONE_PER_OPERATOR",)),
    ]
    assert row(out, "R2").reasons == ("ONE_PER_OPERATOR",) and row(out, "R1").result == "继续有效"
    assert out.recognitions[1].operator_key == "P"


# --- extension or expiry in the last year -----------------------------------------------------------------


def test_not_yet_the_last_year():
    # recognised 2023-11-30, valid until 2026-11-29: the last year starts 2025-11-30, after the review
    out = review([recognition("R1", "B1", D(2023, 11, 30))], [business("B1")])
    assert row(out).result == "继续有效"


def last_year(**kw):
    return recognition("R1", "B1", D(2022, 11, 30), base_type="成长型", base_sales=100_000, **kw)


def test_expiry_on_the_last_day():
    out = review([last_year()], [business("B1", sales_prev_year=110_000)])
    assert (row(out).result, out.events[0].event, out.events[0].date) == ("期满", "期满", D(2025, 11, 29))
    assert row(out).reasons == ("EXPIRED",) and out.events[0].reasons == ("EXPIRED",)
    r = out.recognitions[0]
    assert r.valid_on(D(2025, 11, 29)) and not r.valid_on(D(2025, 11, 30))


@pytest.mark.parametrize(
    ("sales", "extended"),
    [(119_999, False), (120_000, True)],  # growth share 20%, at least
)
def test_extension_a_growth(sales, extended):
    out = review([last_year()], [business("B1", sales_prev_year=sales)])
    assert row(out).result == ("延期" if extended else "期满")
    if extended:
        assert row(out).reasons == ("EXT_A",) and out.recognitions[0].valid_until == D(2028, 11, 29)


def test_extension_b_government_honour_county_level_within_the_period():
    inside = Credential("B1", "政府表彰", "县", D(2022, 11, 30))
    before = Credential("B1", "政府表彰", "省", D(2022, 11, 29))
    assert row(review([last_year()], [business("B1")], credentials=[inside])).reasons == ("EXT_B",)
    assert row(review([last_year()], [business("B1")], credentials=[before])).result == "期满"


@pytest.mark.parametrize(("now", "extended"), [("发展型", True), ("成长型", False)])
def test_extension_c_type_rose(now, extended):
    out = review([last_year()], [business("B1", type_=now)])
    assert (row(out).reasons == ("EXT_C",)) is extended


def test_extension_c_from_survival_to_growth():
    r = recognition("R1", "B1", D(2022, 11, 30), base_type="生存型")
    assert row(review([r], [business("B1", type_="成长型")])).reasons == ("EXT_C",)


def test_extension_d_recommended_and_consented():
    r = last_year(channel="部门推荐", recommender="文旅局")
    consent = OfficeEvent("B1", "同意延期", D(2025, 7, 1), "文旅函〔2025〕1号")
    assert row(review([r], [business("B1")], events=[consent])).reasons == ("EXT_D",)
    assert row(review([last_year()], [business("B1")], events=[consent])).result == "期满"  # self-applied


def test_revocation_ends_and_bans():
    event = OfficeEvent("B1", "撤销", D(2025, 5, 1), "撤销决定〔2025〕1号")
    out = review([recognition("R1", "B1", D(2024, 11, 30))], [business("B1")], events=[event])
    r = out.recognitions[0]
    assert (r.status, r.ended_on, out.events[0].event, out.events[0].document_no) == (
        "撤销",
        D(2025, 5, 1),
        "撤销",
        "撤销决定〔2025〕1号",
    )
    assert r.valid_on(D(2025, 4, 30)) and not r.valid_on(D(2025, 5, 1))
    assert row(out).result == "撤销"
    assert row(out).reasons == ("REVOKED",) and out.events[0].reasons == ("REVOKED",)


def test_nothing_is_deleted():
    reg = [recognition(f"R{i}", f"B{i}", D(2024, 11, 30)) for i in range(5)]
    out = review(reg, [business(f"B{i}") for i in range(5)], reports=[])
    assert len(out.recognitions) == 5 and all(r.status == "取消" for r in out.recognitions)
    assert dt.date(2024, 11, 30) == out.recognitions[0].recognised_on
