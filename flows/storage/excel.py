"""The Excel copies beside the contract files of a cycle folder (outputs.md: "files for people beside the contract
files"): ``.xlsx`` workbooks whose code columns are text cells, and a UTF-8 CSV with a byte-order mark.

Windows Excel reads a UTF-8 CSV correctly only with a BOM, and turns ``0141`` into 141 and a 15-digit 注册号 into
``1.50102E+14`` unless the cell is text: every cell holding a string is written as a string (no conversion of
numbers, formulas or links). The workbook's creation time is the cycle's as-of date, so reruns give the same bytes.
A sheet holds at most 1 048 575 rows under its header; a larger table continues on the next sheet.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import xlsxwriter

#: Rows of data per sheet: Excel's limit of 1 048 576 rows, one of them the header.
SHEET_ROWS = 1_048_575

_OPTIONS = {
    "constant_memory": True,
    "strings_to_numbers": False,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "default_date_format": "yyyy-mm-dd",
}


def _width(frame: pl.DataFrame, column: str) -> float:
    sample = frame.get_column(column).head(1000).cast(pl.String).drop_nulls()
    longest = max([len(column), *(len(v) for v in sample)])
    return min(60.0, 2.0 + longest * (2.0 if not column.isascii() else 1.1))


def write_xlsx(frame: pl.DataFrame, path: Path, sheet: str, created: dt.date) -> None:
    """``frame`` as ``path``: a header row in bold, frozen; strings as text cells, dates as dates, nulls empty."""
    write_workbook({sheet: frame}, path, created, title=sheet)


def write_workbook(sheets: dict[str, pl.DataFrame], path: Path, created: dt.date, title: str) -> None:
    """Several frames as the sheets of one workbook, in the given order, each written as ``write_xlsx`` writes one."""
    workbook = xlsxwriter.Workbook(str(path), _OPTIONS)
    try:
        workbook.set_properties({"created": dt.datetime.combine(created, dt.time()), "title": title})
        bold = workbook.add_format({"bold": True})
        date = workbook.add_format({"num_format": "yyyy-mm-dd"})
        for sheet, frame in sheets.items():
            _write_sheets(workbook, frame, sheet, bold, date)
    finally:
        workbook.close()


def _write_sheets(workbook: xlsxwriter.Workbook, frame: pl.DataFrame, sheet: str, bold, date) -> None:
    widths = [_width(frame, c) for c in frame.columns]
    starts = range(0, max(frame.height, 1), SHEET_ROWS)
    for page, start in enumerate(starts, 1):
        sheet_name = sheet if page == 1 else f"{sheet}（{page}）"
        worksheet = workbook.add_worksheet(sheet_name)
        for i, column in enumerate(frame.columns):
            worksheet.set_column(i, i, widths[i])
            worksheet.write_string(0, i, column, bold)
        worksheet.freeze_panes(1, 0)
        for r, row in enumerate(frame.slice(start, SHEET_ROWS).iter_rows(), 1):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, str):
                    worksheet.write_string(r, c, value)
                elif isinstance(value, dt.date):
                    worksheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date)
                else:
                    worksheet.write_number(r, c, value)


def write_excel_csv(frame: pl.DataFrame, path: Path) -> None:
    """``frame`` as a CSV Windows Excel opens: UTF-8 with a byte-order mark, CRLF line ends."""
    frame.write_csv(path, include_bom=True, line_terminator="\r\n")
