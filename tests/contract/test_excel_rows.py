"""Issue 15: the Excel copies' rows are written in blocks (flows/storage/excel.py, ``_sheet_rows``), byte for byte
what xlsxwriter writes cell by cell."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import flows.storage.excel as excel

TRICKY = [
    "",
    " leading space",
    "trailing space ",
    "\u3000全角空格开头",
    "全角空格结尾\u3000",
    "a&b<c>d",
    'a "quoted" text',
    "two\nlines",
    "tab\there",
    "nul\x00and\x1fcontrol",
    "_x0041_ looks escaped",
    "<r>looks rich</r>",
    "<r>only starts",
    "郑州市金水区小店",
    "emoji 😀",
    "non-character \ufffe",
    "0141",
    "110105********002X",
    "-",
    "=1+1",
    "http://example.com",
    "9",
]


def frame(rows: int = len(TRICKY)) -> pl.DataFrame:
    texts = [TRICKY[i % len(TRICKY)] for i in range(rows)]
    return pl.DataFrame(
        {
            "代码": texts,
            "名称": [None if i % 3 == 0 else f"店{i}" for i in range(rows)],
            "判定日期": [None if i % 4 == 1 else dt.date(1900, 3, 1) + dt.timedelta(days=i * 997) for i in range(rows)],
            "人数": [None if i % 5 == 2 else (i * 7919 - 40) * (-1) ** i for i in range(rows)],
            "最大": [2**53 - 1 if i % 2 else -(2**53 - 1) for i in range(rows)],
            "空": pl.Series([None] * rows, dtype=pl.String),
        }
    ).with_columns(pl.col("人数").cast(pl.Int32))


def both(tmp_path, data: pl.DataFrame, monkeypatch) -> tuple[bytes, bytes]:
    created = dt.date(2025, 7, 31)
    assert excel._fast_path(data)
    fast = tmp_path / "fast.xlsx"
    excel.write_xlsx(data, fast, "名录", created)
    monkeypatch.setattr(excel, "_fast_path", lambda _: False)
    slow = tmp_path / "slow.xlsx"
    excel.write_xlsx(data, slow, "名录", created)
    return fast.read_bytes(), slow.read_bytes()


def test_tricky_text_dates_and_integers_give_the_bytes_xlsxwriter_gives_cell_by_cell(tmp_path, monkeypatch):
    fast, slow = both(tmp_path, frame(), monkeypatch)
    assert fast == slow


def test_blocks_sheets_and_rows_without_a_value_give_the_same_bytes(tmp_path, monkeypatch):
    monkeypatch.setattr(excel, "_BLOCK_ROWS", 3)
    monkeypatch.setattr(excel, "SHEET_ROWS", 7)
    data = frame(40)
    blank = pl.DataFrame([pl.Series(n, [None], dtype=t) for n, t in data.schema.items()])
    data = pl.concat([blank, data[:20], blank, blank, data[20:], blank, blank])
    fast, slow = both(tmp_path, data, monkeypatch)
    assert fast == slow


@pytest.mark.parametrize("rows", [0, 1])
def test_an_empty_table_and_a_single_row_give_the_same_bytes(tmp_path, monkeypatch, rows):
    fast, slow = both(tmp_path, frame(3)[:rows], monkeypatch)
    assert fast == slow


def test_a_table_the_fast_path_does_not_know_is_written_cell_by_cell():
    assert not excel._fast_path(pl.DataFrame({"x": [1.5]}))
    assert not excel._fast_path(pl.DataFrame({"x": [2**53]}))
    assert not excel._fast_path(pl.DataFrame({"x": [dt.date(1900, 2, 28)]}))
    assert not excel._fast_path(pl.DataFrame({"x": ["长" * 20_000]}))
