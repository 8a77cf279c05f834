"""Helpers for the generator tests: read a generated inbox cell by cell, and an independent check of every rule.

The checks here deliberately do not reuse the generator: check characters come from python-stdnum (the oracle),
dates from ``datetime.strptime``, code lists from ``reference``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tomllib
from pathlib import Path

import openpyxl
import polars as pl
from stdnum.cn import ric, uscc

from reference import industries, province_regions, tax_kinds
from schemas.sources import MONEY_UNITS, SOURCES, Column, Kind, Source

USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")
ID_RE = re.compile(r"^[0-9]{17}[0-9X]$")


#: extracts.md v2 values the v1 schema does not list yet (the pipeline half of issue 12 adds them to configuration)
V2_VALUES = {
    "status": {"存续（在营、开业、在册）", "在业", "吊销未注销", "吊销，未注销", "迁出"},
    "tax_kind": {"文化事业建设费"},
}
#: extracts.md v2: sources keyed by USCC may carry 注册号 instead, for a legacy business
REG_NO_KEYED = ("annual_report", "abnormal_list", "serious_list", "suspension", "penalty")
#: v2 versions: an annual report's rows with different 报送日期 are versions of one report, not duplicates
V2_KEYS = {"annual_report": ("uscc", "report_year", "filed_on")}


def data_files(inbox: Path) -> list[Path]:
    """The inbox's source files (``inbox.toml`` aside), in name order."""
    return sorted(p for p in inbox.iterdir() if p.name != "inbox.toml")


def extracted_on(inbox: Path, as_of: dt.date) -> dt.date:
    """The inbox's extraction date (``inbox.toml``), the bound of every date; ``as_of`` without one."""
    config = inbox / "inbox.toml"
    if not config.exists():
        return as_of
    return tomllib.loads(config.read_text(encoding="utf-8")).get("extracted_on", as_of)


def source_of(file: str) -> str:
    stem = file.split(".")[0]
    return next(s for s in sorted(SOURCES, key=len, reverse=True) if stem.startswith(s))


