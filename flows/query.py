"""``getihu query``: one business by USCC, 注册号 or name — its type in every cycle, the reasons, the features.

For objection handlers: everything shown comes from the published warehouse, opened read-only, so a
look-up never blocks a run nor sees a half-published cycle. The text typed is always a bound
parameter, never part of the SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
from rich.console import Group
from rich.table import Table
from rich.text import Text

from flows.errors import QueryError
from flows.storage.warehouse import FEATURE_LABELS, open_read_only
from reference import regions
from schemas.codes import normalised_code
from schemas.outputs import REASON_SEPARATOR
from schemas.vocabulary import ruleset_name

#: Most matches listed for a name; more means the name is too common to pick one from a list.
MAX_LISTED = 20

_MATCH_BY_CODE = "business_key = $code OR uscc = $code OR reg_no = $code"
_MATCH_BY_NAME = "contains(name, $text)"

_LATEST_OF_MATCHES = """
    WITH matched AS (SELECT DISTINCT province, business_key FROM directory WHERE {condition})
    SELECT d.province, d.business_key, d.uscc, d.reg_no, d.name, d.region_code, d.business_type, d.cycle_id
    FROM directory d JOIN matched m ON d.province = m.province AND d.business_key = m.business_key
    QUALIFY row_number() OVER (PARTITION BY d.province, d.business_key ORDER BY d.as_of DESC) = 1
    ORDER BY d.province, d.business_key
"""


@dataclass(frozen=True)
class Lookup:
    """What a query found: the matching businesses (latest cycle of each), and for exactly one its record."""

    text: str
    matches: pl.DataFrame
    history: pl.DataFrame | None = None  # one row per cycle, oldest first
    features: pl.DataFrame | None = None  # one row per cycle, oldest first


def _code_form(text: str) -> str:
    return pl.select(normalised_code(pl.lit(text))).item() or ""


def find_businesses(con: duckdb.DuckDBPyConnection, text: str) -> pl.DataFrame:
    """Businesses whose USCC, 注册号 or key is ``text``; failing that, whose name contains it."""
    by_code = con.sql(_LATEST_OF_MATCHES.format(condition=_MATCH_BY_CODE), params={"code": _code_form(text)}).pl()
    if by_code.height:
        return by_code
    return con.sql(_LATEST_OF_MATCHES.format(condition=_MATCH_BY_NAME), params={"text": text.strip()}).pl()


def business_history(con: duckdb.DuckDBPyConnection, province: str, business_key: str) -> pl.DataFrame:
    return con.sql(
        "SELECT cycle_id, as_of, business_type, reasons, ruleset_id, ruleset_version "
        "FROM directory WHERE province = $province AND business_key = $key ORDER BY as_of",
        params={"province": province, "key": business_key},
    ).pl()


def business_features(con: duckdb.DuckDBPyConnection, province: str, business_key: str) -> pl.DataFrame:
    return con.sql(
        "SELECT f.* EXCLUDE (province, business_key) FROM features f JOIN cycles c ON f.cycle_id = c.cycle_id "
        "WHERE f.province = $province AND f.business_key = $key ORDER BY c.as_of",
        params={"province": province, "key": business_key},
    ).pl()


def look_up(warehouse: Path, text: str) -> Lookup:
    """Answer a query from the published warehouse."""
    if not text.strip():
        raise QueryError("give a USCC, a 注册号 or part of a name to look up")
    with open_read_only(warehouse) as con:
        matches = find_businesses(con, text)
        if matches.height != 1:
            return Lookup(text=text, matches=matches)
        province, key = matches.row(0, named=True)["province"], matches.row(0, named=True)["business_key"]
        return Lookup(
            text=text,
            matches=matches,
            history=business_history(con, province, key),
            features=business_features(con, province, key),
        )


def _region_name(code: str) -> str:
    names = regions().filter(pl.col("region_code") == code)
    return f"{code} {names['city_name'][0]}{names['region_name'][0]}" if names.height else code


def _shown(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, list):  # reason codes; the space lets a narrow terminal wrap between them
        return f"{REASON_SEPARATOR} ".join(value) or "—"
    return str(value)


def match_list(lookup: Lookup) -> Group:
    """Several businesses matched: a short list to pick one from by its code (codes are never cut short)."""
    shown = lookup.matches.head(MAX_LISTED)
    # every cell and title is Text, never a markup string: a name like 烩面馆[/] is data, not rich markup
    table = Table(title=Text(f"“{lookup.text}”匹配 {lookup.matches.height} 户"), title_justify="left")
    table.add_column("统一社会信用代码或注册号", no_wrap=True, min_width=18)
    table.add_column("名称", overflow="fold")
    table.add_column("行政区划", overflow="fold")
    table.add_column("最新分型", no_wrap=True)
    for row in shown.iter_rows(named=True):
        table.add_row(
            Text(row["uscc"] or row["reg_no"]),
            Text(_shown(row["name"])),
            Text(_region_name(row["region_code"])),
            Text(row["business_type"]),
        )
    more = lookup.matches.height - shown.height
    hint = f"另有 {more} 户未列出。" if more else ""
    return Group(table, Text(f"{hint}请用统一社会信用代码或注册号查询其中一户。"))


def business_record(lookup: Lookup) -> Group:
    """One business: who it is, its type and reasons in every cycle, and the feature values behind them."""
    business = lookup.matches.row(0, named=True)
    header = Text.assemble(
        (business["name"] or "（无名称）", "bold"),
        f"\n统一社会信用代码 {_shown(business['uscc'])}  注册号 {_shown(business['reg_no'])}",
        f"\n行政区划 {_region_name(business['region_code'])}",
    )
    history = Table(title="各期分型", title_justify="left")
    for column in ("周期", "判定日期", "分型结果", "分型依据", "分型标准"):
        history.add_column(column, overflow="fold")
    for row in lookup.history.iter_rows(named=True):
        history.add_row(
            Text(row["cycle_id"]),
            Text(row["as_of"].isoformat()),
            Text(row["business_type"]),
            Text(_shown(row["reasons"])),
            Text(ruleset_name(row["ruleset_id"], row["ruleset_version"])),
        )
    features = Table(title="特征值（判定日期口径）", title_justify="left")
    features.add_column("特征")
    cycles = lookup.features["cycle_id"].to_list()
    for cycle_id in cycles:
        features.add_column(cycle_id, justify="right")
    for name in [c for c in lookup.features.columns if c != "cycle_id"]:
        label = FEATURE_LABELS.get(name, name)
        features.add_row(Text(label), *(Text(_shown(v)) for v in lookup.features[name].to_list()))
    return Group(header, history, features)
