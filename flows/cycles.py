"""``getihu cycles`` and ``getihu compare``: the cycles published in a home, and two cycles side by side.

Read from the published warehouse (and the drafts' warehouse), opened read-only, as an analyst would.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from rich.table import Table

from flows.errors import QueryError
from flows.home import DRAFT_SUFFIX, DRAFTS, warehouse_path
from flows.storage.warehouse import CYCLE_KIND_SQL, open_read_only
from schemas.terms import CYCLE_KIND_LABELS
from schemas.vocabulary import MOVEMENTS, SHOWN_TYPES, TYPE_RANK

_CYCLES_SQL = f"""
    SELECT province, cycle_id, as_of, {CYCLE_KIND_SQL} AS cycle_kind,
           ruleset_id || '-' || ruleset_version AS ruleset, businesses, development, growth, survival, ineligible,
           quarantined, published_at
    FROM cycles
"""


def _warehouses(home: Path) -> list[Path]:
    return [p for p in (warehouse_path(home), warehouse_path(home / DRAFTS)) if p.is_file()]


def published_cycles(home: Path) -> pl.DataFrame:
    """Every cycle of the home's warehouse and of its drafts' warehouse, by province and as-of date."""
    frames = []
    for path in _warehouses(home):
        with open_read_only(path) as con:
            columns = {name for (name, *_) in con.execute("DESCRIBE cycles").fetchall()}
            sql = (
                _CYCLES_SQL
                if "cycle_kind" in columns
                else _CYCLES_SQL.replace("coalesce(cycle_kind,", "coalesce(NULL,")
            )
            frames.append(con.sql(sql).pl())
    if not frames:
        raise QueryError(f"{warehouse_path(home)}：这里还没有数据仓库；getihu run 发布第一个周期时会建立它")
    return pl.concat(frames).sort("province", "as_of", "cycle_id")


def cycles_table(cycles: pl.DataFrame) -> Table:
    table = Table(title="已发布的周期")
    for header, justify in [("周期编号", "left"), ("判定日期", "left"), ("类型", "left"), ("分型标准", "left")] + [
        (t, "right") for t in (*SHOWN_TYPES, "合计", "隔离行数")
    ]:
        table.add_column(header, justify=justify, overflow="fold")  # fold, never "…": a cut cycle id is no id
    for row in cycles.iter_rows(named=True):
        counts = [row["development"], row["growth"], row["survival"], row["ineligible"], row["businesses"]]
        table.add_row(
            row["cycle_id"],
            f"{row['as_of']:%Y-%m-%d}",
            CYCLE_KIND_LABELS.get(row["cycle_kind"], row["cycle_kind"]),
            row["ruleset"],
            *(f"{n:,}" for n in counts),
            f"{row['quarantined']:,}",
        )
    return table


def _directory(home: Path, cycle_id: str) -> pl.DataFrame:
    path = warehouse_path(home / DRAFTS if cycle_id.endswith(DRAFT_SUFFIX) else home)
    if not path.is_file():
        raise QueryError(f"{path}：没有数据仓库，找不到周期 {cycle_id}")
    with open_read_only(path) as con:
        rows = con.sql(
            "SELECT business_key, business_type FROM directory WHERE cycle_id = ? ORDER BY business_key",
            params=[cycle_id],
        ).pl()
    if rows.is_empty():
        raise QueryError(f"{path}：没有周期 {cycle_id}（getihu cycles 列出已发布的周期）")
    return rows


def compare(home: Path, first: str, second: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Counts by type in each cycle, and the movements from ``first`` to ``second`` (previous type → type)."""
    a, b = _directory(home, first), _directory(home, second)
    counts = pl.DataFrame(
        {
            "分型结果": [*SHOWN_TYPES, "合计"],
            first: [*(a.filter(pl.col("business_type") == t).height for t in SHOWN_TYPES), a.height],
            second: [*(b.filter(pl.col("business_type") == t).height for t in SHOWN_TYPES), b.height],
        }
    ).with_columns((pl.col(second) - pl.col(first)).alias("增减"))
    joined = a.rename({"business_type": "before"}).join(
        b.rename({"business_type": "after"}), on="business_key", how="full", coalesce=True
    )
    rank = {t: r for t, r in TYPE_RANK.items()}
    movement = (
        pl.when(pl.col("before").is_null())
        .then(pl.lit("新增"))
        .when(pl.col("after").is_null())
        .then(pl.lit("退出"))
        .when(pl.col("after").replace_strict(rank) > pl.col("before").replace_strict(rank))
        .then(pl.lit("上升"))
        .when(pl.col("after").replace_strict(rank) < pl.col("before").replace_strict(rank))
        .then(pl.lit("下降"))
        .otherwise(pl.lit("不变"))
    )
    moves = (
        joined.with_columns(movement.alias("变动"))
        .group_by("变动")
        .len("户数")
        .join(pl.DataFrame({"变动": list(MOVEMENTS)}).with_row_index("order"), on="变动")
        .sort("order")
        .drop("order")
    )
    return counts, moves


def frame_table(frame: pl.DataFrame, title: str) -> Table:
    table = Table(title=title)
    for column in frame.columns:
        table.add_column(column, justify="left" if frame[column].dtype == pl.String else "right")
    for row in frame.iter_rows():
        table.add_row(*(f"{v:,}" if isinstance(v, int) else str(v) for v in row))
    return table
