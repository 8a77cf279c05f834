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
import numpy as np
import polars as pl

from flows.storage.name_index import PUBLIC_DIRECTORY_COLUMNS, gram
from schemas.codes import normalised_code

#: The only columns the public pages read, by table. No money, no personal data, no reasons (they reveal figures).
PUBLIC_COLUMNS: dict[str, tuple[str, ...]] = {
    "directory": PUBLIC_DIRECTORY_COLUMNS,
    "cycles": ("province", "cycle_id", "as_of", "cycle_kind", "ruleset_id", "ruleset_version"),
    "regions": ("region_code", "region_name", "city_name", "province_code", "province_name"),
    "amendments": ("province", "cycle_id", "business_key", "type_before", "type_after", "amended_on"),
    "recognitions": ("uscc", "recognition_no", "category", "recognised_on", "valid_until", "status", "ended_on"),
    # the name index built at publish (flows/storage/name_index.py): public columns of ``directory`` only
    "search_names": ("doc", *PUBLIC_DIRECTORY_COLUMNS),
    "search_name_grams": ("gram", "doc"),
    "search_name_gram_counts": ("gram", "names"),
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


def search_lane(text: str) -> str:
    """The queue a search waits in (``flows/web/app.py`` ``READ_LANES``): ``lookup`` by code, ``name`` through the
    name index, ``scan`` for a one-character text (a scan of every name)."""
    if looks_like_code(text):
        return "lookup"
    return "name" if len(text.strip()) >= 2 else "scan"


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
    if _has(con, "search_name_gram_counts"):
        docs = _matching_docs(con, text)
        shown = docs[:MAX_MATCHES][(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        rows = con.sql(
            f"SELECT * FROM {public('search_names')} WHERE doc BETWEEN $low AND $high AND list_contains($docs, doc) "
            "ORDER BY doc",
            params={"docs": shown, "low": min(shown, default=0), "high": max(shown, default=-1)},
        ).pl()
        return SearchResult(text, False, _with_regions(con, rows.drop("doc")), len(docs), page)
    # a warehouse published before the name index: one scan of every searched name
    rows = _scanned_name_search(con, text, page)
    total = rows["total"][0] if rows.height else _count_matches(con, text)
    return SearchResult(text, False, _with_regions(con, rows.drop("total", strict=False)), total, page)


#: A gram held by more names than this is not fetched to narrow the candidates: its names cost more to fetch than
#: confirming the candidates does.
NARROWING_GRAM_MAX = 1_000_000
#: Candidates few enough to confirm without narrowing them further.
NARROWED_ENOUGH = 1000
#: When even the rarest gram of the text is in more names than this, the text is common: the names are scanned in
#: the list's order until MAX_MATCHES + 1 contain it (at worst one scan of every name, the cost without an index).
SCAN_ABOVE = 1_000_000
#: Candidates confirmed by the first query, in the list's order; each next query confirms twice as many, up to
#: CONFIRM_CHUNK_MAX (a common text stops after the first chunk).
CONFIRM_CHUNK = 4096
CONFIRM_CHUNK_MAX = 65536


def _name_grams(text: str) -> list[int]:
    """The distinct 2-character substrings of ``text``, as ``search_name_grams`` holds them."""
    return sorted({gram(text[i : i + 2]) for i in range(len(text) - 1)})


def _rarest_grams(con: duckdb.DuckDBPyConnection, text: str) -> list[tuple[int, int]]:
    """The grams of ``text`` with the number of names holding each, rarest first (a gram no name holds: 0)."""
    grams = _name_grams(text)
    counted = dict(
        con.execute(
            f"SELECT gram, names FROM {public('search_name_gram_counts')} "
            f"WHERE gram IN ({', '.join('?' for _ in grams)})",
            grams,
        ).fetchall()
    )
    return sorted(((g, counted.get(g, 0)) for g in grams), key=lambda pair: (pair[1], pair[0]))


def _postings(con: duckdb.DuckDBPyConnection, gram_code: int, limit: int | None = None) -> np.ndarray:
    """The ``doc`` of every name holding the gram (the first ``limit``), ascending: the table's storage order (sorted
    by gram, doc at publish), which a query without ORDER BY keeps, so a LIMIT stops reading early."""
    return (
        con.execute(
            f"SELECT doc FROM {public('search_name_grams')} WHERE gram = $gram"
            + (" LIMIT $limit" if limit is not None else ""),
            {"gram": gram_code} | ({"limit": limit} if limit is not None else {}),
        )
        .fetchnumpy()["doc"]
        .astype(np.int64)
    )


def _matching_docs(con: duckdb.DuckDBPyConnection, text: str) -> list[int]:
    """The first MAX_MATCHES + 1 names (their ``doc``, in the list's order) that contain ``text`` literally.

    A name contains the text only if it holds every gram of it: the rarest gram's names, narrowed by the next
    rarest ones (while the candidates are many and the gram not too common), are the candidates; ``contains()`` on
    the candidates' names, in the list's order and a chunk at a time, confirms the text (so the result is exactly
    the literal substring search's) and stops once MAX_MATCHES + 1 are found. A two-character text is its own gram:
    its names are the answer. A one-character text (no gram), or one whose rarest gram is in more than SCAN_ABOVE
    names, is looked for in every name in the list's order, stopping at the cap.
    """
    cap = MAX_MATCHES + 1
    grams = _rarest_grams(con, text) if len(text) >= 2 else []
    if not grams or grams[0][1] > SCAN_ABOVE:
        # no gram (one character), or a common text: the names in the list's order (their storage order, which a
        # query without ORDER BY keeps), stopping at the cap
        return sorted(
            doc
            for (doc,) in con.execute(
                f"SELECT doc FROM {public('search_names')} WHERE contains(name, $text) LIMIT $cap",
                {"text": text, "cap": cap},
            ).fetchall()
        )
    (rarest, count), others = grams[0], grams[1:]
    if count == 0:
        return []
    if len(text) == 2:
        return _postings(con, rarest, cap).tolist()
    candidates = _postings(con, rarest)
    for other, other_count in others:
        if other_count > NARROWING_GRAM_MAX or candidates.size <= NARROWED_ENOUGH:
            break
        candidates = np.intersect1d(candidates, _postings(con, other), assume_unique=True)
    found: list[int] = []
    start, size = 0, CONFIRM_CHUNK
    while start < candidates.size and len(found) < cap:
        chunk = candidates[start : start + size]
        found += [
            doc
            for (doc,) in con.execute(
                f"SELECT n.doc FROM {public('search_names')} n SEMI JOIN (SELECT unnest($docs) AS doc) c "
                "ON n.doc = c.doc WHERE n.doc BETWEEN $low AND $high AND contains(n.name, $text) ORDER BY n.doc",
                {"low": int(chunk[0]), "high": int(chunk[-1]), "docs": chunk.tolist(), "text": text},
            ).fetchall()
        ]
        start, size = start + size, min(2 * size, CONFIRM_CHUNK_MAX)
    return found[:cap]


def _scanned_name_search(con: duckdb.DuckDBPyConnection, text: str, page: int) -> pl.DataFrame:
    # One scan of every searched name (a warehouse published before the name index): the first MAX_MATCHES + 1
    # matches in the warehouse's order (a common text stops early), counted and sorted by name for the page asked.
    # contains() matches the text literally: % _ [ ] and quotes are characters of a name.
    return con.sql(
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


def _count_matches(con: duckdb.DuckDBPyConnection, text: str) -> int:
    """How many names contain ``text`` (by one scan), counted up to MAX_MATCHES + 1."""
    return con.execute(
        f"SELECT count(*) FROM ({_SEARCHED.format(condition='contains(d.name, $text)')} LIMIT $cap)",
        {"text": text, "cap": MAX_MATCHES + 1},
    ).fetchall()[0][0]


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
