"""A published cycle as the measures and the sample read it: from the warehouse, as published and as amended after
objections (``amendments``), with the 名特优新 recognitions valid on its as-of date.

Reading the warehouse, not the staging under ``work/``, means the files match what the office published: a type
changed after an objection counts with its amended value, and a cycle that was never published cannot be used.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from flows.errors import PipelineStop
from flows.home import warehouse_path
from flows.objections.warehouse_tables import AMENDED_DIRECTORY, has_amendments
from flows.storage.warehouse import open_read_only
from reference import regions
from schemas.terms import yearly_as_of
from transforms.classification.frames import valid_on


class CycleNotPublished(PipelineStop):
    """The cycle asked for is not in the home's published warehouse."""


@dataclass(frozen=True)
class PublishedCycle:
    province: str
    cycle_id: str
    as_of: dt.date
    cycle_kind: str
    businesses: pl.DataFrame  # one row per business: identity, type, features, categories (名特优新 held valid)


def cycle_id_for(province: str, year: int | None, cycle: str | None) -> str:
    """``--cycle`` when given (it must be the province's and, with ``--year``, of that year), else the yearly cycle
    of ``--year`` (``<P>-<Y>0731``)."""
    if cycle is None:
        if year is None:
            raise PipelineStop(
                "需要 --year（年度，取该年 7 月 31 日的年度分型周期）或 --cycle（周期编号，如 41-20250731）"
            )
        return f"{province}-{yearly_as_of(year):%Y%m%d}"
    if not cycle.startswith(f"{province}-"):
        raise PipelineStop(
            f"--cycle {cycle}：不是省份 {province} 的周期（周期编号为 省份-判定日期，如 {province}-20250731）"
        )
    if year is not None and cycle[len(province) + 1 : len(province) + 5] != str(year):
        raise PipelineStop(f"--cycle {cycle} 与 --year {year} 不一致：请只给其中一个，或给出一致的两个")
    return cycle


def check_published(home: Path) -> None:
    """Refuse a home without a published warehouse before anything is written in it (the lock file included)."""
    if not warehouse_path(home).is_file():
        raise CycleNotPublished(
            f"{warehouse_path(home)}：这里还没有数据仓库，没有已发布的周期。请先运行 getihu run 发布周期"
            "（或用 --home 指定存放数据仓库的主目录）。"
        )


def _cycle_row(con: duckdb.DuckDBPyConnection, province: str, cycle_id: str, home: Path) -> tuple[dt.date, str]:
    rows = con.execute(
        "SELECT as_of, coalesce(cycle_kind, 'yearly') FROM cycles WHERE province = ? AND cycle_id = ?",
        [province, cycle_id],
    ).fetchall()
    if not rows:
        raise CycleNotPublished(
            f"{warehouse_path(home)}：没有已发布的周期 {cycle_id}。请先运行该周期（getihu run --province {province} "
            f"…），或用 getihu cycles --home {home} 查看已发布的周期。"
        )
    return rows[0]


def _recognised(con: duckdb.DuckDBPyConnection, province: str, as_of: dt.date) -> pl.DataFrame:
    """USCC → the 名特优新 categories it holds valid on ``as_of`` (none without a register)."""
    empty = pl.DataFrame(schema={"uscc": pl.String, "categories": pl.List(pl.String)})
    tables = {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if "recognitions" not in tables:
        return empty
    register = con.sql(
        "SELECT uscc, category, recognised_on, valid_until, status, ended_on FROM recognitions WHERE province = ?",
        params=[province],
    ).pl()
    valid = valid_on(register, as_of)
    if valid.is_empty():
        return empty
    return valid.group_by("uscc").agg(pl.col("category").unique().sort().alias("categories"))


def published_cycle(home: Path, province: str, cycle_id: str) -> PublishedCycle:
    """The cycle's businesses from the published warehouse (read-only), sorted by business key."""
    check_published(home)
    with open_read_only(warehouse_path(home)) as con:
        as_of, kind = _cycle_row(con, province, cycle_id, home)
        directory = f"({AMENDED_DIRECTORY})" if has_amendments(con) else "directory"
        businesses = con.sql(
            f"""SELECT d.business_key, d.uscc, d.reg_no, d.name, d.region_code, d.business_type, d.criteria_failed,
                       f.* EXCLUDE (province, cycle_id, business_key)
                FROM {directory} d JOIN features f ON f.cycle_id = d.cycle_id AND f.business_key = d.business_key
                WHERE d.cycle_id = $cycle_id AND d.province = $province ORDER BY d.business_key""",
            params={"cycle_id": cycle_id, "province": province},
        ).pl()
        recognised = _recognised(con, province, as_of)
    names = regions().select("region_code", "region_name")
    businesses = (
        businesses.join(recognised, on="uscc", how="left", maintain_order="left")
        .with_columns(pl.col("categories").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        .join(names, on="region_code", how="left", maintain_order="left")
    )
    return PublishedCycle(province, cycle_id, as_of, kind, businesses)
