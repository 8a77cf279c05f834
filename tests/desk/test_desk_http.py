"""The handlers' desk over plain HTTP (flows/web/desk.py): no /desk address serves an anonymous request, no form
post is taken without its CSRF token, wrong passwords are refused and throttled, a disabled account is out at once,
and every step is recorded under the logged-in account's handler name."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from flows.objections.accounts import LOCK_AFTER, WINDOW, open_accounts
from flows.objections.desk import import_objections
from flows.objections.store import open_store
from flows.web.app import create_app
from tests.objections.support import SECRET, desk_for, objection_row
from tests.support.inbox import resident_id, write_csv

PASSWORD = "金水区-窗口-2025秋"
NUMBER = "YY-2025-0001"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def home(desk_home, tmp_path, cheap_hashes):
    desk, _ = desk_for(desk_home)
    row = objection_row(NUMBER, 1, 异议理由="<script>alert('x')</script>上年度已纳税")
    import_objections(desk, write_csv(tmp_path / "objection.csv", [row]), "登记员")
    with open_accounts(desk_home) as accounts:
        accounts.add("wangwu", "王五", PASSWORD)
        accounts.add("zhaoliu", "赵六", PASSWORD)
    return desk_home


@pytest.fixture
def client(home, clock):
    with TestClient(create_app(home, secret=SECRET, clock=clock), follow_redirects=False) as c:
        yield c


def token(client, path="/desk/login") -> str:
    page = client.get(path, follow_redirects=True)
    return TOKEN.search(page.text).group(1)


def log_in(client, login="wangwu", password=PASSWORD):
    return client.post("/desk/login", data={"login": login, "password": password, "csrf_token": token(client)})


def every_route(routes):
    """Routes of the app, also those of included routers (FastAPI 0.150 keeps them behind ``original_router``)."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from every_route(route.original_router.routes)
        else:
            yield route


def desk_routes(app) -> list[tuple[str, str]]:
    found = []
    for route in every_route(app.routes):
        path = getattr(route, "path", "")
        if path.startswith("/desk") and path != "/desk/login":
            found += [(method, path.replace("{objection_no}", NUMBER)) for method in sorted(route.methods - {"HEAD"})]
    return found


def test_every_desk_address_refuses_an_anonymous_request(client):
    routes = desk_routes(client.app)
    assert {p for _, p in routes} >= {
        "/desk",
        "/desk/logout",
        f"/desk/objections/{NUMBER}",
        f"/desk/objections/{NUMBER}/accept",
        f"/desk/objections/{NUMBER}/refuse",
        f"/desk/objections/{NUMBER}/attach",
        f"/desk/objections/{NUMBER}/rejudge",
        f"/desk/objections/{NUMBER}/decide",
        f"/desk/objections/{NUMBER}/reply",
    }
    csrf = token(client)  # an anonymous session with a valid token: the token alone opens nothing
    for method, path in routes:
        if method == "GET":
            answer = client.get(path)
            if answer.status_code == 303:
                assert answer.headers["location"].startswith("/desk/login?next="), path
            else:
                assert answer.status_code == 403, path
            assert NUMBER not in answer.text or "登录" in answer.text
        else:
            answer = client.request(method, path, data={"csrf_token": csrf, "decision": "维持", "reasons": "x"})
            assert answer.status_code == 403, (method, path)
    with open_store(client.app.state.web.home) as store:
        assert store.get(NUMBER)["status"] == "received"
        assert [e["kind"] for e in store.events(NUMBER)] == ["filed"]


def test_a_post_without_its_csrf_token_is_refused(client):
    assert log_in(client).status_code == 303
    assert client.post(f"/desk/objections/{NUMBER}/accept").status_code == 403
    assert client.post(f"/desk/objections/{NUMBER}/accept", data={"csrf_token": "forged"}).status_code == 403
    with open_store(client.app.state.web.home) as store:
        assert store.get(NUMBER)["status"] == "received"
    csrf = token(client, f"/desk/objections/{NUMBER}")
    done = client.post(f"/desk/objections/{NUMBER}/accept", data={"csrf_token": csrf})
    assert done.status_code == 303 and done.headers["location"] == f"/desk/objections/{NUMBER}"
    page = client.get(done.headers["location"])
    assert "已受理，决定期限 2025-09-08" in page.text
    with open_store(client.app.state.web.home) as store:
        assert store.get(NUMBER)["status"] == "accepted"
        assert store.events(NUMBER)[-1]["handler"] == "王五"  # the account's handler, not a name typed in a form


