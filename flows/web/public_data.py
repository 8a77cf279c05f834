"""What the public pages may read of the warehouse: public columns only, through ``public(table)``.

The warehouse's tables mix what may be published with what may not: ``features`` holds money (taxes, sales),
``recognitions`` the operator's key and money bases, ``objections`` who filed and why, ``quarantine`` delivered
values, ``linkage`` holders' keys. The public pages (查询公示) read nothing but the columns listed in
``PUBLIC_COLUMNS`` — the columns of ``public.csv`` (outputs.md: USCC, 名称, 行政区划代码, 分型结果, 判定日期) and
what explains them (注册号, the cycle and its standard, an amendment's types and date, a 名特优新 recognition's
category, number and validity) — each table through ``public(table)``, a sub-query of those columns alone.
Every query below is built on it and every value the visitor typed is a bound parameter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import polars as pl

from schemas.codes import normalised_code

#: The only columns the public pages read, by table. No money, no personal data, no reasons (they reveal figures).
PUBLIC_COLUMNS: dict[str, tuple[str, ...]] = {
    "directory": (
        "province",
        "cycle_id",
        "business_key",
        "uscc",
        "reg_no",
        "name",
        "region_code",
        "business_type",
        "ruleset_id",
        "ruleset_version",
        "as_of",
    ),
    "cycles": ("province", "cycle_id", "as_of", "cycle_kind", "ruleset_id", "ruleset_version"),
    "regions": ("region_code", "region_name", "city_name", "province_code", "province_name"),
    "amendments": ("province", "cycle_id", "business_key", "type_before", "type_after", "amended_on"),
    "recognitions": ("uscc", "recognition_no", "category", "recognised_on", "valid_until", "status", "ended_on"),
}

#: Businesses listed on one page of a name search.
PAGE_SIZE = 20
#: Most matches of a name search counted and listed; beyond it the visitor is asked for more of the name.
MAX_MATCHES = 2000
#: Longest search text taken (a name is rarely over 30 characters).
MAX_QUERY = 60


def public(table: str) -> str:
    """``table`` as a sub-query of its public columns (a table not listed cannot be read at all)."""
    columns = ", ".join(f'"{c}"' for c in PUBLIC_COLUMNS[table])
    return f"(SELECT {columns} FROM {table})"


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND database_name = current_database()", [table]
        ).fetchall()[0][0]
    )


# latest yearly cycle of each business matched by {condition} (on the public directory ``d``)
_LATEST_YEARLY = f"""
    SELECT d.province, d.business_key, d.uscc, d.reg_no, d.name, d.region_code, d.business_type, d.as_of,
           d.cycle_id, d.ruleset_id, d.ruleset_version
    FROM {public("directory")} d JOIN {public("cycles")} c ON c.cycle_id = d.cycle_id AND c.cycle_kind = 'yearly'
    WHERE {{condition}}
    QUALIFY row_number() OVER (PARTITION BY d.province, d.business_key ORDER BY d.as_of DESC) = 1
"""


def code_form(text: str) -> str:
    """A code as typed (full-width, lower case, spaces) in the form the warehouse holds it."""
    return pl.select(normalised_code(pl.lit(text))).item() or ""


def looks_like_code(text: str) -> bool:
    """18 characters (USCC) or 13/15 digits (注册号): searched as a code, exactly, not as part of a name."""
    code = code_form(text)
    return code.isascii() and code.isalnum() and (len(code) == 18 or (code.isdigit() and len(code) in (13, 15)))


@dataclass(frozen=True)
class SearchResult:
    text: str
    by_code: bool
    rows: list[dict]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-min(self.total, MAX_MATCHES) // PAGE_SIZE))

    @property
    def capped(self) -> bool:
        return self.total > MAX_MATCHES


# the searched cycles: each province's latest yearly cycle (what 查询公示 shows); a business page shows its own
# latest yearly cycle and earlier ones
_SEARCHED = f"""
    SELECT d.province, d.business_key, d.uscc, d.reg_no, d.name, d.region_code, d.business_type, d.as_of,
           d.cycle_id, d.ruleset_id, d.ruleset_version
    FROM {public("directory")} d
    WHERE d.cycle_id IN (
        SELECT cycle_id FROM {public("cycles")} WHERE cycle_kind = 'yearly'
        QUALIFY row_number() OVER (PARTITION BY province ORDER BY as_of DESC) = 1
    ) AND ({{condition}})
