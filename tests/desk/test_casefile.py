"""The queue and an objection's case file as the desk and ``getihu objection`` read them
(flows/objections/casefile.py), on the tiny cycle of tests/desk/support.py."""

from __future__ import annotations

import datetime as dt

from flows.objections.casefile import Action, case_file, queue
from flows.objections.decisions import decide
from flows.objections.desk import accept, attach, import_objections, refuse, run_rejudgment
from schemas.objections import Decision, Refusal
from schemas.vocabulary import LINK_DETAIL_LABELS
from tests.objections.support import desk_for, objection_row, tax_correction_rows
from tests.support.inbox import resident_id, write_csv
from transforms.link import DETAILS


def file(desk, tmp_path, *rows):
    result = import_objections(desk, write_csv(tmp_path / "objection.csv", list(rows)), "王五")
    return result


def test_the_queue_puts_overdue_objections_first_with_their_deadlines(desk_home, tmp_path):
    desk, clock = desk_for(desk_home, dt.date(2025, 8, 11))
    file(desk, tmp_path, objection_row("YY-1", 1), objection_row("YY-2", 2), objection_row("YY-3", 4, "2025-10-09"))
    accept(desk, "YY-1", "王五")  # decision due 20 working days later
    clock.day = dt.date(2025, 8, 25)  # YY-2's intake deadline (18 August) has passed
    rows = queue(desk)
    assert [r.objection_no for r in rows] == ["YY-2", "YY-1", "YY-3"]
    late, accepted, refused = rows
    assert late.overdue == ("受理期限",) and late.status_label == "待受理"
    assert late.next_deadline == "受理期限 2025-08-18"
    assert accepted.overdue == () and accepted.next_deadline == "决定期限 2025-09-08"
    assert refused.status_label == "不予受理" and refused.next_deadline == ""  # filed after the 30 days: LATE


def test_the_case_file_shows_the_businesss_evidence_with_chinese_labels(desk_home, tmp_path):
    desk, _ = desk_for(desk_home)
    file(desk, tmp_path, objection_row("YY-1", 1))
    case = case_file(desk, "YY-1")
    assert case.status_label == "待受理" and case.actions == {Action.ACCEPT, Action.REFUSE}
    fields = dict(case.fields)
    assert fields["联系电话"] == "138****5678" and fields["原分型"] == "生存型"
    assert "13812345678" not in repr(case) and resident_id(1) not in repr(case)
    found = case.evidence
    assert found.name == "郑州市金水区小店1号" and found.region == "410105 郑州市金水区"
    (result,) = found.results
    assert result.objected and result.business_type == "生存型" and result.ruleset == "HA-2024.1"
    assert [(c.code, c.label) for c in result.reasons] == [
        ("NO_CONDITION", "满足共同要求，但不满足任何成长型或发展型条件")
    ]
    not_met = {c.code: c.label for c in result.conditions_not_met}
    assert not_met["发展A"] == "上年度实际缴纳税款1万元以上" and len(not_met) == 8
    features = dict(found.features)
    assert features["报告年度实缴税款净额（元，含退库，仅税款）"] == ("0.00",)
    assert features["报告年度营业额或营业收入（元）"] == ("—",)  # its two 2024 reports conflict: quarantined
    links = {(r["类别"], r["记录"]): r for r in found.linkage}
    assert links[("商标", "30000001")]["关联途径"] == "经营者证件" and links[("商标", "30000001")]["credited"]
    ambiguous = links[("商标", "39999999")]
    assert not ambiguous["credited"] and "不计入" in ambiguous["结果"]
    assert ambiguous["说明"] == "地址所在县区有多名同名经营者"
    assert links[("纳税人身份", "924101050000000010")]["关联途径"] == "统一社会信用代码"
    assert [(q["行号"], q["来源"], q["规则"]) for q in found.quarantined] == [
        ("2", "年度报告", "duplicate_conflict 另一行的键相同而内容不同"),
        ("6", "年度报告", "duplicate_conflict 另一行的键相同而内容不同"),
    ]
    assert case.events[0]["步骤"] == "收到异议" and case.events[0]["经办人"] == "王五"


def test_the_case_file_follows_the_procedure_correction_rejudgment_decision_and_letter(desk_home, tmp_path):
    desk, _ = desk_for(desk_home)
    file(desk, tmp_path, objection_row("YY-1", 1))
    accept(desk, "YY-1", "王五")
    case = case_file(desk, "YY-1")
    assert case.actions == {Action.ATTACH, Action.REJUDGE} and case.comparison is None and not case.letter
    attach(desk, "YY-1", [write_csv(tmp_path / "c" / "tax_payment.csv", tax_correction_rows())], "王五")
    run_rejudgment(desk, "YY-1", "赵六")
    case = case_file(desk, "YY-1")
    assert case.actions == {Action.ATTACH, Action.REJUDGE, Action.DECIDE}
    assert case.rejudgment_in_force and case.expected_decision == "调整"
    compared = case.comparison
    assert (compared["type_before"], compared["type_after"], compared["经办人"]) == ("生存型", "发展型", "赵六")
    (changed,) = [f for f in compared["features"] if f["changed"]]
    assert (changed["before"], changed["after"]) == ("0.00", "20000.00")
    assert changed["by"][0]["confirmation_no"] == "金税确〔2025〕12号"
    assert case.corrections[0]["确认文号"] == "金税确〔2025〕12号" and case.corrections[0]["数据来源"] == "税款入库明细"
    # a correction attached after the re-judgment: no decision until it is re-judged again
    attach(desk, "YY-1", [write_csv(tmp_path / "d" / "tax_payment_2.csv", tax_correction_rows())], "王五")
    assert Action.DECIDE not in case_file(desk, "YY-1").actions
    run_rejudgment(desk, "YY-1", "王五")
    decide(desk, "YY-1", Decision.ADJUST, "税务部门确认上年度实缴税款2万元", "王五")
    case = case_file(desk, "YY-1")
    assert case.status_label == "已更正" and case.actions == {Action.REPLY} and case.letter
    assert [e["步骤"] for e in case.events][-2:] == ["作出决定", "更正分型结果"]
    assert "决定：调整" in case.events[-2]["内容"]
    assert case.evidence.amendments[0]["更正后"] == "发展型"
    assert case.evidence.results[0].business_type == "发展型"  # the amended type, as getihu query shows it


def test_a_refused_objection_can_be_answered_at_once(desk_home, tmp_path):
    desk, _ = desk_for(desk_home)
    file(desk, tmp_path, objection_row("YY-1", 1))
    refuse(desk, "YY-1", Refusal.DUPLICATE, "王五", "同一户已有异议")
    case = case_file(desk, "YY-1")
    assert case.actions == {Action.REPLY} and case.letter
    assert "原因：DUPLICATE" in case.events[-1]["内容"] and "备注：同一户已有异议" in case.events[-1]["内容"]


def test_every_linkage_detail_has_a_chinese_meaning():
    assert set(LINK_DETAIL_LABELS) == set(DETAILS)
