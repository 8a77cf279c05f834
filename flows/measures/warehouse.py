"""The warehouse tables of the measures and the sample, published like the classification's: a byte copy of the
published file with this step's rows replaced, renamed over it under the home's run lock; the typing cycle's swap
carries them over untouched.

- ``measure_eligibility``: one row per cycle, measure and qualifying business (a step replaces its cycle's rows);
- ``inspection_samples``: one row per drawn business of each draw (a draw replaces the rows of its cycle, seed and
  size).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from flows.storage import warehouse as typing_warehouse
from flows.storage.warehouse import sql_literal

TABLE_COMMENTS = {
    "measure_eligibility": (
        "帮扶措施（免申即享）对象：每期每项措施每户符合条件的个体工商户一行——措施、牵头部门、主体、分型结果"
    ),
    "inspection_samples": (
        "“双随机、一公开”抽查样本：每次抽取（周期、随机种子、样本量）每户被抽中的个体工商户一行——分层、层内排序、抽签码"
    ),
}

COLUMN_COMMENTS = {
    "measure_eligibility": {
        "province": "省级行政区划代码（两位）",
        "cycle_id": "周期编号：省份-判定日期（如 41-20250731）",
        "as_of": "判定日期",
        "measures_version": "帮扶措施文件版本（data/measures/<省>.toml 的 version）",
        "department": "牵头部门",
        "measure_id": "措施编号",
        "measure_name": "措施名称",
        "business_key": "主体键：统一社会信用代码，无统一社会信用代码时为注册号",
        "uscc": "统一社会信用代码（仅有注册号时为空）",
        "reg_no": "注册号（旧15位登记号）",
        "name": "名称（字号名称，可为空）",
        "region_code": "行政区划代码（县级，6位）",
        "region_name": "行政区划名称",
        "business_type": "分型结果（异议更正后的）",
        "categories": "判定日期持有的有效名特优新认定类别",
    },
    "inspection_samples": {
        "province": "省级行政区划代码（两位）",
        "cycle_id": "周期编号：省份-判定日期（如 41-20250731）",
        "as_of": "判定日期",
        "seed": "公布的随机种子",
        "size": "样本量 N（各层抽取户数之和）",
        "method": "抽取方法（sha256-rank-v1，见 docs/measures.md）",
        "inspection_version": "抽查比例文件版本（data/inspection/<省>.toml 的 version）",
        "region_code": "分层：行政区划代码（县级，6位）",
        "region_name": "行政区划名称",
        "business_type": "分层：分型结果（异议更正后的）",
        "recognised": "分层：判定日期持有有效的名特优新认定",
        "ratio": "该层的抽查比例",
        "frequency": "该层的抽查频次（次/年）",
        "rank": "层内排序（按抽签码从小到大，1 为第一个抽中）",
        "draw_key": "抽签码：SHA-256(随机种子:主体键) 的十六进制",
        "business_key": "主体键：统一社会信用代码，无统一社会信用代码时为注册号",
        "uscc": "统一社会信用代码（仅有注册号时为空）",
        "reg_no": "注册号（旧15位登记号）",
        "name": "名称（字号名称，可为空）",
    },
}

#: The key whose rows a step replaces.
KEYS = {"measure_eligibility": ("province", "cycle_id"), "inspection_samples": ("province", "cycle_id", "seed", "size")}


def publish_rows(warehouse: Path, table: str, rows: pl.DataFrame, key: dict[str, object]) -> None:
    """Replace ``table``'s rows of ``key`` (a value for each ``KEYS[table]`` column) by ``rows``, atomically: a step
    that finds nobody still removes its earlier rows. The caller holds the home lock. The columns must be those of
    ``COLUMN_COMMENTS[table]``, in order."""
    assert list(rows.columns) == list(COLUMN_COMMENTS[table]), f"{table}: columns {rows.columns}"
    assert set(key) == set(KEYS[table]), f"{table}: key {key}"
    with typing_warehouse.rewritten(warehouse) as con:
        con.register("incoming", rows)
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM incoming LIMIT 0")
        where = " AND ".join(f"{column} = ${column}" for column in key)
        con.execute(f"DELETE FROM {table} WHERE {where}", key)
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
        con.unregister("incoming")
        con.execute(f"COMMENT ON TABLE {table} IS {sql_literal(TABLE_COMMENTS[table])}")
        for column, comment in COLUMN_COMMENTS[table].items():
            con.execute(f'COMMENT ON COLUMN {table}."{column}" IS {sql_literal(comment)}')