"""


def search(con: duckdb.DuckDBPyConnection, text: str, page: int = 1) -> SearchResult:
    """Businesses of each province's latest yearly cycle whose USCC or 注册号 is ``text`` (exactly), else whose
    name contains it, one page at a time."""
    text = text.strip()[:MAX_QUERY]
    page = max(1, page)
    if looks_like_code(text):
        rows = con.sql(
            _SEARCHED.format(condition="d.uscc = $code OR d.reg_no = $code") + " ORDER BY d.province, d.business_key",
            params={"code": code_form(text)},
        ).pl()
        return SearchResult(text, True, _with_regions(con, rows), rows.height, 1)
    # contains() matches the text literally: % _ [ ] and quotes are characters of a name, never patterns.
    # One scan: the first MAX_MATCHES + 1 matches in the warehouse's order (a common word stops early), counted and
    # sorted by name for the page asked.
    rows = con.sql(
        f"""WITH m AS MATERIALIZED ({_SEARCHED.format(condition="contains(d.name, $text)")} LIMIT $cap)
        SELECT *, (SELECT count(*) FROM m) AS total FROM (SELECT * FROM m LIMIT $shown)
        ORDER BY name, uscc NULLS LAST, business_key LIMIT $limit OFFSET $offset""",
        params={
            "text": text,
            "cap": MAX_MATCHES + 1,
            "shown": MAX_MATCHES,
            "limit": PAGE_SIZE,
            "offset": (page - 1) * PAGE_SIZE,
        },
    ).pl()
    if rows.height:
        total = rows["total"][0]
    else:
        total = con.execute(
            f"SELECT count(*) FROM ({_SEARCHED.format(condition='contains(d.name, $text)')} LIMIT $cap)",
            {"text": text, "cap": MAX_MATCHES + 1},
        ).fetchall()[0][0]
    return SearchResult(text, False, _with_regions(con, rows.drop("total", strict=False)), total, page)


def _with_regions(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame) -> list[dict]:
    if rows.is_empty():
        return []
    codes = rows["region_code"].unique().drop_nulls().to_list()
    names = {
        code: place
        for code, place in con.execute(
            f"SELECT region_code, concat_ws('', province_name, city_name, region_name) FROM {public('regions')} "
            "WHERE list_contains($codes, region_code)",
            {"codes": codes},
        ).fetchall()
    }
    amended = {}
    if _has(con, "amendments"):
        amended = {
            (cycle_id, key): type_after
            for cycle_id, key, type_after in con.execute(
                f"SELECT cycle_id, business_key, type_after FROM {public('amendments')} "
                "WHERE list_contains($keys, business_key) "
                "QUALIFY row_number() OVER (PARTITION BY cycle_id, business_key ORDER BY amended_on DESC) = 1",
                {"keys": rows["business_key"].to_list()},
            ).fetchall()
        }
    return [
        row
        | {
            "region": names.get(row["region_code"], row["region_code"]),
            "amended_type": amended.get((row["cycle_id"], row["business_key"])),
        }
        for row in rows.iter_rows(named=True)
    ]


@dataclass(frozen=True)
class BusinessPage:
    business: dict  # latest yearly cycle, with its region's name
    history: list[dict]  # every yearly cycle, newest first, amended type where amended
    amendment: dict | None  # the amendment of the latest yearly cycle, if any
    recognitions: list[dict]


def business(con: duckdb.DuckDBPyConnection, code: str, today: dt.date) -> BusinessPage | None:
    """The public record of the business whose USCC, 注册号 or key is ``code``; None when there is none."""
    code = code_form(code)[:MAX_QUERY]
    if not code:
        return None
    found = con.sql(
        _LATEST_YEARLY.format(condition="d.uscc = $code OR d.reg_no = $code OR d.business_key = $code")
        + " ORDER BY d.province, d.business_key LIMIT 1",
        params={"code": code},
    ).pl()
    if found.is_empty():
        return None
    latest = _with_regions(con, found)[0]
    key = {"province": latest["province"], "business_key": latest["business_key"]}
    history = con.sql(
        f"SELECT d.cycle_id, d.as_of, d.business_type, d.ruleset_id, d.ruleset_version FROM {public('directory')} d "
        f"JOIN {public('cycles')} c ON c.cycle_id = d.cycle_id AND c.cycle_kind = 'yearly' "
        "WHERE d.province = $province AND d.business_key = $business_key ORDER BY d.as_of DESC",
        params=key,
    ).pl()
    amendments = {}
    if _has(con, "amendments"):
        amendments = {
            row["cycle_id"]: row
            for row in con.sql(
                f"SELECT cycle_id, type_before, type_after, amended_on FROM {public('amendments')} "
                "WHERE province = $province AND business_key = $business_key "
                "QUALIFY row_number() OVER (PARTITION BY cycle_id ORDER BY amended_on DESC) = 1",
                params=key,
            )
            .pl()
            .iter_rows(named=True)
        }
    history_rows = []
    for row in history.iter_rows(named=True):
        amended = amendments.get(row["cycle_id"])
        history_rows.append(row | {"amendment": amended, "shown_type": amended["type_after"] if amended else None})
    recognitions = []
    if latest["uscc"] and _has(con, "recognitions"):
        recognitions = (
            con.sql(
                f"SELECT recognition_no, category, recognised_on, valid_until, status, ended_on "
                f"FROM {public('recognitions')} WHERE uscc = $uscc ORDER BY recognised_on DESC, recognition_no",
                params={"uscc": latest["uscc"]},
            )
            .pl()
            .with_columns(
                valid_today=(pl.col("recognised_on") <= today)
                & (pl.col("valid_until") >= today)
                & ~(pl.col("status").is_in(["取消", "撤销"]) & (pl.col("ended_on") <= today).fill_null(False))
            )
            .to_dicts()
        )
    return BusinessPage(latest, history_rows, amendments.get(latest["cycle_id"]), recognitions)


def province_names(con: duckdb.DuckDBPyConnection | None = None) -> dict[str, str]:
    """Province code → name (from ``data/regions.csv``: the same rows the warehouse's ``regions`` holds)."""
    from reference import regions

    return dict(regions().select("province_code", "province_name").unique().iter_rows())
