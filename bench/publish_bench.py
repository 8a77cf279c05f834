"""Publish against the size of the warehouse it replaces: one typed cycle published into a warehouse that already
holds N earlier cycles of the same size.

    .venv/bin/python -m bench.publish_bench --home DIR [--history 0,1,3] [--scale N --scaled DIR2]

``DIR`` must hold a typed cycle of province 41 as of 2025-07-31 with its ``run.json`` — as ``make bench`` leaves
it in ``bench/data/homes/41-1M-csv``. The earlier cycles are this cycle's rows under earlier as-of dates (a year
apart), copied into the warehouse by SQL: what publish costs depends on how many rows it carries over, not on
what they say. Each publish runs in its own process (its own time and peak RSS, ``bench.run.measure``).

``--scale N`` first writes to ``DIR2`` a cycle N times as large — every stage file of ``DIR`` N times, the copies
told apart by one character of their keys — and measures publish there: what publish does with ten million
businesses' files before the stages can produce them. It is not a benchmark of the stages.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import time
from pathlib import Path

import duckdb
import polars as pl

from bench.run import _gb, cycle_for, measure
from flows.storage.warehouse import TABLES


def earlier_cycles(warehouse: Path, cycle_id: str, as_of: dt.date, count: int) -> None:
    """``count`` copies of cycle ``cycle_id``'s rows in every table, one year apart before ``as_of``."""
    con = duckdb.connect(str(warehouse))
    for years in range(1, count + 1):
        earlier = as_of.replace(year=as_of.year - years)
        earlier_id = f"{cycle_id[:3]}{earlier:%Y%m%d}"
        for table in TABLES:
            columns = {row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()}
            replaced = "$earlier_id AS cycle_id" + (", $earlier AS as_of" if "as_of" in columns else "")
            con.execute(
                f"INSERT INTO {table} SELECT * REPLACE ({replaced}) FROM {table} WHERE cycle_id = $cycle_id",
                {"earlier_id": earlier_id, "cycle_id": cycle_id} | ({"earlier": earlier} if "as_of" in columns else {}),
            )
    con.execute("CHECKPOINT")
    con.close()


def scaled_cycle(home: Path, scaled: Path, times: int) -> None:
    """``home``'s stage files, each row ``times`` times, copy ``i`` with ``i`` in the 9th character of its keys."""
    source, target = cycle_for(home, home).work_dir, cycle_for(scaled, scaled).work_dir
    target.mkdir(parents=True, exist_ok=True)

    def marked(column: str, i: int) -> pl.Expr:
        return pl.col(column).str.slice(0, 8) + pl.lit(str(i)) + pl.col(column).str.slice(9)

    keys = {"directory.parquet": ("business_key", "uscc", "reg_no"), "features.parquet": ("business_key",),
            "linkage.parquet": ("business_key", "record")}  # fmt: skip
    for name, columns in keys.items():
        frame = pl.read_parquet(source / name)
        copies = [frame.with_columns(marked(c, i) for c in columns) for i in range(times)]
        pl.concat(copies).sort(frame.columns[0] if name != "linkage.parquet" else ["source", "record"]).write_parquet(
            target / name
        )
    for name in ("quarantine.parquet", "inputs.json", "run.json"):
        shutil.copy(source / name, target / name)


def child(spec: dict) -> dict:
    from flows.stages.publish import publish

    cycle = cycle_for(Path(spec["home"]), Path(spec["home"]) / "inbox")
    if spec["variant"] == "seed":
        cycle.warehouse.unlink(missing_ok=True)
        publish(cycle)
        earlier_cycles(cycle.warehouse, cycle.cycle_id, cycle.as_of, spec["history"])
        return {"seconds": 0.0}
    began = time.perf_counter()
    result = publish(cycle)
    return {"seconds": time.perf_counter() - began, "rows": result.rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path)
    parser.add_argument("--history", default="0,1,3", help="numbers of earlier cycles in the warehouse")
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--scaled", type=Path, help="where the scaled cycle is written")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    home = args.home.resolve()
    if args.scale > 1:
        scaled_cycle(home, args.scaled, args.scale)
        home = args.scaled.resolve()
    print("| earlier cycles in the warehouse | warehouse before, MB | publish s | peak RSS |")
    print("|---:|---:|---:|---:|")
    for history in (int(n) for n in args.history.split(",")):
        measure({"variant": "seed", "home": str(home), "history": history}, module="bench.publish_bench")
        size = (home / "warehouse.duckdb").stat().st_size / 1e6
        result = measure({"variant": "publish", "home": str(home)}, module="bench.publish_bench")
        print(f"| {history} | {size:,.0f} | {result['seconds']:.1f} | {_gb(result['peak_rss'])} |", flush=True)


if __name__ == "__main__":
    main()
