"""The name index of the public search gives exactly the literal substring search's answer, page by page.

Hand-made names with the characters that trip pattern matching or gram splitting (``%``, ``_``, spaces, full-width
forms, repeated characters), in two provinces with an older yearly cycle and an extra cycle that are not searched;
every answer is compared with a brute-force ``in`` over the searched rows, and with the scan the web front used
before the index (``_scanned_name_search``).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from flows.storage.name_index import INDEX_TABLES, add_name_index
from flows.web import public_data

# (province, cycle_id, as_of, kind)
CYCLES = [
    ("41", "41-20240731", dt.date(2024, 7, 31), "yearly"),
    ("41", "41-20250731", dt.date(2025, 7, 31), "yearly"),
    ("41", "41-20251015", dt.date(2025, 10, 15), "extra"),
    ("23", "23-20250731", dt.date(2025, 7, 31), "yearly"),
]
SEARCHED = {"41-20250731", "23-20250731"}

NAMES = [
    "张记面馆",
    "张记面馆二店",
    "李_记面馆",
    "李%记面馆",
    "100%纯手工面馆",
    "老 王 小吃",
    "老王小吃",
    "（全角）五金店",
    "(半角)五金店",
    "ＡＢＣ便利店",
    "ABC便利店",
    "哈哈哈哈",
    "哈哈",
    "哈",
    "面面面馆馆",
    "馆面馆",
    "记面",
    "'引号'茶叶店",
    "[方括号]花店",
    "",
    None,
]


def _rows() -> list[tuple]:
    rows = []
    number = 0
    for province, cycle_id, as_of, _kind in CYCLES:
        for i, name in enumerate(NAMES):
            number += 1
            # the same name twice in a cycle (one without USCC: listed after the one with), and in both provinces
            for copy in range(2 if i % 5 == 0 else 1):
                key = f"92{province}0000{number:08d}{copy}X"[:18]
                uscc = None if copy else key
                rows.append(
                    (
                        province,
                        cycle_id,
                        key,
                        uscc,
                        f"4101{number:011d}",
                        name,
                        f"{province}0102",
                        "生存型",
                        "HA",
                        "2024.1",
                        as_of,
                    )
                )
    return rows


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    path = tmp_path_factory.mktemp("name-index") / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE directory (province VARCHAR, cycle_id VARCHAR, business_key VARCHAR, uscc VARCHAR, "
        "reg_no VARCHAR, name VARCHAR, region_code VARCHAR, business_type VARCHAR, ruleset_id VARCHAR, "
        "ruleset_version VARCHAR, as_of DATE, reasons VARCHAR[])"
    )
    con.executemany("INSERT INTO directory VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ['NO_CONDITION'])", _rows())
    con.execute(
        "CREATE TABLE cycles (province VARCHAR, cycle_id VARCHAR, as_of DATE, cycle_kind VARCHAR, "
        "ruleset_id VARCHAR, ruleset_version VARCHAR)"
    )
    con.executemany("INSERT INTO cycles VALUES (?, ?, ?, ?, 'HA', '2024.1')", CYCLES)
    con.execute(
        "CREATE TABLE regions AS SELECT '410102' AS region_code, '中原区' AS region_name, '郑州市' AS city_name, "
        "'41' AS province_code, '河南省' AS province_name"
    )
    add_name_index(con)
    yield con
    con.close()


def _brute_force(con, text: str) -> list[tuple]:
    """Every searched row whose name contains ``text``, in the list's order (name, USCC, key, province)."""
    text = text.strip()  # as the search form takes it
    rows = [r for r in _rows() if r[1] in SEARCHED and r[5] is not None and text in r[5]]
    return sorted(rows, key=lambda r: (r[5], r[3] is None, r[3] or "", r[2], r[0]))


QUERIES = [
    "面馆",
    "记面馆",
    "张记面馆二店",
    "_",
    "_记",
    "%",
    "%记",
    "100%",
    "老 王",
    "老王",
    " 王 ",
    "（全角）",
    "(",
    "ＡＢＣ",
    "ABC",
    "哈哈",
    "哈哈哈",
    "哈哈哈哈哈",
    "哈",
    "面面",
    "馆馆",
    "面面面馆馆",
    "面馆面",  # every gram is in 馆面馆, the text is not
    "'",
    "'引号'",
    "[方括号]",
    "张记面馆二店还有更长的名字远远超过任何一个名称",
    "没有这个",
    "记",
]