def decode(raw: bytes) -> tuple[str, str]:
    """The text of a CSV and the encoding it was in: UTF-8 (BOM or not) or GB18030."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("gb18030"), "gb18030"


def read_rows(path: Path) -> list[dict[str, str]]:
    """Every data row of an inbox file as header → text ('' for empty); list position + 2 is its line."""
    if path.suffix == ".csv":
        text, _ = decode(path.read_bytes())
        return list(csv.DictReader(io.StringIO(text, newline="")))
    if path.suffix == ".parquet":
        return [{k: v or "" for k, v in row.items()} for row in pl.read_parquet(path).iter_rows(named=True)]
    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]

    def text(value) -> str:
        if value is None:
            return ""
        return value.date().isoformat() if isinstance(value, dt.datetime) else str(value)

    return [dict(zip(header, map(text, row), strict=True)) for row in rows[1:]]


def column_by_header(source: Source) -> dict[str, Column]:
    found = {}
    for column in source.columns:
        if column.kind is Kind.MONEY:
            for unit in MONEY_UNITS:
                found[f"{column.header}（{unit}）"] = column
        else:
            found[column.header] = column
    return found


def _uscc_rule(value: str) -> str | None:
    if not USCC_RE.match(value):
        return "uscc_format"
    return None if uscc.calc_check_digit(value[:17]) == value[17] else "uscc_check"


def _id_rule(value: str) -> str | None:
    if not ID_RE.match(value):
        return "resident_id_format"
    try:
        dt.datetime.strptime(value[6:14], "%Y%m%d")
    except ValueError:
        return "resident_id_birth_date"
    return None if ric.calc_check_digit(value) == value[17] else "resident_id_check"


def _date(value: str) -> dt.date | None:
    for style in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(value, style).date()
        except ValueError:
            continue
    return None


class Checker:
    """The first rule a delivered value breaks, or None — per extracts.md, written independently of the generator."""

    def __init__(self, province: str, as_of: dt.date) -> None:
        self.province = province
        self.as_of = as_of  # the bound of dates: the extraction date (v2)
        self.regions = set(province_regions(province)["region_code"].to_list())
        self.divisions = set(industries()["division"].to_list())
        self.sections = set(industries()["section"].to_list())

    def rule(self, source: str, column: Column, value: str, row: dict[str, str]) -> str | None:
        value = value.strip()
        if not value:
            required = column.required or (source == "registration" and column.name == "uscc" and not row["注册号"])
            if source in REG_NO_KEYED and column.name == "uscc" and row.get("注册号"):
                required = False
            return "required" if required else None
        kind = column.kind
        if kind is Kind.USCC:
            problem = _uscc_rule(value)
            if problem is None and source == "registration" and not value.startswith("92"):
                return "uscc_not_individual"
            return problem
        if kind is Kind.REG_NO:
            return None if re.fullmatch(r"[0-9]{15}", value) else "reg_no_format"
        if kind is Kind.RESIDENT_ID:
            return _id_rule(value)
        if kind is Kind.TAXPAYER_ID:
            ok = (
                _uscc_rule(value) is None
                or _id_rule(value) is None
                or (len(value) == 20 and _id_rule(value[:18]) is None)
            )
            return None if ok else "taxpayer_id_format"
        if kind is Kind.PARTY_ID:
            return None if _uscc_rule(value) is None or _id_rule(value) is None else "party_id_format"
        if kind is Kind.DATE:
            day = _date(value)
            if day is None:
                return "date_format"
            return "date_after_extraction" if column.not_after_extraction and day > self.as_of else None
        if kind is Kind.PERIOD:
            match = re.fullmatch(r"([0-9]{4})-?([0-9]{2})", value)
            if not match or not 1 <= int(match[2]) <= 12:
                return "period_format"
            return "date_after_extraction" if dt.date(int(match[1]), int(match[2]), 1) > self.as_of else None
        if kind is Kind.YEAR:
            if not re.fullmatch(r"[0-9]{4}", value):
                return "year_format"
            return "date_after_extraction" if int(value) > self.as_of.year else None
        if kind is Kind.MONEY:
            if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value):
                return "money_format"
            return "money_negative" if float(value) < 0 and not column.negative_allowed else None
        if kind is Kind.COUNT:
            return None if re.fullmatch(r"[0-9]+", value) else "count_format"
        if kind is Kind.FLAG:
            return None if value in ("是", "否", "Y", "N", "1", "0") else "flag_format"
        if kind is Kind.ENUM:
            known = (
                value in column.values
                or value in column.value_aliases
                or value in V2_VALUES.get(column.name, ())
                or (column.reference_values == "tax_kinds" and value in set(tax_kinds()["spelling"]))
            )
            return None if known else "enum_unknown"
        if kind is Kind.REGION:
            if not re.fullmatch(r"[0-9]{6}", value):
                return "region_format"
            if not value.startswith(self.province):
                return "region_outside_province"
            return None if value in self.regions else "region_unknown"
        if kind is Kind.INDUSTRY:
            match = re.fullmatch(r"([A-Z]?)([0-9]{2})[0-9]{2}", value)
            if not match:
                return "industry_format"
            known = match[2] in self.divisions and (not match[1] or match[1] in self.sections)
            return None if known else "industry_unknown"
        if kind is Kind.NICE_CLASS:
            return None if value.isdigit() and 1 <= int(value) <= 45 else "nice_class_unknown"
        return None


def breaches(inbox: Path, province: str, as_of: dt.date) -> tuple[set[tuple], set[tuple]]:
    """Every (file, line, column, rule) a validator must report, and every (file, line) identical duplicate."""
    checker = Checker(province, extracted_on(inbox, as_of))
    found: set[tuple] = set()
    duplicates: set[tuple] = set()
    rows_by_source: dict[str, list[tuple[str, int, dict]]] = {}
    for path in data_files(inbox):
        source = source_of(path.name)
        columns = column_by_header(SOURCES[source])
        for i, row in enumerate(read_rows(path)):
            line = i + 2
            broken = False
            for header, value in row.items():
                if header in columns and (rule := checker.rule(source, columns[header], value, row)):
                    found.add((path.name, line, header, rule))
                    broken = True
            if not broken:
                rows_by_source.setdefault(source, []).append((path.name, line, row))
    for source, rows in rows_by_source.items():
        key = V2_KEYS.get(source, SOURCES[source].key)
        if not key:
            continue
        headers = {c.name: h for h, c in column_by_header(SOURCES[source]).items()}
        groups: dict[tuple, list] = {}
        for file, line, row in rows:
            values = tuple(row[headers[k]] for k in key)
            if source in REG_NO_KEYED and not values[0]:
                values = ("注册号:" + row.get("注册号", ""), *values[1:])
            groups.setdefault(values, []).append((file, line, row))
        for group in groups.values():
            if len(group) < 2:
                continue
            contents = {tuple(sorted(r.items())) for _, _, r in group}
            if len(contents) > 1:
                found.update((f, ln, headers[key[0]], "duplicate_conflict") for f, ln, _ in group)
            else:
                duplicates.update((f, ln) for f, ln, _ in group[1:])
    return found, duplicates
