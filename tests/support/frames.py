"""Accepted tables built inline from a few rows, for the tests of linkage, features and typing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from reference import province_regions, taxes
from schemas.accepted import empty_accepted
from schemas.codes import uscc_check_char
from schemas.features import FEATURES
from schemas.sources import SOURCES
from schemas.work_files import REPORT_CONFLICTS_SCHEMA
from transforms.features import features_from_facts, source_facts
from transforms.link import linkage

AS_OF = dt.date(2025, 7, 31)  # the yearly cycle of 2025: Y = 2025, the previous year 2024


def uscc(n: int, region: str = "410105") -> str:
    """A valid individual business's USCC (starts with 92) numbered ``n``."""
    body = f"92{region}MA{n:07d}"
    return body + uscc_check_char(body)


def table(source: str, rows: list[dict]) -> pl.LazyFrame:
    """An accepted table of ``source`` with ``rows``; columns not given are null. ``reg_no`` (注册号, accepted in the
    USCC-keyed sources by extracts.md v2) is added where the rows give it and the table does not have it yet."""
    schema = dict(empty_accepted(source).schema)
    if any("reg_no" in row for row in rows):
        schema.setdefault("reg_no", pl.String())
    columns = {name: [row.get(name) for row in rows] for name in schema}
    return pl.DataFrame(columns, schema=schema).lazy()


def business(n: int, **columns) -> dict:
    """A registration row: 存续, established 2020 (5 years old on AS_OF), its own operator, in 金水区 — unless told."""
    code = columns.pop("uscc", uscc(n))
    row = {
        "business_key": code,
        "uscc": code,
        "operator_name": f"经营者{n}",
        "operator_key": f"op{n:030d}",
        "industry_code": "H6210",
        "region_code": "410105",
        "established_on": dt.date(2020, 3, 1),
        "status": "存续",
        "seasonal": False,
    }
    return row | columns


def sources(**rows: list[dict]) -> dict[str, pl.LazyFrame]:
    """All accepted tables: those given from their rows, the rest empty."""
    return {name: table(name, rows.get(name, [])) for name in SOURCES}


def features_of(
    tables: dict[str, pl.LazyFrame],
    as_of: dt.date = AS_OF,
    province: str = "41",
    report_conflicts: list[dict] | None = None,
) -> pl.DataFrame:
    """The features table of ``tables``, linkage included; ``report_conflicts`` are rows of
    ``accepted/annual_report_conflicts.parquet`` (uscc, reg_no, report_year, filed_on)."""
    links = linkage(tables, province_regions(province))
    return business_features(tables, links, as_of, report_conflicts).collect()


def feature_row(**values) -> dict:
    """Features of an eligible business of 5 years with nothing else to its name, changed by ``values``."""
    row = {
        "business_key": "B1",
        "years_established": 5,
        "status_active": True,
        "annual_report_filed": True,
        "unmatchable": False,
        "on_abnormal_list": False,
        "on_serious_list": False,
        "tax_abnormal": False,
        "suspended": False,
        "seasonal": False,
        "tax_paid_prev_year": Decimal("0"),
        "general_taxpayer": False,
        "insured_incl_operator": 0,
        "insured_excl_operator": 0,
        "employees_prev_year": None,
        "sales_prev_year": None,
        "valid_trademarks": 0,
        "valid_patents": 0,
    }
    return row | values


def feature_table(rows: list[dict]) -> pl.LazyFrame:
    schema = {"business_key": pl.String()} | {name: f.dtype for name, f in FEATURES.items()}
    return pl.DataFrame({name: [r[name] for r in rows] for name in schema}, schema=schema).lazy()


def business_features(
    sources: dict[str, pl.LazyFrame],
    linkage: pl.LazyFrame,
    as_of: dt.date,
    report_conflicts: list[dict] | None = None,
) -> pl.LazyFrame:
    """``business_key`` and every feature of ``FEATURES``, one row per business that existed on ``as_of``,
    sorted by key (what the features stage computes, without its files)."""
    conflicts = None
    if report_conflicts is not None:
        columns = {name: [row.get(name) for row in report_conflicts] for name in REPORT_CONFLICTS_SCHEMA}
        conflicts = pl.DataFrame(columns, schema=REPORT_CONFLICTS_SCHEMA).lazy()
    return features_from_facts(source_facts(sources, linkage, as_of, taxes=taxes(), report_conflicts=conflicts))
