"""Small inboxes built in tests: valid codes made with transforms.codes, files written in any contract format."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import polars as pl

from flows.context import Cycle
from transforms.codes import resident_id_check_char, uscc_check_char

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
