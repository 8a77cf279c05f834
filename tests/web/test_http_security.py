"""The web front's security as plain HTTP (FastAPI's TestClient, no browser): no personal data or money in any
public response, CSRF, bound parameters, size and rate limits, headers, error pages without a traceback."""

from __future__ import annotations

import re

import duckdb
import polars as pl
import pytest
from fastapi.testclient import TestClient

from flows.objections.store import Store
from flows.storage.name_index import INDEX_TABLES
from flows.web import public_data
from flows.web.app import create_app
from flows.web.security import WebLimits
from tests.objections.support import SECRET, Clock
from tests.support.inbox import resident_id, uscc
from tests.web.conftest import TODAY
from tests.web.support import ROOMY, copy_home

PHONE = "13812345678"
NAMES = [f"郑州市金水区小店{n}号" for n in (1, 2, 3, 4)]


@pytest.fixture(scope="module")
def home(typed, tmp_path_factory):
    return copy_home(typed, tmp_path_factory.mktemp("web-http") / "home")


def client_for(home, limits: WebLimits = ROOMY) -> TestClient:
    app = create_app(home, secret=SECRET, limits=limits, clock=Clock(TODAY))
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture(scope="module")
def client(home):
    return client_for(home)


def _token(client: TestClient, path: str = "/objection") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def _objection(seq: int, operator_id: str, **extra) -> dict[str, str]:
    return {
        "uscc": uscc(seq),
        "operator_name": "张三",
        "operator_id": operator_id,
        "claimed_type": "发展型",
        "grounds": "上年度已缴纳税款",
        "phone": PHONE,
    } | extra


def _planted(home) -> set[str]:
    """Personal data and money the home holds: resident IDs, their keys, the operator's name, the phone filed,
    the annual reports' sales and the registrations' capital."""
    registration = pl.read_parquet(next((home / "work" / "41").glob("*/accepted/registration.parquet")))
    values = {resident_id(n) for n in (1, 2, 3, 4)} | set(registration["operator_key"].drop_nulls())
    values |= {"张三", PHONE, "138****5678", "100,000", "5万"}
    return values


#: The money of the home (sales 100000 yuan, capital 50000 yuan), as a number standing alone (not inside a code).
MONEY = re.compile(r"(?<![0-9])(100000|50000)(?:\.00)?(?![0-9])")


def test_no_personal_data_or_money_in_any_public_response(client, home):
    filed = client.post("/objection", data=_objection(1, resident_id(1), csrf_token=_token(client)))
    assert filed.status_code == 200 and "异议已提交" in filed.text
    pages = ["/", "/search?q=小店", "/standard/41", "/standard/23", "/objection", "/nope"]
    pages += [f"/search?q={uscc(n)}" for n in (1, 2, 3, 4)] + [f"/business/{uscc(n)}" for n in (1, 2, 3, 4)]
    responses = {path: client.get(path) for path in pages} | {"POST /objection": filed}
    planted = _planted(home)
    for where, response in responses.items():
        for value in planted:
            assert value not in response.text, f"{where} shows {value}"
        assert not MONEY.search(response.text), f"{where} shows money"
    assert all(name in responses["/search?q=小店"].text for name in NAMES)  # the scan looked at real pages
    by_operator = client.get("/search", params={"q": "张三"})  # the text typed is shown back; nothing is found
    assert "没有找到" in by_operator.text and not any(name in by_operator.text for name in NAMES)


def test_public_pages_read_public_columns_only():
    forbidden = {
        "operator_key",
        "operator_id",
        "operator_name",
        "base_sales",
        "base_tax",
        "base_insured",
        "score",
        "reasons",
        "reasons_after",
        "conditions_met",
        "criteria_failed",
        "filed_by",
        "phone_masked",
        "grounds",
        "tax_paid_prev_year",
        "sales_prev_year",
        "capital_yuan",
        "value",
        "holder_key",
    }
    listed = {column for columns in public_data.PUBLIC_COLUMNS.values() for column in columns}
    assert not listed & forbidden
    assert set(public_data.PUBLIC_COLUMNS) == {
        "directory",
        "cycles",
        "regions",
        "amendments",
        "recognitions",
        *INDEX_TABLES,  # the name index: a copy of public columns of directory, and grams of its names
    }
    for table in ("features", "quarantine", "linkage", "objections", "objection_events", "applications"):
        with pytest.raises(KeyError):
            public_data.public(table)


def test_a_form_post_without_its_csrf_token_is_refused(client, home):
    with Store(home) as store:
        before = len(store.all())
    missing = client.post("/objection", data=_objection(2, resident_id(2)))
    forged = client.post("/objection", data=_objection(2, resident_id(2), csrf_token="forged-token"))
    other = client_for(home)  # another visitor's token is not this session's
    stolen = other.post("/objection", data=_objection(2, resident_id(2), csrf_token=_token(client)))
    for refused in (missing, forged, stolen):
        assert refused.status_code == 403
        assert "请求被拒绝" in refused.text
    with Store(home) as store:
        assert len(store.all()) == before


