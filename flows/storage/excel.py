"""The Excel copies beside the contract files of a cycle folder (outputs.md: "files for people beside the contract
files"): ``.xlsx`` workbooks whose code columns are text cells, and a UTF-8 CSV with a byte-order mark.

Windows Excel reads a UTF-8 CSV correctly only with a BOM, and turns ``0141`` into 141 and a 15-digit 注册号 into
``1.50102E+14`` unless the cell is text: every cell holding a string is written as a string (no conversion of
numbers, formulas or links). The workbook's creation time is the cycle's as-of date, so reruns give the same bytes.
A sheet holds at most 1 048 575 rows under its header; a larger table continues on the next sheet.

xlsxwriter spends ~10 µs of Python on each cell (a million-row submission: minutes). Its ``constant_memory`` mode
writes each row's XML to a scratch file as it goes; :func:`_sheet_rows` writes that same XML for a whole block of
rows at once, with Polars string expressions, byte for byte what xlsxwriter would write (tests compare the two on
tricky values), and xlsxwriter writes the rest of the workbook as before. A cell whose text needs xlsxwriter's
escapes (control characters, ``_xHHHH_``, surrounding whitespace, rich-text markup) is written by xlsxwriter's own
cell writer; a table with a type the fast path does not know is written cell by cell (:func:`_write_cells`).
"""

from __future__ import annotations

import datetime as dt
import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import CellStringTuple, Worksheet

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
    fast = _fast_path(frame)
    for page, start in enumerate(starts, 1):
        sheet_name = sheet if page == 1 else f"{sheet}（{page}）"
        worksheet = workbook.add_worksheet(sheet_name)
        for i, column in enumerate(frame.columns):
            worksheet.set_column(i, i, widths[i])
            worksheet.write_string(0, i, column, bold)
        worksheet.freeze_panes(1, 0)
        rows = frame.slice(start, SHEET_ROWS)
        if fast:
            _sheet_rows(worksheet, rows, date)
        else:
            _write_cells(worksheet, rows, date)


def write_xlsx_files(tables: dict[Path, tuple[pl.DataFrame, str]], created: dt.date) -> None:
    """Each ``path: (frame, sheet)`` of ``tables`` as :func:`write_xlsx` writes it, the workbooks side by side: most of
    a workbook's time is Polars building its rows and zlib compressing them, both outside the GIL."""
    with ThreadPoolExecutor(max_workers=len(tables) or 1) as pool:
        written = [pool.submit(write_xlsx, frame, path, sheet, created) for path, (frame, sheet) in tables.items()]
        for future in written:
            future.result()


def _write_cells(worksheet: Worksheet, rows: pl.DataFrame, date: xlsxwriter.format.Format) -> None:
    """Every cell of ``rows`` (under the header row) through xlsxwriter, one at a time."""
    for r, row in enumerate(rows.iter_rows(), 1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                worksheet.write_string(r, c, value)
            elif isinstance(value, dt.date):
                worksheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date)
            else:
                worksheet.write_number(r, c, value)


_EXACT_INT = 2**53  # an integer below this prints as xlsxwriter prints it (``{:.16G}`` of a float)
_EXCEL_DAY_ZERO = dt.date(1899, 12, 30)  # serial 0 of dates from 1900-03-01 on (Excel's 1900 leap day before)
_FIRST_PLAIN_DATE = dt.date(1900, 3, 1)
_BLOCK_ROWS = 65_536  # rows whose XML is built at once (a block of a million-row sheet's ~1 GB of XML)
#: Text that xlsxwriter escapes or marks beyond &, < and >: control characters, its own ``_xHHHH_`` escape,
#: non-characters, rich-text markup; and text not starting and ending with a letter, number, punctuation or symbol
#: (leading or trailing whitespace gets ``xml:space="preserve"``). Such cells are written by xlsxwriter itself.
_SPECIAL = r"[\x00-\x1f\x{fffe}\x{ffff}]|_x[0-9a-fA-F]{4}_|^<r>"
_PLAIN_ENDS = r"^[\p{L}\p{N}\p{P}\p{S}](?s:.*)[\p{L}\p{N}\p{P}\p{S}]$|^[\p{L}\p{N}\p{P}\p{S}]$"