#: The planner's ways: narrowed and confirmed at once; no narrowing and confirmed two names at a time; every name
#: scanned in the list's order (as for a common text).
WAYS = {
    "narrowed": {},
    "chunks": {"NARROWING_GRAM_MAX": 0, "CONFIRM_CHUNK": 2, "CONFIRM_CHUNK_MAX": 2},
    "scan": {"SCAN_ABOVE": 0},
}


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("text", QUERIES)
def test_the_index_finds_exactly_the_names_that_contain_the_text(con, text, way, monkeypatch):
    for name, value in WAYS[way].items():
        monkeypatch.setattr(public_data, name, value)
    expected = _brute_force(con, text)
    found = public_data.search(con, text)
    assert found.total == len(expected)
    assert [(r["name"], r["uscc"], r["business_key"], r["province"]) for r in found.rows] == [
        (r[5], r[3], r[2], r[0]) for r in expected[: public_data.PAGE_SIZE]
    ]
    assert all(r["cycle_id"] in SEARCHED for r in found.rows)
    scanned = public_data._scanned_name_search(con, text.strip(), 1)  # the scan before the index: the same rows
    assert scanned.height == min(len(expected), public_data.PAGE_SIZE)
    assert scanned["business_key"].to_list() == [r["business_key"] for r in found.rows]


def test_pages_and_the_cap_follow_the_list_order_in_small_chunks(con, monkeypatch):
    monkeypatch.setattr(public_data, "PAGE_SIZE", 2)
    monkeypatch.setattr(public_data, "MAX_MATCHES", 5)
    monkeypatch.setattr(public_data, "CONFIRM_CHUNK", 3)  # several chunks before the cap is reached
    monkeypatch.setattr(public_data, "CONFIRM_CHUNK_MAX", 3)
    monkeypatch.setattr(public_data, "NARROWING_GRAM_MAX", 1)  # no narrowing: every candidate is confirmed
    expected = _brute_force(con, "记面")
    assert len(expected) > 6
    pages = [public_data.search(con, "记面", page) for page in (1, 2, 3, 4)]
    assert all(p.total == 6 and p.capped for p in pages)  # MAX_MATCHES + 1 counted: "more than 5"
    listed = [r["business_key"] for p in pages for r in p.rows]
    assert listed == [r[2] for r in expected[:5]]  # the first five in the list's order, two a page, then none
    assert pages[3].rows == []


def test_the_index_holds_public_columns_only_and_in_the_list_order(con):
    for table in INDEX_TABLES:
        columns = [c for (c, *_) in con.execute(f"DESCRIBE {table}").fetchall()]
        assert columns == list(public_data.PUBLIC_COLUMNS[table])
    # stored in the list's order: the search reads them in storage order and stops early
    grams = con.execute("SELECT gram, doc FROM search_name_grams ORDER BY rowid").fetchall()
    assert grams == sorted(grams) and len(set(grams)) == len(grams)
    docs = con.execute("SELECT doc, name FROM search_names ORDER BY rowid").fetchall()
    assert [d for d, _ in docs] == list(range(len(docs)))  # stored in the list's order
    assert [n for _, n in docs] == sorted(n for _, n in docs)
    assert None not in [n for _, n in docs] and "" not in [n for _, n in docs]


def test_a_warehouse_without_the_index_is_still_searched_by_a_scan(con):
    old = duckdb.connect()  # published before the index: its tables only
    for table in ("directory", "cycles", "regions"):
        frame = con.sql(f"SELECT * FROM {table}").pl()  # noqa: F841 — read by DuckDB's replacement scan
        old.execute(f"CREATE TABLE {table} AS SELECT * FROM frame")
    for text in ("面馆", "%记", "哈哈哈"):
        found = public_data.search(old, text)
        expected = _brute_force(con, text)
        assert found.total == len(expected)
        assert {r["business_key"] for r in found.rows} == {r[2] for r in expected}
    old.close()