@pytest.mark.parametrize("text", ["' OR 1=1 --", "%", "_", "[/]", "小店%", "'; DROP TABLE directory; --", '"'])
def test_an_injection_shaped_search_is_harmless_and_bound(client, text):
    response = client.get("/search", params={"q": text})
    assert response.status_code == 200
    assert "没有找到" in response.text  # no pattern, no SQL: none of the four names contains these characters
    assert not any(name in response.text for name in NAMES)
    assert all(name in client.get("/search", params={"q": "小店"}).text for name in NAMES)  # the table is intact


def test_a_request_over_the_size_limit_is_refused_in_chinese(home):
    small = client_for(home, WebLimits(max_body=2048, search="1000/minute", filing="1000/minute"))
    response = small.post("/objection", data=_objection(3, resident_id(3), grounds="理" * 5000))
    assert response.status_code == 413
    assert "提交的内容太大" in response.text


def test_searches_and_filings_over_the_rate_limit_are_refused_in_chinese(home):
    strict = client_for(home, WebLimits(search="3/minute", filing="1/minute"))
    answers = [strict.get("/search", params={"q": "小店"}).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    limited = strict.get(f"/business/{uscc(1)}")
    assert limited.status_code == 429 and "请求过于频繁" in limited.text
    token = _token(strict)
    first = strict.post("/objection", data=_objection(3, resident_id(9), csrf_token=token))
    second = strict.post("/objection", data=_objection(3, resident_id(9), csrf_token=token))
    assert first.status_code == 403  # wrong ID: refused, but it counts
    assert second.status_code == 429 and "请求过于频繁" in second.text


def test_security_headers_on_pages_and_errors(client, home):
    for response in (client.get("/"), client.get("/nope"), client.get("/static/site.css")):
        headers = response.headers
        assert "default-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
    cookie = client_for(home).get("/objection").headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()


def test_error_pages_are_chinese_and_carry_no_traceback(home, monkeypatch):
    client = client_for(home)

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals /work/home/warehouse.duckdb")

    monkeypatch.setattr(public_data, "search", broken)
    failed = client.get("/search", params={"q": "小店"})
    assert failed.status_code == 500
    assert "系统出错了" in failed.text
    for leak in ("Traceback", "RuntimeError", "secret internals", "warehouse.duckdb", ".py"):
        assert leak not in failed.text
    missing = client.get("/business/000000000000000000")
    assert missing.status_code == 404 and "找不到这个页面" in missing.text
    bad = client.get("/search", params={"q": "小店", "page": "abc"})
    assert bad.status_code == 400 and "请求有误" in bad.text and "int_parsing" not in bad.text


def test_an_objection_for_an_unknown_business_or_a_bad_id_is_not_filed(client, home):
    with Store(home) as store:
        before = len(store.all())
    unknown = client.post("/objection", data=_objection(8, resident_id(8), csrf_token=_token(client)))
    assert unknown.status_code == 400 and "没有查到" in unknown.text
    malformed = client.post("/objection", data=_objection(2, "12345", csrf_token=_token(client)))
    assert malformed.status_code == 400 and "18位居民身份证号码" in malformed.text
    with Store(home) as store:
        assert len(store.all()) == before


def test_a_name_matching_too_many_businesses_asks_for_more_of_the_name(client, monkeypatch):
    monkeypatch.setattr(public_data, "MAX_MATCHES", 2)
    page = client.get("/search", params={"q": "小店"}).text
    assert "超过 2 户" in page and "请输入更完整的名称" in page
    assert sum(name in page for name in NAMES) == 2  # the first MAX_MATCHES found, sorted by name


def test_the_public_pages_need_nothing_but_the_public_columns(typed, tmp_path):
    """Every public page works on a warehouse cut down to ``PUBLIC_COLUMNS``: they read nothing else."""
    home = copy_home(typed, tmp_path / "home")
    con = duckdb.connect(str(home / "warehouse.duckdb"))
    for table in INDEX_TABLES:  # built at publish, of public columns only (nothing dropped below)
        assert [c for (c, *_) in con.execute(f"DESCRIBE {table}").fetchall()] == list(public_data.PUBLIC_COLUMNS[table])
    for (view,) in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall():
        con.execute(f'DROP VIEW "{view}"')
    for (table,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
        if table in public_data.PUBLIC_COLUMNS:
            con.execute(f"CREATE TABLE kept AS SELECT * FROM {public_data.public(table)}")
            con.execute(f'DROP TABLE "{table}"')
            con.execute(f'ALTER TABLE kept RENAME TO "{table}"')
        else:
            con.execute(f'DROP TABLE "{table}"')
    con.close()
    client = client_for(home)
    pages = ["/", "/search?q=小店", "/standard/41", f"/objection?uscc={uscc(1)}"]
    pages += [f"/search?q={uscc(n)}" for n in (1, 2, 3, 4)] + [f"/business/{uscc(n)}" for n in (1, 2, 3, 4)]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
    assert all(name in client.get("/search", params={"q": "小店"}).text for name in NAMES)
