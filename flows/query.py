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
from flows.objections.warehouse_tables import AMENDED_DIRECTORY, business_amendments, has_amendments
from flows.storage.warehouse import FEATURE_LABELS, open_read_only
from reference import regions
from schemas.codes import normalised_code
from schemas.outputs import REASON_SEPARATOR, RULE_LABELS
from schemas.sources import SOURCES
from schemas.vocabulary import (
    CRITERIA_LABELS,
    LINK_DETAIL_LABELS,
    LINK_OUTCOME_LABELS,
    LINK_SOURCE_LABELS,
    REASON_LABELS,
    ruleset_name,
)

#: A linkage row's status as the business's record shows it (``business_linkage``).
LINK_STATUS_LABELS = {"linked": "已关联", "ambiguous": "多个候选（本户是候选之一，不计入）"}

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
    labels: dict[tuple, str] | None = None  # (ruleset_id, ruleset_version, code) -> Chinese meaning (``codes``)
    linkage: pl.DataFrame | None = None  # the latest cycle's linkage rows naming the business (linked or candidate)
    quarantined: pl.DataFrame | None = None  # quarantined rows whose value is the code looked up
    amendments: pl.DataFrame | None = None  # types changed after objections, oldest first


def _code_form(text: str) -> str:
    return pl.select(normalised_code(pl.lit(text))).item() or ""


def find_businesses(con: duckdb.DuckDBPyConnection, text: str) -> pl.DataFrame:
    """Businesses whose USCC, 注册号 or key is ``text``; failing that, whose name contains it."""
    by_code = con.sql(_LATEST_OF_MATCHES.format(condition=_MATCH_BY_CODE), params={"code": _code_form(text)}).pl()
    if by_code.height:
        return by_code
    return con.sql(_LATEST_OF_MATCHES.format(condition=_MATCH_BY_NAME), params={"text": text.strip()}).pl()


def business_history(con: duckdb.DuckDBPyConnection, province: str, business_key: str) -> pl.DataFrame:
    """The business's type in every cycle, as amended after objections where it was (``amendments``)."""
    directory = f"({AMENDED_DIRECTORY})" if has_amendments(con) else "directory"
    return con.sql(
        "SELECT cycle_id, as_of, business_type, reasons, conditions_met, criteria_failed, ruleset_id, ruleset_version "
        f"FROM {directory} WHERE province = $province AND business_key = $key ORDER BY as_of",
        params={"province": province, "key": business_key},
    ).pl()


def business_features(con: duckdb.DuckDBPyConnection, province: str, business_key: str) -> pl.DataFrame:
    return con.sql(
        "SELECT f.* EXCLUDE (province, business_key) FROM features f JOIN cycles c ON f.cycle_id = c.cycle_id "
        "WHERE f.province = $province AND f.business_key = $key ORDER BY c.as_of",
        params={"province": province, "key": business_key},
    ).pl()


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


def code_meanings(con: duckdb.DuckDBPyConnection) -> dict[tuple, str]:
    """Every code's Chinese meaning from ``codes`` by (ruleset id, version, code) — a condition's meaning is its
    ruleset's; criteria and reasons have no ruleset. A warehouse published before ``codes`` existed has none."""
    if "codes" not in _tables(con):
        return {}
    rows = con.execute("SELECT ruleset_id, ruleset_version, code, label FROM codes").fetchall()
    return {(rid, version, code): label for rid, version, code, label in rows}


def business_linkage(con: duckdb.DuckDBPyConnection, province: str, business_key: str, cycle_id: str) -> pl.DataFrame:
    """The trademarks, patents and tax identities linked to the business in ``cycle_id``, and the ambiguous ones
    naming it as a candidate (not credited to anyone)."""
    return con.sql(
        "SELECT source, record, status, route, detail FROM linkage WHERE province = $province AND cycle_id = $cycle "
        "AND (business_key = $key OR list_contains(candidates, $key)) ORDER BY source, status, record",
        params={"province": province, "key": business_key, "cycle": cycle_id},
    ).pl()


def quarantined_rows(con: duckdb.DuckDBPyConnection, code: str) -> pl.DataFrame:
    """Quarantined rows whose delivered value is ``code`` (or, for a duplicate key, contains it)."""
    if not code:
        return pl.DataFrame()
    return con.sql(
        'SELECT cycle_id, source, file, line, "column", value, rule FROM quarantine '
        "WHERE value = $code OR (rule = 'duplicate_conflict' AND contains(value, $code)) "
        "ORDER BY cycle_id, source, file, line",
        params={"code": code},
    ).pl()


