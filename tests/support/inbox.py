"""Small inboxes built in tests: valid codes made with schemas.codes, files written in any contract format."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import polars as pl

from flows.home import Cycle
from schemas.codes import resident_id_check_char, uscc_check_char

SECRET = b"test-secret-not-for-production"
AS_OF = dt.date(2025, 7, 31)


def uscc(seq: int, prefix: str = "92") -> str:
    body = f"{prefix}410105{seq:09d}"
    return body + uscc_check_char(body)


def resident_id(seq: int, born: dt.date = dt.date(1980, 5, 17)) -> str:
    body = f"410105{born:%Y%m%d}{seq:03d}"
    return body + resident_id_check_char(body)


def registration_row(seq: int, **overrides: str) -> dict[str, str]:
    row = {
        "统一社会信用代码": uscc(seq),
        "注册号": "",
        "名称": f"郑州市金水区小店{seq}号",
        "经营者姓名": "张三",
        "经营者身份证件号码": resident_id(seq),
        "组成形式": "个人经营",
        "行业代码": "H6210",
        "行政区划代码": "410105",
        "成立日期": "2015-03-01",
        "登记状态": "存续",
        "季节性经营": "否",
        "经营场所": "金水路1号",
        "资金数额（万元）": "5",
    }
    row.update(overrides)
    return row


def csv_bytes(rows: list[dict[str, str]], encoding: str = "utf-8", headers: list[str] | None = None) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=headers or list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


def write_csv(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8", headers: list[str] | None = None):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(rows, encoding, headers))
    return path


def write_xlsx(path: Path, rows: list[dict[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(rows).write_excel(path)
    return path


def cycle(home: Path, inbox: Path, **kw) -> Cycle:
    return Cycle(province="41", as_of=AS_OF, home=home, secret=SECRET, inbox=inbox, **kw)


def valid_row(source: str, seq: int) -> dict[str, str]:
    """One valid row of ``source`` with its contract headers (money in 元); ``seq`` makes keys distinct."""
    business = uscc(seq)
    rows = {
        "registration": registration_row(seq),
        "annual_report": {
            "统一社会信用代码": business,
            "报告年度": "2024",
            "报送日期": "2025-03-15",
            "营业额或营业收入（元）": "350000",
            "纳税总额（元）": "1200.50",
            "从业人数": "3",
            "是否有网站或网店": "否",
        },
        "abnormal_list": {
            "统一社会信用代码": business,
            "列入日期": f"2023-01-{seq % 28 + 1:02d}",
            "列入原因": "未年报",
            "移出日期": "",
        },
        "serious_list": {"统一社会信用代码": business, "列入日期": "2022-06-01", "移出日期": "2023-06-01"},
        "suspension": {
            "统一社会信用代码": business,
            "歇业起始日期": "2024-01-01",
            "歇业截止日期": "2026-12-31",
            "终止歇业日期": "",
        },
        "penalty": {
            "统一社会信用代码": business,
            "决定书文号": f"金市监罚〔2024〕{seq}号",
            "处罚决定日期": "2024-05-06",
            "处罚种类": "罚款",
            "罚没金额（元）": "2000",
            "信用修复日期": "",
        },
        "taxpayer": {
            "纳税人识别号": business,
            "纳税人名称": f"小店{seq}号",
            "一般纳税人登记日期": "2020-01-01",
            "一般纳税人注销日期": "",
        },
        "tax_abnormal": {"纳税人识别号": resident_id(seq) + "01", "认定日期": "2024-02-01", "解除日期": "2024-08-01"},
        "tax_payment": {
            "纳税人识别号": business,
            "税种": "增值税",
            "税款所属期起": "2024-01-01",
            "税款所属期止": "2024-03-31",
            "入库日期": "2024-04-15",
            "实缴金额（元）": "-150.25",
        },
        "social_security": {
            "单位统一社会信用代码": business,
            "个人身份证件号码": resident_id(seq + 500),
            "险种": "失业保险",
            "费款所属期": "202405",
            "缴费方式": "单位缴纳",
            "缴费金额（元）": "48.00",
        },
        "trademark": {
            "注册号": f"{30000000 + seq}",
            "注册人名称": f"小店{seq}号",
            "注册人证件号码": resident_id(seq),
            "注册人地址": "河南省郑州市金水区",
            "国际分类": "43",
            "注册日期": "2019-05-07",
            "专用权期限截止日期": "2029-05-06",
            "商标状态": "注册",
        },
        "patent": {
            "申请号": f"CN2023{seq:07d}.X",
            "专利类型": "外观设计",
            "专利权人": "张三；李四",
            "专利权人地址": "河南省郑州市金水区",
            "授权公告日": "2024-01-09",
            "法律状态": "有效",
        },
    }
    return dict(rows[source])
