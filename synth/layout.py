"""How each department writes its extract: file type, encoding, date style, money unit, flags, column order.

Real deliveries differ by department, so the synthetic ones do too (extracts.md allows all of these):

| source | csv run | encoding | dates | money | flags |
|---|---|---|---|---|---|
| registration | registration.csv (CRLF, extra column 登记机关) | UTF-8 with BOM | YYYY-MM-DD | 万元 | 是/否 |
| annual_report | annual_report.csv | UTF-8 | YYYY/MM/DD | 万元 | Y/N |
| abnormal_list | abnormal_list.csv | UTF-8 with BOM | YYYYMMDD | | |
| serious_list | serious_list.xlsx | (date cells) | Excel dates | | |
| suspension | suspension.xlsx | (text cells) | YYYY/MM/DD | | |
| penalty | penalty.csv | UTF-8 | YYYYMMDD | 元 | |
| taxpayer | taxpayer.csv | GB18030 | YYYYMMDD | | |
| tax_abnormal | tax_abnormal.csv | GB18030 | YYYY-MM-DD | | |
| tax_payment | tax_payment_YYYY_MM.csv by month of 入库日期 | GB18030 | YYYY-MM-DD | 元 | |
| social_security | social_security_YYYY_MM.csv by 费款所属期 | UTF-8 | periods YYYYMM | 元 | |
| trademark | trademark.csv (columns reordered) | UTF-8 with BOM | YYYY-MM-DD | | |
| patent | patent.csv | UTF-8 | YYYY/MM/DD | | |

The sources keyed by USCC (annual_report, the listings, penalty) also carry a ``注册号`` column after the contract's
columns (extracts.md v2): filled for every business that has one, the only key of a legacy business with no USCC.

With ``--format parquet`` every source is Parquet (same names, same monthly split), all columns text.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from schemas.sources import SOURCES, Column, Kind, header_for
from synth.records import cents_text

CELL_DATES = "cell"  # .xlsx: a real date cell


@dataclass(frozen=True)
class Layout:
    csv_extension: str = "csv"  # or "xlsx" (with --format csv)
    encoding: str = "utf-8"  # "utf-8", "utf-8-sig" (with BOM) or "gb18030"
    date_format: str = "%Y-%m-%d"  # strftime, or CELL_DATES
    money_unit: str = "元"
    flags: tuple[str, str] = ("是", "否")
    line_terminator: str = "\n"
    split_by: str | None = None  # a DATE/PERIOD column: one file per month of it
    extra: tuple[tuple[str, str], ...] = ()  # (header, internal column) written after the contract's columns
    order: tuple[str, ...] = ()  # canonical column order when it differs from the contract's


REG_NO = (("注册号", "reg_no"),)

LAYOUTS: dict[str, Layout] = {
    "registration": Layout(
        encoding="utf-8-sig", money_unit="万元", line_terminator="\r\n", extra=(("登记机关", "_authority"),)
    ),
    "annual_report": Layout(date_format="%Y/%m/%d", money_unit="万元", flags=("Y", "N"), extra=REG_NO),
    "abnormal_list": Layout(encoding="utf-8-sig", date_format="%Y%m%d", extra=REG_NO),
    "serious_list": Layout(csv_extension="xlsx", date_format=CELL_DATES, extra=REG_NO),
    "suspension": Layout(csv_extension="xlsx", date_format="%Y/%m/%d", extra=REG_NO),
    "penalty": Layout(date_format="%Y%m%d", extra=REG_NO),
    "taxpayer": Layout(encoding="gb18030", date_format="%Y%m%d"),
    "tax_abnormal": Layout(encoding="gb18030"),
    "tax_payment": Layout(encoding="gb18030", split_by="paid_on"),
    "social_security": Layout(split_by="contribution_month"),
    "trademark": Layout(
        encoding="utf-8-sig",
        order=(
            "trademark_no",
            "trademark_status",
            "holder_name",
            "holder_id",
            "nice_class",
            "registered_on",
            "protected_until",
            "holder_address",
        ),
    ),
    "patent": Layout(date_format="%Y/%m/%d"),
}

ISO_DATE = "%Y-%m-%d"


def date_style(layout: Layout) -> str:
    """The strftime of dates as text: .xlsx date cells are carried as ISO text up to the writer."""
    return ISO_DATE if layout.date_format == CELL_DATES else layout.date_format


def columns(source: str) -> tuple[Column, ...]:
    layout = LAYOUTS[source]
    written_as_extra = {h for h, _ in layout.extra}  # 注册号: written after the contract's columns, as before v2
    contract = tuple(c for c in SOURCES[source].columns if c.header not in written_as_extra)
    if layout.order:
        by_name = {c.name: c for c in contract}
        return tuple(by_name[name] for name in layout.order)
    return contract


def headers(source: str) -> list[str]:
    """The header row as the department writes it."""
    layout = LAYOUTS[source]
    return [header_for(c, layout.money_unit) for c in columns(source)] + [h for h, _ in layout.extra]


def text_of(column: Column, layout: Layout) -> pl.Expr:
    """The delivered text of a typed column (money in cents; periods as their first day)."""
    value = pl.col(column.name)
    match column.kind:
        case Kind.DATE:
            text = value.dt.to_string(date_style(layout))
        case Kind.PERIOD:
            text = value.dt.to_string("%Y%m")
        case Kind.MONEY:
            text = cents_text(value) if layout.money_unit == "元" else wan_text(value)
        case Kind.FLAG:
            text = pl.when(value).then(pl.lit(layout.flags[0])).otherwise(pl.lit(layout.flags[1]))
        case _:
            text = value.cast(pl.String)
    return pl.when(value.is_null()).then(pl.lit("")).otherwise(text)


def wan_text(cents: pl.Expr) -> pl.Expr:
    """An amount in cents as 万元 with six decimals trimmed to four when exact (``30.0000``, ``29.999999``)."""
    whole = cents // 1_000_000
    fraction = (cents % 1_000_000).cast(pl.String).str.zfill(6)
    text = pl.format("{}.{}", whole, fraction)
    return pl.when(cents % 100 == 0).then(text.str.slice(0, text.str.len_chars() - 2)).otherwise(text)


def delivered(source: str, frame: pl.DataFrame) -> pl.DataFrame:
    """A typed frame as the department writes it: every column text under its delivered header, plus ``_`` columns."""
    layout = LAYOUTS[source]
    texts = [text_of(c, layout).alias(h) for c, h in zip(columns(source), headers(source), strict=False)]
    extras = [pl.col(internal).fill_null("").alias(h) for h, internal in layout.extra]
    internal = [c for c in frame.columns if c.startswith("_") and c not in {i for _, i in layout.extra}]
    part = (
        pl.format("{}_{}", pl.lit(source), pl.col(layout.split_by).dt.to_string("%Y_%m"))
        if layout.split_by
        else pl.lit(source)
    )
    return frame.select(*texts, *extras, *internal, part.alias("_part"))
