"""Are two homes' results the same? ``python tools/compare_homes.py HOME_A HOME_B``; exit 0 when they are.

The check behind a change that must not change behaviour (docs/architecture.md, "Layout change check"):

- every cycle folder ``out/<P>/<cycle>/``: every file byte for byte, except ``report.html``, compared with its
  run times masked (the "运行耗时" section and clock times), and ``manifest.json``, compared without
  ``generated_at``;
- the stage files of every cycle (``work/<P>/<cycle>/**/*.parquet``): the same rows in the same order;
- the warehouse: every table's rows, sorted, and every table and column comment, the same;
  the ``cycles`` row without its run times (``started_at``, ``published_at``, ``stages``).

Differences are named one per line.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import duckdb
import polars as pl

#: Columns of the warehouse that record when and how long a run took, not what it found.
RUN_TIME_COLUMNS = {"cycles": ("started_at", "published_at", "stages")}
_RUN_TIMES_SECTION = re.compile(r"<h2>运行耗时</h2>.*?(?=<h2|</body>)", re.S)
_CLOCK = re.compile(r"\b\d{2}:\d{2}(:\d{2})?\b")


def _masked_report(data: bytes) -> str:
    return _CLOCK.sub("hh:mm", _RUN_TIMES_SECTION.sub("<h2>运行耗时</h2>…", data.decode("utf-8")))


def _manifest(data: bytes) -> dict:
    manifest = json.loads(data)
    manifest.pop("generated_at", None)
    return manifest


def _relative_files(folder: Path, pattern: str = "*") -> set[Path]:
    return {p.relative_to(folder) for p in folder.rglob(pattern) if p.is_file()}


def compare_cycle_folders(a: Path, b: Path) -> list[str]:
    differences = []
    out_a, out_b = a / "out", b / "out"
    names_a, names_b = _relative_files(out_a), _relative_files(out_b)
    differences += [f"out/{name}: only in {a}" for name in sorted(names_a - names_b)]
    differences += [f"out/{name}: only in {b}" for name in sorted(names_b - names_a)]
    for name in sorted(names_a & names_b):
        data_a, data_b = (out_a / name).read_bytes(), (out_b / name).read_bytes()
        if name.name == "report.html":
            same = _masked_report(data_a) == _masked_report(data_b)
        elif name.name == "manifest.json":
            same = _manifest(data_a) == _manifest(data_b)
        else:
            same = data_a == data_b
        if not same:
            differences.append(f"out/{name}: differs")
    return differences


def compare_stage_files(a: Path, b: Path) -> list[str]:
    differences = []
    work_a, work_b = a / "work", b / "work"
    # the raw layer and the checked tables kept for reuse (validated/) are caches of the inbox, not stage outputs
    names_a = {n for n in _relative_files(work_a, "*.parquet") if not {"raw", "validated"} & set(n.parts)}
    names_b = {n for n in _relative_files(work_b, "*.parquet") if not {"raw", "validated"} & set(n.parts)}
    differences += [f"work/{name}: only in one home" for name in sorted(names_a ^ names_b)]
    for name in sorted(names_a & names_b):
        if not pl.read_parquet(work_a / name).equals(pl.read_parquet(work_b / name)):
            differences.append(f"work/{name}: other rows")
    return differences


def _table(con: duckdb.DuckDBPyConnection, table: str) -> pl.DataFrame:
    frame = con.sql(f'SELECT * FROM "{table}"').pl().drop(RUN_TIME_COLUMNS.get(table, ()), strict=False)
    sortable = [c for c, dtype in frame.schema.items() if not dtype.is_nested()]
    return frame.sort(sortable, nulls_last=True) if sortable else frame


def compare_warehouses(a: Path, b: Path) -> list[str]:
    with (
        duckdb.connect(str(a / "warehouse.duckdb"), read_only=True) as con_a,
        duckdb.connect(str(b / "warehouse.duckdb"), read_only=True) as con_b,
    ):
        query = "SELECT table_name FROM information_schema.tables ORDER BY table_name"
        tables_a = [r[0] for r in con_a.sql(query).fetchall()]
        tables_b = [r[0] for r in con_b.sql(query).fetchall()]
        if tables_a != tables_b:
            return [f"warehouse: tables {tables_a} against {tables_b}"]
        differences = []
        for table in tables_a:
            frame_a, frame_b = _table(con_a, table), _table(con_b, table)
            if frame_a.schema != frame_b.schema:
                differences.append(f"warehouse.{table}: other columns")
            elif not frame_a.equals(frame_b):
                differences.append(f"warehouse.{table}: other rows ({frame_a.height} against {frame_b.height})")
        comments = (
            "SELECT table_name, column_name, comment FROM duckdb_columns() UNION ALL "
            "SELECT table_name, NULL, comment FROM duckdb_tables() ORDER BY ALL"
        )
        if con_a.sql(comments).fetchall() != con_b.sql(comments).fetchall():
            differences.append("warehouse: other table or column comments")
        return differences


def compare_homes(a: Path, b: Path) -> list[str]:
    return compare_cycle_folders(a, b) + compare_stage_files(a, b) + compare_warehouses(a, b)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    a, b = Path(argv[0]), Path(argv[1])
    differences = compare_homes(a, b)
    for line in differences:
        print(line)
    if not differences:
        print(f"{a} and {b}: same cycle folders, stage files and warehouse tables (run times aside)")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