def look_up(warehouse: Path, text: str) -> Lookup:
    """Answer a query from the published warehouse."""
    if not text.strip():
        raise QueryError("请给出统一社会信用代码、注册号或名称的一部分")
    with open_read_only(warehouse) as con:
        matches = find_businesses(con, text)
        if matches.height != 1:
            quarantined = quarantined_rows(con, _code_form(text)) if matches.is_empty() else None
            return Lookup(text=text, matches=matches, quarantined=quarantined)
        row = matches.row(0, named=True)
        province, key = row["province"], row["business_key"]
        return Lookup(
            text=text,
            matches=matches,
            history=business_history(con, province, key),
            features=business_features(con, province, key),
            labels=code_meanings(con),
            linkage=business_linkage(con, province, key, row["cycle_id"]),
            quarantined=quarantined_rows(con, key),
            amendments=business_amendments(con, province, key),
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


#: A cell as the handler reads it (— for nothing, 是/否, money with two decimals, codes joined): the desk shows
#: values as the terminal does.
shown_value = _shown


def match_list(lookup: Lookup, page: int = 1, everything: bool = False) -> Group:
    """Several businesses matched: a page of the list (``MAX_LISTED`` rows; ``everything``: all of them) to pick one
    from by its code (codes are never cut short)."""
    pages = max(1, -(-lookup.matches.height // MAX_LISTED))
    page = min(max(page, 1), pages)
    shown = lookup.matches if everything else lookup.matches.slice((page - 1) * MAX_LISTED, MAX_LISTED)
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
    hint = f"第 {page}/{pages} 页，另有 {more} 户未列出（--page 翻页，--all 列出全部）。" if more else ""
    return Group(table, Text(f"{hint}请用统一社会信用代码或注册号查询其中一户。"))


def quarantine_table(rows: pl.DataFrame, title: str) -> Table:
    """Quarantined rows with each rule's Chinese meaning."""
    table = Table(title=title, title_justify="left")
    for column in ("周期", "来源", "文件", "行号", "列", "报送值", "规则"):
        table.add_column(column, overflow="fold")
    for row in rows.iter_rows(named=True):
        source = SOURCES[row["source"]].label if row["source"] in SOURCES else row["source"]
        cells = (
            row["cycle_id"],
            source,
            row["file"],
            str(row["line"]),
            row["column"],
            _shown(row["value"]),
            f"{row['rule']} {RULE_LABELS.get(row['rule'], '')}",
        )
        table.add_row(*(Text(cell) for cell in cells))  # delivered text is data, never rich markup
    return table


def code_meaning(code: str, labels: dict[tuple, str], ruleset: tuple[str, str]) -> str:
    """A condition's, criterion's or reason's Chinese meaning (``code_meanings``; ruleset = id, version); empty
    when unknown."""
    found = labels.get((*ruleset, code)) or labels.get((None, None, code))
    return found or CRITERIA_LABELS.get(code) or REASON_LABELS.get(code, "")


def _labelled(codes: list[str], labels: dict[tuple, str], ruleset: tuple[str, str]) -> str:
    """Each code with its Chinese meaning, one a line; a code whose meaning is unknown stays a code."""
    return "\n".join(f"{c} {code_meaning(c, labels, ruleset)}".strip() for c in codes) or "—"


def business_record(lookup: Lookup) -> Group:
    """One business: who it is, its type and reasons in every cycle, and the feature values behind them."""
    business = lookup.matches.row(0, named=True)
    header = Text.assemble(
        (business["name"] or "（无名称）", "bold"),
        f"\n统一社会信用代码 {_shown(business['uscc'])}  注册号 {_shown(business['reg_no'])}",
        f"\n行政区划 {_region_name(business['region_code'])}",
    )
    labels = lookup.labels or {}
    history = Table(title="各期分型", title_justify="left")
    for column in ("周期", "判定日期", "分型结果", "分型依据", "满足的条件", "未满足的基础条件", "分型标准"):
        history.add_column(column, overflow="fold")
    for row in lookup.history.iter_rows(named=True):
        history.add_row(
            Text(row["cycle_id"]),
            Text(row["as_of"].isoformat()),
            Text(row["business_type"]),
            Text(_labelled(row["reasons"], labels, (row["ruleset_id"], row["ruleset_version"]))),
            Text(_labelled(row["conditions_met"], labels, (row["ruleset_id"], row["ruleset_version"]))),
            Text(_labelled(row["criteria_failed"], labels, (row["ruleset_id"], row["ruleset_version"]))),
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
    parts = [header, history]
    if lookup.amendments is not None and not lookup.amendments.is_empty():
        amended = Table(title="分型更正（异议处理）", title_justify="left")
        for column in ("周期", "更正前", "更正后", "更正后依据", "异议编号", "更正日期", "更正包"):
            amended.add_column(column, overflow="fold")
        for row in lookup.amendments.iter_rows(named=True):
            amended.add_row(
                Text(row["cycle_id"]),
                Text(row["type_before"]),
                Text(row["type_after"]),
                Text(_shown(row["reasons_after"])),
                Text(row["objection_no"]),
                Text(row["amended_on"].isoformat()),
                Text(_shown(row["package"])),
            )
        parts.append(amended)
    parts.append(features)
    if lookup.linkage is not None:
        linked = Table(title="商标、专利、纳税人身份（最新一期）", title_justify="left")
        for column in ("类别", "记录", "结果", "关联途径", "说明"):
            linked.add_column(column, overflow="fold")
        for row in lookup.linkage.iter_rows(named=True):
            status = LINK_STATUS_LABELS.get(row["status"], row["status"])
            linked.add_row(
                Text(LINK_SOURCE_LABELS.get(row["source"], row["source"])),
                Text(row["record"]),
                Text(status),
                Text(LINK_OUTCOME_LABELS.get(row["route"], "—") if row["route"] else "—"),
                Text(LINK_DETAIL_LABELS.get(row["detail"], _shown(row["detail"]))),
            )
        parts.append(linked if lookup.linkage.height else Text("本户在最新一期没有关联的商标、专利或纳税人身份。"))
    if lookup.quarantined is not None and lookup.quarantined.height:
        parts.append(quarantine_table(lookup.quarantined, "含本户代码的隔离记录"))
    return Group(*parts)
