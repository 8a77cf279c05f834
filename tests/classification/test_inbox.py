"""The classification inbox: the cycle's readers and row rules, resident IDs keyed at ingest, quarantine."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from flows.classification.inbox import read_classification_inbox
from transforms.validate import Context

SECRET = b"test-secret-inbox"
CONTEXT = Context(extracted_on=dt.date(2025, 11, 30), province="41", regions=("410102",), sections={"62": "H"})
USCC = "92410102MA6GWHJ5HN"
GOOD_ID = "410329196011121610"
BAD_ID = "410329196011121611"


def write(folder, name, text, encoding="utf-8"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(text.encode(encoding))


@pytest.fixture
def inbox(tmp_path):
    folder = tmp_path / "classification"
    write(
        folder,
        "application.csv",
        "申报编号,统一社会信用代码,申报类别,申报日期,来源,推荐部门,经营者同意,放宽情形\n"
        f"A1,{USCC},知名,2025-08-20,自主申报,,,\n"
        f"A2,{USCC},名优,2025-08-20,自主申报,,,\n"  # unknown category
        f"A3,{USCC},特色,2025/08/21,部门推荐,,是,\n"  # 部门推荐 without 推荐部门
        f"A4,{USCC},特色,20250822,部门推荐,文旅局,否,退役军人\n"
        f"A1,{USCC},优质,2025-08-20,自主申报,,,\n",  # same 申报编号, different content
    )
    write(
        folder,
        "credential.csv",
        "统一社会信用代码,类型,级别,取得日期,有效期至,发证机关,证书编号\n"
        f"{USCC},老字号,县,2020-01-01,,县人民政府,Z1\n"
        f"{USCC},金牌,县,2020-01-01,,县人民政府,Z2\n",
        encoding="gb18030",
    )
    write(
        folder,
        "dishonest_debtor.csv",
        f"姓名,身份证件号码,发布日期,移除日期\n王军,{GOOD_ID},2024-03-01,\n李四,{BAD_ID},2024-03-01,\n",
    )
    return folder


def test_rows_are_typed_keyed_and_quarantined(inbox):
    inputs = read_classification_inbox(inbox, SECRET, CONTEXT)
    apps = inputs.tables["application"]
    assert apps["application_no"].to_list() == ["A4"]
    assert apps["applied_on"].to_list() == [dt.date(2025, 8, 22)] and apps["consent"].to_list() == [False]
    q = inputs.quarantine
    rules = set(zip(q["file"], q["line"], q["column"], q["rule"], strict=True))
    assert ("classification/application.csv", 3, "申报类别", "enum_unknown") in rules
    assert ("classification/application.csv", 4, "推荐部门", "required") in rules
    assert ("classification/application.csv", 2, "申报编号", "duplicate_conflict") in rules
    assert ("classification/credential.csv", 3, "类型", "enum_unknown") in rules  # GB18030 read like the cycle's
    debtors = inputs.tables["dishonest_debtor"]
    assert debtors.height == 1 and "person_id" not in debtors.columns
    assert debtors["person_key"][0] and debtors["person_key"][0] != GOOD_ID
    bad = q.filter(pl.col("rule") == "resident_id_check")
    assert bad["value"].to_list() == ["410329**********11"]  # masked, never in clear
    assert GOOD_ID not in str(inputs.tables) and BAD_ID not in str(q.to_dicts())


def test_a_missing_folder_gives_empty_tables(tmp_path):
    inputs = read_classification_inbox(tmp_path / "none", SECRET, CONTEXT)
    assert all(t.is_empty() for t in inputs.tables.values()) and inputs.quarantine.is_empty()


def test_an_empty_file_with_a_personal_column(tmp_path):
    folder = tmp_path / "classification"
    write(folder, "info_report.csv", "统一社会信用代码,报告年度,报送日期,经营者变更,新经营者身份证件号码\n")
    assert read_classification_inbox(folder, SECRET, CONTEXT).tables["info_report"].is_empty()
