"""The national directory at scale (issue 19, national.md "Scale, measured and projected").

Three steps, each printing a Markdown row (seconds, peak memory, bytes) for BENCHMARKS.md:

    # 1. provinces' cycles as `national run` runs them: 2 Dask workers, then the same provinces one after another
    #    (the same flow on a 1-worker cluster), each in a fresh national home, inboxes generated beforehand
    python -m bench.national_bench run --inboxes /work/bench-data/national --provinces 41,23,32,44 \
        --home /work/bench-data/national/run-dask --workers 2
    python -m bench.national_bench run --inboxes /work/bench-data/national --provinces 41,23,32,44 \
        --home /work/bench-data/national/run-serial --workers 1

    # 2. synthetic packages: one real province's package rewritten for every other province (region codes, USCCs,
    #    注册号, cycle id), checksums and manifest recomputed — SYNTHETIC, said so wherever the figures are quoted
    python -m bench.national_bench packages --real /work/bench-data/national/run-serial/inbox/2025 \
        --home /work/bench-data/national/assembly-31 --year 2025

    # 3. the assembly of every package in the national inbox
    python -m bench.national_bench assemble --home /work/bench-data/national/assembly-31 --year 2025

Inboxes: ``<inboxes>/<P>-1M-parquet/2025`` as ``getihu generate --province P --year 2025 --businesses 1000000
--format parquet --seed 1`` writes them. Provinces without a standard filed here (data/rulesets/) type under
41's file with the province changed (``--ruleset``): their packages say so (分型标准 HA-2024.1).

Peak memory is the resident set of this process and every process it started (Dask's nannies and workers),
summed, sampled every 0.2 s; the Prefect API server this tool starts for `run` is left out (it is not part of a
cycle). Bytes read: ``read_chars`` of /proc/<pid>/io (every read system call, page cache included) and the size
of the files the assembly had to read; memory-mapped reads are not counted by the kernel's counter.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import polars as pl
import psutil

YEAR = 2025
SECRET = "getihu-development-key-NOT-FOR-PRODUCTION"


# --- measuring -----------------------------------------------------------------------------------------


class Watch:
    """Wall time, peak summed RSS of this process tree (less ``exclude``), and read_chars of the tree."""

    def __init__(self, exclude: set[int] | None = None) -> None:
        self.exclude = exclude or set()
        self.peak = 0
        self.reads: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _tree(self) -> list[psutil.Process]:
        me = psutil.Process()
        return [me, *(p for p in me.children(recursive=True) if p.pid not in self.exclude)]

    def _sample(self) -> None:
        while not self._stop.is_set():
            total = 0
            for process in self._tree():
                try:
                    total += process.memory_info().rss
                    self.reads[process.pid] = process.io_counters().read_chars
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
            self.peak = max(self.peak, total)
            time.sleep(0.2)

    def __enter__(self) -> Watch:
        self.began = time.monotonic()
        self.reads_before = psutil.Process().io_counters().read_chars
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self.seconds = time.monotonic() - self.began
        self._stop.set()
        self._thread.join()
        self.reads[os.getpid()] = psutil.Process().io_counters().read_chars
        self.read_chars = sum(self.reads.values()) - self.reads_before


def load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def gb(n: int) -> str:
    return f"{n / 2**30:.2f} GB"


# --- 1. national run -----------------------------------------------------------------------------------


def _prefect_server(folder: Path):
    os.environ["PREFECT_HOME"] = str(folder)
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = "CRITICAL"
    os.environ.pop("PREFECT_API_URL", None)
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    with temporary_settings(updates={PREFECT_HOME: str(folder)}):
        server = SubprocessASGIServer()
        server.start(timeout=300)
    os.environ["PREFECT_API_URL"] = server.api_url  # Dask workers inherit it
    return server, temporary_settings(updates={PREFECT_API_URL: server.api_url, PREFECT_HOME: str(folder)})


def synthetic_ruleset(province: str, folder: Path) -> Path:
    """41's filed standard with the province changed: the stand-in standard of a province that filed none here
    (as tests/national does); its packages name HA-2024.1."""
    from reference import ruleset_file

    text = ruleset_file("41").read_text(encoding="utf-8")
    lines = [f'province = "{province}"' if line.startswith("province = ") else line for line in text.splitlines()]
    path = folder / f"ruleset-{province}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(args: argparse.Namespace) -> None:
    from flows.national.run import run_national
    from reference import ruleset_file

    os.environ.setdefault("GETIHU_SECRET", SECRET)
    provinces = args.provinces.split(",")
    home = args.home.resolve()
    if home.exists():
        shutil.rmtree(home)  # a fresh home: nothing is skipped as unchanged
    home.mkdir(parents=True)
    rulesets = {p: str(synthetic_ruleset(p, home)) for p in provinces if not ruleset_file(p).is_file()}
    inboxes = {p: str(args.inboxes / f"{p}-{args.scale}-parquet" / str(YEAR)) for p in provinces}
    server, settings = _prefect_server(home / "prefect")
    try:
        with settings:
            before = load()
            server_tree = psutil.Process(server.server_process.pid)
            exclude = {server_tree.pid, *(p.pid for p in server_tree.children(recursive=True))}
            with Watch(exclude=exclude) as watch:
                record = run_national(
                    YEAR,
                    provinces,
                    home,
                    rulesets=rulesets,
                    inboxes=inboxes,
                    workers=args.workers,
                    assemble_after=False,
                )
    finally:
        server.stop()
    per = ", ".join(f"{r['province']} {r.get('seconds', 0):.0f} s ({r['status']})" for r in record["provinces"])
    print(
        f"| {len(provinces)} × {args.scale} ({','.join(provinces)}) | {args.workers} | {watch.seconds:,.1f} s | "
        f"{sum(r.get('seconds', 0) for r in record['provinces']):,.1f} s | {gb(watch.peak)} | {per} | "
        f"{before} → {load()} |"
    )
    failed = [r for r in record["provinces"] if r["status"] != "ran"]
    if failed:
        sys.exit(f"not every province ran: {failed}")


# --- 2. synthetic packages -----------------------------------------------------------------------------


def _region_map(codes: set[str], target: str) -> dict[str, str]:
    """Every region code in ``codes`` → a region code of ``target`` (as the assembly's check knows them: every code
    of data/regions.csv under the province), by rank, wrapping: a deterministic stand-in."""
    from reference import regions

    theirs = sorted(regions().filter(pl.col("province_code") == target)["region_code"])
    return {c: theirs[i % len(theirs)] for i, c in enumerate(sorted(codes))}


def _uscc_for(uscc: pl.Expr, old_region: pl.Expr, new_region: pl.Expr, regions: set[str]) -> pl.Expr:
    """The USCC with its 登记管理机关行政区划码 (characters 3–8) replaced and its check character recomputed
    (GB 32100-2015), vectorised: the weighted sum is linear, so the old check character gives the sum of the
    unchanged characters, and only the region's part (one number per county) changes."""
    from schemas.codes import USCC_ALPHABET, USCC_WEIGHTS

    value = {c: i for i, c in enumerate(USCC_ALPHABET)}

    def part(region: str) -> int:
        return sum(value[ch] * w for ch, w in zip(region, USCC_WEIGHTS[2:8], strict=True))

    parts = {r: part(r) for r in regions}
    old_sum = 31 * 200 - uscc.str.slice(17, 1).replace_strict(value, return_dtype=pl.Int64)  # ≥ 0: a part < 31·120
    new_sum = (
        old_sum
        - old_region.replace_strict(parts, return_dtype=pl.Int64)
        + new_region.replace_strict(parts, return_dtype=pl.Int64)
    )
    check = ((31 - new_sum % 31) % 31).replace_strict(dict(enumerate(USCC_ALPHABET)), return_dtype=pl.String)
    return uscc.str.slice(0, 2) + new_region + uscc.str.slice(8, 9) + check