def _fast_path(frame: pl.DataFrame) -> bool:
    """Whether :func:`_sheet_rows` writes ``frame`` as xlsxwriter would: text, dates and exact integers only, no text
    xlsxwriter would truncate (over 32 767 UTF-16 units), no date before 1900-03-01."""
    if not frame.width:
        return False
    for name, dtype in frame.schema.items():
        column = frame.get_column(name)
        if dtype == pl.String:
            if (column.str.len_chars().max() or 0) > Worksheet().xls_strmax // 2:
                return False
        elif dtype == pl.Date:
            if column.drop_nulls().len() and column.min() < _FIRST_PLAIN_DATE:
                return False
        elif dtype.is_integer():
            if column.drop_nulls().len() and max(abs(column.min()), abs(column.max())) >= _EXACT_INT:
                return False
        else:
            return False
    return True


def _xlsxwriter_cell(reference: tuple[int, int], text: str) -> str:
    """The XML xlsxwriter's constant-memory writer gives a text cell (row, column), by its own cell writer."""
    scratch = Worksheet()
    scratch.constant_memory = True
    scratch.fh = io.StringIO()
    scratch._write_cell(*reference, CellStringTuple(text, None))
    return scratch.fh.getvalue()


def _cells(rows: pl.DataFrame, first_row: int, date_xf: int | None) -> list[pl.Expr]:
    """One expression per column: each row's ``<c>`` element, null where the value is null."""
    number = (pl.int_range(pl.len(), dtype=pl.Int64) + first_row + 1).cast(pl.String)
    cells = []
    for i, (name, dtype) in enumerate(rows.schema.items()):
        reference = pl.lit(f'<c r="{xl_col_to_name(i)}') + number
        value = pl.col(name)
        if dtype == pl.String:
            escaped = value.str.replace_all("&", "&amp;", literal=True)
            escaped = escaped.str.replace_all("<", "&lt;", literal=True).str.replace_all(">", "&gt;", literal=True)
            cell = reference + pl.lit('" t="inlineStr"><is><t>') + escaped + pl.lit("</t></is></c>")
        elif dtype == pl.Date:
            serial = (value - pl.lit(_EXCEL_DAY_ZERO)).dt.total_days().cast(pl.String)
            cell = reference + pl.lit(f'" s="{date_xf}"><v>') + serial + pl.lit("</v></c>")
        else:
            cell = reference + pl.lit('"><v>') + value.cast(pl.String) + pl.lit("</v></c>")
        cells.append(cell.alias(f"_cell{i}"))
    return cells


def _sheet_rows(worksheet: Worksheet, rows: pl.DataFrame, date: xlsxwriter.format.Format) -> None:
    """The rows under the header, written into the worksheet's constant-memory row file as xlsxwriter would write
    them cell by cell (a row without a value is not written), with the dimensions it would record."""
    worksheet._write_single_row(1)  # the header row, as xlsxwriter writes it when the first data row comes
    dates = [n for n, t in rows.schema.items() if t == pl.Date and rows.get_column(n).null_count() < rows.height]
    date_xf = date._get_xf_index() if dates else None  # numbered when first used, as xlsxwriter does
    last = 0
    for offset in range(0, rows.height, _BLOCK_ROWS):
        block = rows.slice(offset, _BLOCK_ROWS)
        first_row = offset + 1
        cells = block.select(_cells(block, first_row, date_xf))
        for i, (name, dtype) in enumerate(block.schema.items()):
            if dtype != pl.String:
                continue
            values = block.get_column(name)
            special = (values.str.contains(_SPECIAL) | ~values.str.contains(_PLAIN_ENDS)).fill_null(False)
            positions = special.arg_true()
            if len(positions):
                exact = [_xlsxwriter_cell((first_row + int(p), i), values[int(p)]) for p in positions.to_list()]
                cells = cells.with_columns(cells.get_column(f"_cell{i}").scatter(positions, exact))
        numbers = pl.int_range(pl.len(), dtype=pl.Int64) + first_row + 1
        xml = cells.select(
            xml=pl.lit('<row r="')
            + numbers.cast(pl.String)
            + pl.lit('">')
            + pl.concat_str(pl.all(), ignore_nulls=True)
            + pl.lit("</row>"),
            row=numbers - 1,
            written=pl.any_horizontal(pl.all().is_not_null()),
        ).filter("written")
        if xml.height:
            worksheet.fh.write(xml.get_column("xml").str.join("").item())
            last = xml.get_column("row")[-1]
    if last:
        worksheet.dim_rowmax = max(worksheet.dim_rowmax or 0, last)
        worksheet.previous_row = last + 1


def write_excel_csv(frame: pl.DataFrame, path: Path) -> None:
    """``frame`` as a CSV Windows Excel opens: UTF-8 with a byte-order mark, CRLF line ends."""
    frame.write_csv(path, include_bom=True, line_terminator="\r\n")