def test_a_login_form_without_its_token_is_refused(client):
    answer = client.post("/desk/login", data={"login": "wangwu", "password": PASSWORD})
    assert answer.status_code == 403 and "getihu_session" not in answer.headers.get("set-cookie", "")


def test_a_wrong_password_is_refused_and_then_throttled(client, clock):
    for _ in range(LOCK_AFTER):
        refused = log_in(client, password="not-the-password")
        assert refused.status_code == 401 and "登录名或密码不对" in refused.text
        assert "not-the-password" not in refused.text
    throttled = log_in(client)  # the right password, too late
    assert throttled.status_code == 429 and "登录失败次数过多，请 15 分钟后再试" in throttled.text
    assert client.get("/desk").status_code == 303
    clock.advance(seconds=WINDOW.total_seconds() + 1)
    assert log_in(client).status_code == 303
    assert client.get("/desk").status_code == 200


def test_an_unknown_login_is_refused_with_the_same_words(client):
    answer = log_in(client, login="nobody")
    assert answer.status_code == 401 and "登录名或密码不对，或账号已停用" in answer.text


def test_a_disabled_account_cannot_log_in_and_its_open_session_ends(client, home):
    assert log_in(client, "zhaoliu").status_code == 303
    assert client.get("/desk").status_code == 200
    with open_accounts(home) as accounts:
        accounts.set_active("zhaoliu", False)
    assert client.get("/desk").status_code == 303  # the session ended with the account
    assert log_in(client, "zhaoliu").status_code == 401


def test_logging_in_replaces_the_session_and_goes_only_to_a_desk_address(client):
    before = token(client)
    answer = client.post(
        "/desk/login",
        data={"login": "wangwu", "password": PASSWORD, "csrf_token": before, "next": "//example.com/desk"},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/desk"
    assert token(client, "/desk") != before  # a new session: the anonymous one's token is gone
    assert client.post("/desk/logout", data={"csrf_token": before}).status_code == 403
    assert client.post("/desk/logout", data={"csrf_token": token(client, "/desk")}).status_code == 303
    assert client.get("/desk").status_code == 303


def test_the_objection_page_shows_the_case_as_the_terminal_does_and_escapes_what_was_filed(client):
    log_in(client)
    queue = client.get("/desk")
    assert NUMBER in queue.text and "郑州市金水区小店1号" in queue.text
    page = client.get(f"/desk/objections/{NUMBER}")
    assert page.status_code == 200
    for text in ("138****5678", "待受理", "不予受理", "受理", "各期分型", "NO_CONDITION", "多个候选", "不计入"):
        assert text in page.text, text
    assert "duplicate_conflict" in page.text and "经营者证件" in page.text
    assert "13812345678" not in page.text and resident_id(1) not in page.text
    assert "<script>alert" not in page.text and "&lt;script&gt;alert" in page.text
    assert client.get("/desk/objections/NO-SUCH").status_code == 404
    assert client.get(f"/desk/objections/{NUMBER}/reply").status_code == 404  # nothing to answer yet


def test_a_refusal_answered_from_the_desk_prints_the_letter_as_sent(client, clock):
    log_in(client)
    csrf = token(client, f"/desk/objections/{NUMBER}")
    refused = client.post(
        f"/desk/objections/{NUMBER}/refuse", data={"csrf_token": csrf, "reason": "DUPLICATE", "note": "已有一件"}
    )
    assert refused.status_code == 303
    assert "不予受理：DUPLICATE" in client.get(refused.headers["location"]).text
    preview = client.get(f"/desk/objections/{NUMBER}/reply")
    assert preview.status_code == 200 and "预览" in preview.text and "个体工商户分型异议不予受理通知书" in preview.text
    answered = client.post(f"/desk/objections/{NUMBER}/reply", data={"csrf_token": csrf})
    assert answered.status_code == 303 and answered.headers["location"] == f"/desk/objections/{NUMBER}/reply"
    clock.advance(days=3)  # the letter printed later is still the one sent, dated the day of the reply
    letter = client.get(answered.headers["location"])
    assert "2025年8月11日" in letter.text and "2025年8月14日" not in letter.text
    assert "同一户对同一分型周期已有尚未办结的异议" in letter.text
    assert '<link rel="stylesheet" href="/desk/letter.css">' in letter.text and "<style>" not in letter.text
    assert "size: A4" in client.get("/desk/letter.css").text
    pdf = client.get(f"/desk/objections/{NUMBER}/reply.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    with open_store(client.app.state.web.home) as store:
        assert store.get(NUMBER)["status"] == "replied"
        assert [e["handler"] for e in store.events(NUMBER)][-2:] == ["王五", "王五"]