def rewritten(frame: pl.DataFrame, source: str, target: str, keep_every: int, offset: int) -> pl.DataFrame:
    """A submission (every column text) of ``source`` as if ``target`` had typed it: 行政区划代码 and the USCC's
    region mapped code by code. Every ``keep_every``-th row (from ``offset``) keeps its USCC: a business that
    moved, present in both provinces (a cross-province duplicate for the assembly to flag). 注册号 is left as it
    is (no check of the assembly reads it; national keys are province and business)."""
    codes = set(frame["统一社会信用代码"].drop_nulls().str.slice(2, 6)) | set(frame["行政区划代码"].drop_nulls())
    mapping = _region_map(codes, target)
    old = pl.col("统一社会信用代码").str.slice(2, 6)
    new = old.replace_strict(mapping)
    regions = codes | set(mapping.values())
    moved = (pl.int_range(pl.len()) % keep_every) == offset
    return frame.with_columns(
        pl.when(moved | pl.col("统一社会信用代码").is_null())
        .then(pl.col("统一社会信用代码"))
        .otherwise(_uscc_for(pl.col("统一社会信用代码"), old, new, regions))
        .alias("统一社会信用代码"),
        pl.col("行政区划代码").replace_strict(mapping, default=None),
    )


def synthetic_package(real: Path, source: str, target: str, out: Path, keep_every: int, offset: int) -> None:
    """``real`` (a province's package) rewritten as ``target``'s into ``out``: submission.parquet and .csv, with
    the manifest's province, cycle id, checksums and row counts; other listed files copied unchanged."""
    from flows.national.assemble import read_submission, sha256_of

    manifest = json.loads((real / "manifest.json").read_text(encoding="utf-8"))
    out.mkdir(parents=True, exist_ok=True)
    listed = {f["name"] for f in manifest["files"]}
    parquet = pl.read_parquet(real / "submission.parquet")
    original = read_submission(real / "submission.parquet")
    text = rewritten(original, source, target, keep_every, offset)
    for name in listed:
        if name == "submission.parquet":  # the real file's columns and types, the rewritten codes
            parquet.with_columns(text["统一社会信用代码"], text["行政区划代码"]).write_parquet(out / name)
        elif name == "submission.csv":
            text.write_csv(out / name)
        elif name == "public.csv":  # the findable rows: the same businesses' new codes
            codes = pl.DataFrame({"_old": original["统一社会信用代码"], "_new": text["统一社会信用代码"]})
            mapping = _region_map(set(original["统一社会信用代码"].drop_nulls().str.slice(2, 6))
                                  | set(original["行政区划代码"].drop_nulls()), target)  # fmt: skip
            (
                pl.read_csv(real / name, infer_schema=False)
                .join(
                    codes.drop_nulls().unique("_old"),
                    left_on="统一社会信用代码",
                    right_on="_old",
                    how="left",
                    maintain_order="left",
                )
                .with_columns(
                    pl.coalesce("_new", "统一社会信用代码").alias("统一社会信用代码"),
                    pl.col("行政区划代码").replace_strict(mapping, default=pl.col("行政区划代码")),
                )
                .drop("_new")
                .write_csv(out / name)
            )
        else:
            shutil.copy2(real / name, out / name)
    for entry in manifest["files"]:
        entry["sha256"] = sha256_of(out / entry["name"])
    manifest["province"] = target
    manifest["cycle_id"] = manifest["cycle_id"].replace(f"{source}-", f"{target}-", 1)
    manifest["synthetic"] = f"bench/national_bench.py: rewritten from province {source}'s package"
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def packages(args: argparse.Namespace) -> None:
    from flows.national.assemble import provinces

    inbox = args.home / "inbox" / str(args.year)
    real = sorted(p for p in args.real.iterdir() if (p / "manifest.json").is_file())
    inbox.mkdir(parents=True, exist_ok=True)
    for folder in real:  # the real packages as they are
        target = inbox / folder.name
        if not target.exists():
            shutil.copytree(folder, target)
    source = real[0]
    began = time.monotonic()
    made = 0
    for i, code in enumerate(p for p in provinces() if not (inbox / p).exists()):
        synthetic_package(source, source.name, code, inbox / code, args.keep_every, i % args.keep_every)
        made += 1
    with (inbox / "receipts.csv").open("w", encoding="utf-8") as stream:  # every package in time (national.md)
        stream.write("省份,接收时间\n" + "".join(f"{p},{args.year}-08-10T09:00:00+08:00\n" for p in provinces()))
    print(f"{made} synthetic packages from {source.name} in {time.monotonic() - began:,.0f} s; real: "
          f"{', '.join(p.name for p in real)}")  # fmt: skip


