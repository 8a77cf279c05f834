"""Benchmark of the ingest and validate stages against DuckDB's bare ``read_csv`` of the same files.

    .venv/bin/python bench/ingest.py --csv DIR [--parquet DIR] [--work DIR]

``--csv``: a province inbox as ``getihu generate`` writes it (UTF-8, GB18030 and .xlsx sources);
``--parquet``: the same province with ``--format parquet``. Every step runs in its own process, so each peak
RSS is that step's own. Steps, all in one run so the ratios compare like with like:

1. a UTF-8 copy of the CSV inbox (GB18030 files transcoded, untimed), the baseline's input;
2. baseline: DuckDB ``CREATE TABLE AS SELECT * FROM read_csv(...)`` of every CSV file of the UTF-8 copy;
3. ingest + validate of the UTF-8 copy: the same bytes as the baseline;
4. ingest + validate of the inbox as delivered (GB18030 included);
5. transcoding alone of the GB18030 files (``flows.readers.transcode``);
6. ingest + validate of the Parquet inbox, and DuckDB's bare ``read_parquet`` of it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = b"benchmark-key-not-a-secret"


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def _cpu_seconds() -> float:
    """User + system CPU time of the step and its worker processes: on a shared machine it moves less than wall
    time does."""
    return sum(
        r.ru_utime + r.ru_stime for r in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )


def _megabytes(paths: list[Path]) -> float:
    return sum(p.stat().st_size for p in paths) / 1e6


# --- steps, each run in a fresh process ---------------------------------------------------------------------


def step_stages(inbox: str, home: str) -> dict:
    from flows.home import Cycle
    from flows.stages.ingest import ingest
    from flows.stages.validate import validate

    shutil.rmtree(home, ignore_errors=True)
    # threshold 1: a benchmark measures throughput, whatever share a faulty province quarantines
    cycle = Cycle(
        province="41",
        as_of=dt.date(2025, 7, 31),
        home=Path(home),
        secret=SECRET,
        inbox=Path(inbox),
        quarantine_threshold=1.0,
    )
    start = time.perf_counter()
    ingested = ingest(cycle)
    middle = time.perf_counter()
    validated = validate(cycle)
    end = time.perf_counter()
    return {
        "ingest_s": middle - start,
        "validate_s": end - middle,
        "seconds": end - start,
        "rows": sum(ingested.rows.values()),
        "accepted": sum(validated.rows.values()),
    }


def step_duckdb(files: list[str], reader: str) -> dict:
    import duckdb

    con = duckdb.connect()
    start = time.perf_counter()
    rows = 0
    for i, file in enumerate(files):
        con.execute(f"CREATE TABLE t{i} AS SELECT * FROM {reader}(?)", [file])
        rows += con.execute(f"SELECT count(*) FROM t{i}").fetchone()[0]
    return {"seconds": time.perf_counter() - start, "rows": rows}


def step_transcode(files: list[str], scratch: str) -> dict:
    from flows.readers.transcode import transcode

    start = time.perf_counter()
    for file in files:
        transcode(Path(file), "gb18030", Path(scratch) / (Path(file).name + ".utf-8"))
    return {"seconds": time.perf_counter() - start}


STEPS = {"stages": step_stages, "duckdb": step_duckdb, "transcode": step_transcode}


def run_step(name: str, **kwargs) -> dict:
    """``name`` in a fresh Python process; its result plus that process's peak RSS."""
    command = [sys.executable, __file__, "--step", name, "--kwargs", json.dumps(kwargs)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"step {name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the run ------------------------------------------------------------------------------------------------


def utf8_copy(inbox: Path, dest: Path) -> list[Path]:
    """The inbox with every CSV in UTF-8; returns the GB18030 files it transcoded."""
    from flows.readers import csv_encoding
    from flows.readers.transcode import transcode

    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    transcoded = []
    for path in sorted(inbox.iterdir()):
        if path.suffix == ".csv" and csv_encoding(path, None) == "gb18030":
            transcode(path, "gb18030", dest / path.name)
            transcoded.append(path)
        else:
            shutil.copy(path, dest / path.name)
    return transcoded


def line(name: str, result: dict, megabytes: float, baseline: dict | None = None) -> str:
    speed = megabytes / result["seconds"]
    ratio = f"{result['seconds'] / baseline['seconds']:.2f}×" if baseline else "—"
    split = f"{result['ingest_s']:.1f} + {result['validate_s']:.1f}" if "ingest_s" in result else "—"
    return (
        f"| {name} | {megabytes:,.0f} | {result['seconds']:.1f} | {split} | {speed:,.0f} | {ratio} "
        f"| {result['cpu_s']:.1f} | {result['peak_rss_mb']:,.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path)
    parser.add_argument("--parquet", type=Path)
    parser.add_argument("--work", type=Path, default=Path("/tmp/getihu-bench-ingest"))
    parser.add_argument("--step")
    parser.add_argument("--kwargs")
    args = parser.parse_args()
    if args.step:
        result = STEPS[args.step](**json.loads(args.kwargs))
        print(json.dumps({**result, "peak_rss_mb": _peak_rss_mb(), "cpu_s": _cpu_seconds()}))
        return

    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    rows = [
        "| run | input MB | seconds | ingest + validate s | MB/s | × DuckDB read_csv | CPU s | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    results = {}
    if args.csv:
        utf8 = work / "utf8-inbox"
        gb18030 = utf8_copy(args.csv, utf8)
        utf8_csv = sorted(utf8.glob("*.csv"))
        results["duckdb_read_csv"] = run_step("duckdb", files=[str(p) for p in utf8_csv], reader="read_csv")
        results["stages_utf8"] = run_step("stages", inbox=str(utf8), home=str(work / "home-utf8"))
        results["stages_delivered"] = run_step("stages", inbox=str(args.csv), home=str(work / "home-delivered"))
        scratch = work / "transcoded"
        scratch.mkdir(exist_ok=True)
        results["transcode"] = run_step("transcode", files=[str(p) for p in gb18030], scratch=str(scratch))
        shutil.rmtree(scratch)
        base = results["duckdb_read_csv"]
        all_utf8 = sorted(p for p in utf8.iterdir() if p.is_file())
        rows.append(line("DuckDB read_csv, UTF-8 copy (CSV files only)", base, _megabytes(utf8_csv)))
        rows.append(line("ingest + validate, UTF-8 copy", results["stages_utf8"], _megabytes(all_utf8), base))
        delivered = sorted(p for p in args.csv.iterdir() if p.is_file())
        rows.append(
            line("ingest + validate, as delivered (GB18030)", results["stages_delivered"], _megabytes(delivered), base)
        )
        rows.append(line("GB18030 → UTF-8 transcoding alone", results["transcode"], _megabytes(gb18030)))
    if args.parquet:
        files = sorted(p for p in args.parquet.iterdir() if p.suffix == ".parquet")
        results["duckdb_read_parquet"] = run_step("duckdb", files=[str(p) for p in files], reader="read_parquet")
        results["stages_parquet"] = run_step("stages", inbox=str(args.parquet), home=str(work / "home-parquet"))
        rows.append(line("DuckDB read_parquet", results["duckdb_read_parquet"], _megabytes(files)))
        baseline = results.get("duckdb_read_csv")
        rows.append(line("ingest + validate, Parquet", results["stages_parquet"], _megabytes(files), baseline))
    print("\n".join(rows))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
