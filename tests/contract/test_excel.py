"""Issue 14, finding 2: the cycle folder's Excel copies open in Chinese Excel — code columns are text cells with
their zeros, headers are Chinese, the quarantine names each rule in Chinese — and the contract files stay exact."""

import datetime as dt
from dataclasses import replace

import openpyxl
import polars as pl
import pytest

from flows.home import CHINA_TIME
from flows.stages.publish import publish
from schemas.outputs import EXCEL_CSV, RULE_LABELS, SUBMISSION_HEADERS
from schemas.sources import RULES
from tests.support.stage_fixture import Fixture, write_cycle

CODE_HEADERS = ["统一社会信用代码", "注册号", "行政区划代码", "行业代码"]


def at(hour: int) -> dt.datetime:
    return dt.datetime(2025, 8, 1, hour, tzinfo=CHINA_TIME)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    fixture = Fixture()
    # a class registered without its section letter and with a leading zero: 0141, division 01 农业 of section A
    businesses = [replace(fixture.businesses[0], industry="0141"), *fixture.businesses[1:]]
    cycle = write_cycle(tmp_path_factory.mktemp("excel"), replace(fixture, businesses=businesses))
    publish(cycle, clock=lambda: at(2))
    return cycle.out_dir


def sheet_rows(path):
    workbook = openpyxl.load_workbook(path, read_only=True)
    return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


def test_submission_xlsx_keeps_codes_as_text_with_their_zeros_under_chinese_headers(folder):
    rows = sheet_rows(folder / "submission.xlsx")
    header, body = rows[0], rows[1:]
    assert header[:5] == list(SUBMISSION_HEADERS.values())[:5]
    assert header[5:8] == ["行业门类大类（如 H62）", "行业门类名称", "行业大类名称"]
    contract = pl.read_csv(folder / "submission.csv", infer_schema=False)
    assert len(body) == contract.height
    for name in CODE_HEADERS:
        column = [r[header.index(name)] for r in body]
        assert all(v is None or isinstance(v, str) for v in column), name
        assert column == [v for v in contract[name]], f"{name} as delivered, zeros kept"
    industry = [r[header.index("行业代码")] for r in body]
    normalised = [r[header.index("行业门类大类（如 H62）")] for r in body]
    assert ("0141", "A01") in set(zip(industry, normalised, strict=True))
    assert any(n and n[0].isalpha() and len(n) == 3 for n in normalised)


def test_reg_no_of_15_digits_stays_text(folder):
    rows = sheet_rows(folder / "submission.xlsx")
    reg_nos = [r[rows[0].index("注册号")] for r in rows[1:] if r[rows[0].index("注册号")]]
    assert reg_nos and all(isinstance(v, str) and len(v) == 15 and v.isdigit() for v in reg_nos)


def test_quarantine_xlsx_has_chinese_headers_and_each_rule_meaning_beside_its_code(folder):
    rows = sheet_rows(folder / "quarantine.xlsx")
    assert rows[0] == [
        "数据来源代码",
        "数据来源",
        "文件",
        "行号",
        "列",
        "报送值（个人证件号码已遮蔽）",
        "规则代码",
        "规则说明",
    ]
    assert len(rows) - 1 == pl.read_csv(folder / "quarantine.csv").height
    for row in rows[1:]:
        assert row[7] == RULE_LABELS[row[6]]
        assert row[1] and not row[1].isascii()


def test_every_quarantine_rule_has_a_chinese_meaning():
    assert set(RULE_LABELS) == set(RULES)
    assert all(not label.isascii() for label in RULE_LABELS.values())


def test_the_excel_csv_has_a_bom_and_the_contract_csv_has_none(folder):
    assert (folder / EXCEL_CSV).read_bytes().startswith(b"\xef\xbb\xbf")
    assert not (folder / "submission.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    raw = (folder / EXCEL_CSV).read_bytes()
    assert raw.decode("utf-8-sig").startswith("统一社会信用代码,") and raw.count(b"\r\n") == raw.count(b"\n")


def test_public_files_leave_out_rows_with_neither_uscc_nor_name(folder):
    submission = pl.read_csv(folder / "submission.csv", infer_schema=False)
    public = pl.read_csv(folder / "public.csv", infer_schema=False)
    findable = submission.filter(pl.col("统一社会信用代码").is_not_null() | pl.col("名称").is_not_null())
    assert public.height == findable.height
    assert public.filter(pl.col("统一社会信用代码").is_null() & pl.col("名称").is_null()).is_empty()
    assert len(sheet_rows(folder / "public.xlsx")) - 1 == public.height


def test_the_excel_copies_are_byte_identical_between_runs(tmp_path):
    made = []
    for run in ("a", "b"):
        cycle = write_cycle(tmp_path / run)
        publish(cycle, clock=lambda run=run: at(2 if run == "a" else 5))
        made.append({n: (cycle.out_dir / n).read_bytes() for n in ("submission.xlsx", "quarantine.xlsx", EXCEL_CSV)})
    assert made[0] == made[1]
