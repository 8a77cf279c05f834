"""The handlers' desk in Debian's Chromium (issue 18): a handler logs in, opens an objection filed earlier, accepts it,
attaches the tax office's confirmation, re-judges, decides 调整 and opens the reply letter to print."""

from __future__ import annotations

import pytest

from flows.objections.accounts import open_accounts
from flows.objections.desk import Desk, import_objections
from flows.objections.store import open_store
from tests.objections.support import SECRET, objection_row, tax_correction_rows
from tests.support.inbox import write_csv

NUMBER = "YY-2025-0101"
PASSWORD = "金水区-窗口-2025秋"


@pytest.fixture(scope="module")
def filed(web_home, tmp_path_factory):
    """An objection to business 1's type filed through the desk functions, and the handler's account."""
    scratch = tmp_path_factory.mktemp("desk-browser")
    desk = Desk(home=web_home, secret=SECRET)
    import_objections(desk, write_csv(scratch / "objection.csv", [objection_row(NUMBER, 1)]), "登记员")
    with open_accounts(web_home) as accounts:
        accounts.add("wangwu", "王五", PASSWORD)
    return write_csv(scratch / "confirmed" / "tax_payment.csv", tax_correction_rows())


def test_a_handler_logs_in_decides_an_objection_and_prints_the_reply(page, filed, web_home):
    page.goto("/desk")
    assert page.url.endswith("/desk/login?next=%2Fdesk")
    page.fill("#login", "wangwu")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('登录')")
    page.wait_for_url("**/desk")
    assert "经办人：王五" in page.inner_text("header")

    page.click(f"a:has-text('{NUMBER}')")
    assert page.inner_text("h1").startswith(f"异议 {NUMBER}")
    assert "待受理" in page.inner_text("h1") and "138****5678" in page.inner_text("main")
    assert "各期分型" in page.inner_text("main") and "纳税人身份" in page.inner_text("main")

    page.click("#do-accept")
    assert "已受理，决定期限" in page.inner_text("[role=status]")

    page.set_input_files("#files", str(filed))
    page.click("button:has-text('附入')")
    assert "金税确〔2025〕12号" in page.inner_text("[role=status]")

    page.click("#do-rejudge")
    assert "重新判定：生存型 → 发展型" in page.inner_text("[role=status]")
    compared = page.inner_text(".desk-compare")
    assert "20000.00" in compared and "金税确〔2025〕12号" in compared

    assert page.is_checked("input[name=decision][value=调整]")  # what the re-judgment calls for
    page.fill("#reasons", "税务部门确认上年度实缴税款2万元，符合发展A")
    page.click("#do-decide")
    assert "决定：调整；更正包 corrections-001" in page.inner_text("[role=status]")

    page.click("#do-reply")
    page.wait_for_url(f"**/desk/objections/{NUMBER}/reply")
    letter = page.inner_text("body")
    for text in ("个体工商户分型异议答复书", "决定：调整", "由“生存型”调整为“发展型”", "行政复议", "行政诉讼"):
        assert text in letter, text
    assert page.is_visible("#print-letter") and page.is_visible("a:has-text('PDF')")
    page.emulate_media(media="print")
    assert page.is_hidden(".desk-toolbar")  # the letter prints without the desk's buttons

    with open_store(web_home) as store:
        row = store.get(NUMBER)
        handlers = {e["kind"]: e["handler"] for e in store.events(NUMBER)}
    assert row["status"] == "replied"
    assert handlers == {
        "filed": "登记员",
        "accepted": "王五",
        "attached": "王五",
        "rejudged": "王五",
        "decided": "王五",
        "amended": "王五",
        "replied": "王五",
    }
