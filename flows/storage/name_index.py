"""The name index of the public search (查询公示): 2-character grams of every searched 名称 → the business.

The public search by part of a name looks in each province's latest yearly cycle (``flows/web/public_data.py``).
Scanning every name costs a second per ten million businesses, so every publish builds, on its building copy
(the hook in ``flows.storage.warehouse.build_warehouse``), from public columns only:

- ``search_names``: the searched rows — each province's latest yearly cycle, businesses with a name — with the
  public columns the result list shows and ``doc``, their rank in the list's order (名称, then USCC, then
  the business key, then the province); stored in that order.
- ``search_name_grams``: every distinct 2-character substring of each name (``gram``: its two code points in one
  BIGINT) with the ``doc`` of the name, stored sorted by gram then doc: DuckDB reads the rows of one gram only.
- ``search_name_gram_counts``: how many names hold each gram (which grams of a search text are the rarest).

A search text of k ≥ 2 characters is in a name only if each of its k − 1 grams is: the names holding its two
rarest grams are the candidates, and ``contains()`` on those names confirms the literal text (so the result is
exactly the literal substring search's). Both tables are rebuilt whole at every publish, like ``transitions``,
and never hold personal data or money: they are a copy of public columns of ``directory``.
"""

from __future__ import annotations

import duckdb

#: The index's tables.
INDEX_TABLES = ("search_names", "search_name_grams", "search_name_gram_counts")

#: The public columns of ``directory`` (no money, no personal data, no reasons: the only ones the web front's public
#: pages read, ``flows.web.public_data.PUBLIC_COLUMNS``), kept in ``search_names`` after ``doc``.
PUBLIC_DIRECTORY_COLUMNS = (
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
)

TABLE_COMMENTS = {
    "search_names": "名称检索：各省最新一期年度周期中有名称的主体（公示字段），按查询结果的顺序（名称）编号排列",
    "search_name_grams": "名称检索索引：每个名称中的每两个相邻字符（二元组）及名称编号，按二元组、编号排序",
    "search_name_gram_counts": "名称检索索引：每个二元组出现在多少个名称中",
}
COLUMN_COMMENTS = {
    ("search_names", "doc"): "名称编号：在查询结果顺序（名称、统一社会信用代码、主体键、省份）中的位置，从 0 起",
    ("search_name_grams", "gram"): "二元组：名称中相邻两个字符的 Unicode 码位（前一字符左移 21 位，与后一字符按位或）",
    ("search_name_grams", "doc"): "含该二元组的名称的编号（search_names.doc）",
    ("search_name_gram_counts", "gram"): "二元组（同 search_name_grams.gram）",
    ("search_name_gram_counts", "names"): "含该二元组的名称数",
}

#: The searched cycles: each province's latest yearly cycle.
LATEST_YEARLY_CYCLES = """
    SELECT cycle_id FROM cycles WHERE cycle_kind = 'yearly'
    QUALIFY row_number() OVER (PARTITION BY province ORDER BY as_of DESC) = 1
"""

#: The order of a name search's list; ``doc`` numbers the rows in it.
LIST_ORDER = "name, uscc NULLS LAST, business_key, province"


def add_name_index(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)build ``search_names`` and ``search_name_grams`` from ``directory`` and ``cycles`` in ``con``."""
    columns = ", ".join(PUBLIC_DIRECTORY_COLUMNS)
    con.execute(
        f"""CREATE OR REPLACE TABLE search_names AS
        SELECT (row_number() OVER (ORDER BY {LIST_ORDER}) - 1)::INTEGER AS doc, {columns}
        FROM directory
        WHERE cycle_id IN ({LATEST_YEARLY_CYCLES}) AND name IS NOT NULL AND name <> ''
        ORDER BY doc"""
    )
    con.execute(
        # each name's distinct grams (list_distinct on a name's own short list: no hash table over every row)
        f"""CREATE OR REPLACE TABLE search_name_grams AS
        SELECT unnest(list_distinct(list_transform(range(1, length(name)), lambda i: {gram_sql("name", "i")})))
            AS gram, doc
        FROM search_names
        ORDER BY gram, doc"""
    )
    con.execute(
        "CREATE OR REPLACE TABLE search_name_gram_counts AS "
        "SELECT gram, count(*) AS names FROM search_name_grams GROUP BY gram ORDER BY gram"
    )
    for table, comment in TABLE_COMMENTS.items():
        con.execute(f"COMMENT ON TABLE {table} IS {_literal(comment)}")
    for (table, column), comment in COLUMN_COMMENTS.items():
        con.execute(f"COMMENT ON COLUMN {table}.{column} IS {_literal(comment)}")
    directory = dict(
        con.execute(
            "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'directory' "
            "AND database_name = current_database() AND comment IS NOT NULL"
        ).fetchall()
    )
    for column in PUBLIC_DIRECTORY_COLUMNS:  # the same meaning as in directory
        if column in directory:
            con.execute(f"COMMENT ON COLUMN search_names.{column} IS {_literal(directory[column])}")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def gram_sql(text: str, i: str) -> str:
    """SQL of the gram at (1-based) character ``i`` of ``text``: the code points of its two characters in a
    BIGINT (21 bits each), which sorts and compares far faster than a string; :func:`gram` is the same in Python."""
    return f"(unicode(substr({text}, {i}::BIGINT, 1))::BIGINT << 21) | unicode(substr({text}, {i}::BIGINT + 1, 1))"


def gram(pair: str) -> int:
    """The gram of two characters, as ``search_name_grams.gram`` holds it."""
    return ord(pair[0]) << 21 | ord(pair[1])