# --- 3. assembly ---------------------------------------------------------------------------------------


def assemble_timed(args: argparse.Namespace) -> None:
    from flows.national.assemble import assemble

    inbox = args.home / "inbox" / str(args.year)
    on_disk = sum(p.stat().st_size for p in inbox.rglob("*") if p.is_file())
    before = load()
    with Watch() as watch:
        assembly = assemble(args.home, args.year)
    rows = sum(o.rows or 0 for o in assembly.outcomes)
    statuses = {}
    for o in assembly.outcomes:
        statuses[o.status] = statuses.get(o.status, 0) + 1
    warehouse = (args.home / "warehouse.duckdb").stat().st_size
    print(
        f"| {len(assembly.outcomes)} packages, {rows:,} rows | {watch.seconds:,.1f} s | {gb(watch.peak)} | "
        f"{on_disk / 2**30:.2f} GB in the inbox; read_chars {watch.read_chars / 2**30:.2f} GB | "
        f"{warehouse / 2**30:.2f} GB | {statuses} | {assembly.duplicates['uscc'].n_unique():,} | {before} → {load()} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    r = sub.add_parser("run")
    r.add_argument("--inboxes", type=Path, required=True)
    r.add_argument("--provinces", default="41,23,32,44")
    r.add_argument("--home", type=Path, required=True)
    r.add_argument("--workers", type=int, default=2)
    r.add_argument("--scale", default="1M", help="inboxes <inboxes>/<P>-<scale>-parquet/2025")
    p = sub.add_parser("packages")
    p.add_argument("--real", type=Path, required=True, help="a national inbox/<Y>/ holding real packages")
    p.add_argument("--home", type=Path, required=True)
    p.add_argument("--year", type=int, default=YEAR)
    p.add_argument("--keep-every", type=int, default=1000, help="every N-th business keeps its USCC (moved)")
    a = sub.add_parser("assemble")
    a.add_argument("--home", type=Path, required=True)
    a.add_argument("--year", type=int, default=YEAR)
    args = parser.parse_args()
    print(f"# {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, load {load()}", file=sys.stderr)
    {"run": run, "packages": packages, "assemble": assemble_timed}[args.step](args)


if __name__ == "__main__":
    main()
