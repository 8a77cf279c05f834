"""Re-judging objections against a generated cycle: time per objection and peak memory.

    python -m bench.objections_bench --businesses 1000000 --objections 1000 --data bench/data/objections
    python -m bench.objections_bench --businesses 1000000 --objections 1000 --data DIR --home HOME  # a home with
        # the cycle already published (bench/national_bench.py run leaves one under <home>/provinces/41)

Generates (once) a province-41 inbox of ``--businesses``, runs the cycle without Prefect (once), then re-judges
``--objections`` businesses one after another as ``getihu objection rejudge`` does — a tenth of them with a
confirmed tax payment attached (linkage reused: tax_payment is a linkage input, so those re-run linkage), the
rest without corrections. Prints one Markdown table row.
"""

from __future__ import annotations

import argparse
import datetime as dt
import threading
import time
from pathlib import Path

import polars as pl
import psutil

from flows.home import Cycle
from flows.objections.rejudge import rejudge
from flows.stages import execute
from synth.generate import generate
from synth.world import Plan

SECRET = b"getihu-development-key-NOT-FOR-PRODUCTION"
AS_OF = dt.date(2025, 7, 31)


def _peak_rss(stop: threading.Event, peak: list[int]) -> None:
    process = psutil.Process()
    while not stop.is_set():
        peak[0] = max(peak[0], process.memory_info().rss)
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--businesses", type=int, default=100_000)
    parser.add_argument("--objections", type=int, default=100)
    parser.add_argument("--data", type=Path, default=Path("bench/data/objections"))
    parser.add_argument(
        "--home", type=Path, help="an existing province-41 home whose 2025 cycle is published (e.g. national run's)"
    )
    args = parser.parse_args()
    home = args.home or args.data / f"home-{args.businesses}"
    inbox = home / "inbox" / "41" / "2025"
    if args.home is None and not inbox.exists():
        generate(Plan("41", 2025, args.businesses, seed=1, file_format="parquet"), inbox, lambda *_: None)
    cycle = Cycle("41", AS_OF, home, SECRET, quarantine_threshold=0.5)
    if not (home / "warehouse.duckdb").exists():
        execute(cycle)
    directory = pl.read_parquet(cycle.work_dir / "directory.parquet", columns=["business_key", "uscc"])
    sample = directory.filter(pl.col("uscc").is_not_null()).sample(args.objections, seed=1)
    correction = args.data / "tax_payment.csv"
    stop, peak = threading.Event(), [0]
    watcher = threading.Thread(target=_peak_rss, args=(stop, peak), daemon=True)
    watcher.start()
    began = time.monotonic()
    with_correction = 0
    for i, (key, uscc) in enumerate(sample.iter_rows()):
        files = []
        if i % 10 == 0:
            correction.write_text(
                "纳税人识别号,税种,税款所属期起,税款所属期止,入库日期,实缴金额（元）,确认部门,确认文号\n"
                f"{uscc},增值税,2024-04-01,2024-06-30,2024-07-15,20000,税务局,确〔2025〕1号\n",
                encoding="utf-8",
            )
            files = [("tax_payment", correction)]
            with_correction += 1
        rejudge(cycle, key, files)
    seconds = time.monotonic() - began
    stop.set()
    watcher.join()
    print(
        f"| {args.businesses:,} | {args.objections:,} ({with_correction} with a tax correction) | {seconds:,.1f} s "
        f"| {seconds / args.objections * 1000:,.0f} ms | {peak[0] / 2**30:.2f} GB |"
    )


if __name__ == "__main__":
    main()
