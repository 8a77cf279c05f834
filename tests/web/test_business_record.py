"""The business page with a 名特优新 recognition and an amendment after an objection: shown as such, and the
recognitions' operator key and money bases never shown. The tables are planted in the warehouse with their real
schemas (transforms/classification/frames.py RECOGNITION_SCHEMA; the amendments columns of
flows/objections/warehouse_tables.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import polars as pl
import pytest
from fastapi.testclient import TestClient

from flows.web.app import create_app
from tests.objections.support import SECRET, Clock
from tests.support.inbox import uscc
from tests.web.conftest import TODAY
from tests.web.support import ROOMY, copy_home
from transforms.classification.frames import RECOGNITION_SCHEMA

OPERATOR_KEY = "0123456789abcdef0123456789abcdef"


def _recognition(number: str, category: str, recognised: dt.date, status: str, ended=None) -> dict:
    return {
        "recognition_no": number,
        "uscc": uscc(3),
        "category": category,
        "region_code": "410105",
        "operator_key": OPERATOR_KEY,
        "application_no": "SQ1",
        "applied_on": recognised,
        "recognised_on": recognised,
        "valid_until": recognised.replace(year=recognised.year + 3),
        "benefits_from": recognised,
        "channel": "自主申报",
        "recommender": None,
        "round_year": recognised.year,
        "status": status,
        "ended_on": ended,
        "base_type": "成长型",
        "base_sales": Decimal("876543.21"),
        "base_tax": Decimal("12345.67"),
        "base_insured": 4,
    }


@pytest.fixture(scope="module")
def client(typed, tmp_path_factory):
    home = copy_home(typed, tmp_path_factory.mktemp("web-record") / "home")
    recognitions = pl.DataFrame(  # noqa: F841 — read by DuckDB below
        [
            _recognition("MTYX-2024-0001", "特色", dt.date(2024, 10, 1), "有效"),
            _recognition("MTYX-2023-0007", "优质", dt.date(2023, 10, 1), "撤销", dt.date(2024, 3, 1)),
        ],
        schema=RECOGNITION_SCHEMA,
    )
    con = duckdb.connect(str(home / "warehouse.duckdb"))
    con.execute("CREATE TABLE recognitions AS SELECT * FROM recognitions")
    key = con.execute("SELECT business_key FROM directory WHERE uscc = ?", [uscc(1)]).fetchall()[0][0]
    con.execute(
        "CREATE TABLE amendments AS SELECT 1::BIGINT AS amendment_id, '41' AS province, '41-20250731' AS cycle_id, "
        "? AS business_key, '生存型' AS type_before, '发展型' AS type_after, ['发展A'] AS reasons_after, "
        "['发展A'] AS conditions_met, []::VARCHAR[] AS criteria_failed, 'YY20254100001' AS objection_no, "
        "DATE '2025-09-01' AS amended_on, 'corrections-001' AS package, '王五' AS handler, '2025-09-01T10:00' AS at",
        [key],
    )
    con.close()
    return TestClient(create_app(home, secret=SECRET, limits=ROOMY, clock=Clock(TODAY)), raise_server_exceptions=False)


def test_recognitions_are_shown_with_their_validity_and_never_their_key_or_money(client):
    page = client.get(f"/business/{uscc(3)}").text
    assert "MTYX-2024-0001" in page and "特色" in page and "2027-10-01" in page
    assert "MTYX-2023-0007" in page and "撤销（2024-03-01）" in page
    for hidden in (OPERATOR_KEY, "876543", "876,543", "12345.67", "12,345", "王五"):
        assert hidden not in page


def test_an_amended_type_is_shown_as_an_amendment(client):
    page = client.get(f"/business/{uscc(1)}").text
    assert "发展型" in page
    assert "经异议更正：原分型结果为 生存型，2025-09-01 更正为 发展型" in page
    assert "YY20254100001" not in page and "王五" not in page


def test_the_search_list_shows_the_amended_type(client):
    page = client.get("/search", params={"q": uscc(1)}).text
    assert "发展型（经异议更正）" in page
