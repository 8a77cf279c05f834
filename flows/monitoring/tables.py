"""The monitoring figures of a province read from a warehouse connection, and the ``monitoring_*`` tables.

Every publish rebuilds the publishing province's rows of the ``monitoring_*`` tables on its building copy (the hook
in ``flows.storage.warehouse.build_warehouse``), from all of the province's cycles in the warehouse, so the
tables are never older than the warehouse that holds them (like the ``transitions`` view, they follow every
publish). ``getihu monitor`` computes the same figures with the same function (:func:`province_figures`) on a
read-only connection, so it also works on a warehouse published before these tables existed.
"""

from __future__ import annotations

import duckdb
import polars as pl

from flows.storage.warehouse import CYCLE_KIND_SQL, sql_literal
from reference import monitoring_for
from schemas.monitoring import COLUMN_LABELS, MONITORING_TABLES, Conversion
from transforms.monitoring import figures

#: Each cycle with its kind as the warehouse tells it (``flows.storage.warehouse.CYCLE_KIND_SQL``: a cycle published
#: before ``cycles.cycle_kind`` existed is yearly when judged on 31 July).
_CYCLES_SQL = f"""
    SELECT province, cycle_id, as_of, report_year, {CYCLE_KIND_SQL} AS cycle_kind
    FROM cycles
    WHERE province = $province
"""


def _frame(con: duckdb.DuckDBPyConnection, sql: str, province: str) -> pl.LazyFrame:
    return con.sql(sql, params={"province": province}).pl().lazy()


def province_figures(
    con: duckdb.DuckDBPyConnection, province: str, conversion: Conversion | None = None
) -> dict[str, pl.DataFrame]:
    """Every monitoring figure of ``province`` over all its cycles in the warehouse ``con`` holds."""
    conversion = conversion or monitoring_for(province)
    wanted = sorted(
        {t.feature for t in conversion.any_of}
        | {"status_active", "insured_incl_operator", "insured_excl_operator", "employees_prev_year"}
    )
    cycles = _frame(con, _CYCLES_SQL, province)
    directory = _frame(
        con,
        "SELECT cycle_id, business_key, uscc, name, region_code, industry, business_type FROM directory "
        "WHERE province = $province",
        province,
    )
    features = _frame(
        con,
        f"SELECT cycle_id, business_key, {', '.join(wanted)} FROM features WHERE province = $province",
        province,
    )
    transitions = _frame(
        con,
        "SELECT cycle_id, previous_cycle_id, business_key, previous_type, business_type, movement FROM transitions "
        "WHERE province = $province",
        province,
    )
    made = figures(cycles, directory, features, transitions, conversion)
    return {name: frame.collect() for name, frame in made.items()}


def add_monitoring_tables(con: duckdb.DuckDBPyConnection, province: str) -> None:
    """Replace ``province``'s rows of every ``monitoring_*`` table with figures over all its cycles in ``con``."""
    present = {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    for table, frame in province_figures(con, province).items():
        rows = frame.select(pl.lit(province).alias("province"), pl.all())
        con.register("incoming_monitoring", rows)
        if table in present:
            con.execute(
                f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {table} WHERE province <> $province "
                "UNION ALL BY NAME SELECT * FROM incoming_monitoring",
                {"province": province},
            )
        else:
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM incoming_monitoring")
        con.unregister("incoming_monitoring")
        con.execute(f"COMMENT ON TABLE {table} IS {sql_literal('监测分析：' + MONITORING_TABLES[table])}")
        for column in rows.columns:
            con.execute(f'COMMENT ON COLUMN {table}."{column}" IS {sql_literal(COLUMN_LABELS[column])}')
