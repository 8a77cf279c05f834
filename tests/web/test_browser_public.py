"""The public pages driven in headless Chromium (Debian's), on a small typed province (tests/objections/support.py:
four businesses of 郑州市金水区, operator 张三 with resident_id(seq), published 1 August 2025)."""

from __future__ import annotations

import threading

from flows.home import Cycle
from flows.objections.store import Store
from flows.stages.publish import publish
from tests.objections.support import PUBLISHED, SECRET
from tests.support.inbox import AS_OF, resident_id, uscc


def _search(page, text: str) -> None:
    page.goto("/")
    page.get_by_role("searchbox").fill(text)
    page.get_by_role("button", name="查询").click()
    page.wait_for_load_state()


def _result_rows(page) -> list[list[str]]:
    return [row.locator("td").all_inner_texts() for row in page.locator("table tbody tr").all()]


def test_home_page_offers_the_search_in_chinese(page):
    page.goto("/")
    assert page.locator("h1").inner_text() == "个体工商户分型结果查询"
    assert page.get_by_role("searchbox").is_visible()
    assert page.evaluate("document.documentElement.lang") == "zh-CN"


def test_search_by_part_of_a_name_lists_the_businesses(page):
    _search(page, "小店")
    rows = _result_rows(page)
    assert [r[0] for r in rows] == [f"郑州市金水区小店{n}号" for n in (1, 2, 3, 4)]
    assert [r[3] for r in rows] == ["生存型", "不符合分型条件", "成长型", "生存型"]
    assert {r[2] for r in rows} == {"河南省郑州市金水区"}
    assert {r[4] for r in rows} == {"2025-07-31"}


def test_search_by_uscc_finds_exactly_the_business_and_leads_to_its_page(page):
    _search(page, uscc(3).lower())  # typed in lower case: the code is normalised
    rows = _result_rows(page)
    assert rows == [["郑州市金水区小店3号", uscc(3), "河南省郑州市金水区", "成长型", "2025-07-31"]]
    page.get_by_role("link", name="郑州市金水区小店3号").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/business/{uscc(3)}")
    facts = dict(
        zip(page.locator("dl.facts dt").all_inner_texts(), page.locator("dl.facts dd").all_inner_texts(), strict=True)
    )
    assert facts["统一社会信用代码"] == uscc(3)
    assert facts["行政区划"] == "河南省郑州市金水区（410105）"
    assert facts["分型结果"] == "成长型"
    assert facts["判定日期"] == "2025-07-31"
    assert facts["分型标准"] == "河南省个体工商户分型标准（HA-2024.1）"
    assert "没有名特优新认定" in page.inner_text("main")


def test_the_standard_page_shows_the_conditions_and_the_document(page):
    page.goto("/standard/41")
    assert page.locator("h1").inner_text() == "河南省个体工商户分型标准"
    text = page.inner_text("main")
    assert "豫市监〔2024〕15号" in text
    assert "成长A" in text and "上年度实际缴纳税款1万元（含）以下" in text
    assert "发展A" in text and "上年度实际缴纳税款1万元以上" in text
    assert "成立2年（含）以上" in text
    assert "列入经营异常名录" in text


def _fill_objection(page, seq: int, operator_id: str) -> None:
    page.goto(f"/objection?uscc={uscc(seq)}")
    page.get_by_label("经营者姓名").fill("张三")
    page.get_by_label("经营者身份证件号码").fill(operator_id)
    page.get_by_label("您认为应当的分型结果").select_option("发展型")
    page.get_by_label("异议理由").fill("上年度已缴纳税款，分型结果未计入")
    page.get_by_label("联系电话").fill("13812345678")
    page.get_by_role("button", name="提交异议").click()
    page.wait_for_load_state()


def _stored(home) -> list:
    with Store(home) as store:
        return store.all()


def test_an_objection_with_another_persons_id_is_refused_and_not_filed(page, web_home):
    before = len(_stored(web_home))
    _fill_objection(page, 4, resident_id(7))  # a valid resident ID, but not this business's operator's
    assert "异议未提交" in page.inner_text("main")
    assert "身份证件号码与登记信息不一致" in page.inner_text("main")
    assert len(_stored(web_home)) == before
    assert page.get_by_label("经营者身份证件号码").input_value() == ""  # the ID typed is not sent back


def test_an_objection_by_the_operator_is_filed_and_numbered_with_its_deadlines(page, web_home):
    _fill_objection(page, 4, resident_id(4))
    assert page.locator("h1").inner_text() == "异议已提交"
    number = page.locator("#objection-no").inner_text()
    assert number == "YY20254100001"
    text = page.inner_text("main")
    assert "2025-08-18 前" in text  # received 11 August (a Monday): 5 working days from the next day
    assert "受理后20个工作日内" in text
    stored = {row["objection_no"]: row for row in _stored(web_home)}[number]
    assert stored["uscc"] == uscc(4) and stored["status"] == "received" and stored["claimed_type"] == "发展型"
    assert stored["phone_masked"] == "138****5678"
    assert resident_id(4) not in repr(dict(stored))


def test_a_search_keeps_answering_while_a_cycle_publishes(page, web_home):
    warehouse = web_home / "warehouse.duckdb"
    before = warehouse.stat().st_ino
    cycle = Cycle(province="41", as_of=AS_OF, home=web_home, secret=SECRET, inbox=web_home / "inbox" / "41" / "2025")
    failures: list[BaseException] = []

    def republish() -> None:
        try:
            for _ in range(3):
                publish(cycle, clock=lambda: PUBLISHED)
        except BaseException as e:
            failures.append(e)

    publisher = threading.Thread(target=republish)
    publisher.start()
    searches = 0
    while publisher.is_alive() or searches < 3:
        _search(page, "小店")
        assert len(_result_rows(page)) == 4, page.inner_text("main")
        searches += 1
    publisher.join()
    assert not failures
    assert warehouse.stat().st_ino != before  # the file was really replaced under the running web front
    _search(page, uscc(2))
    assert _result_rows(page)[0][3] == "不符合分型条件"
