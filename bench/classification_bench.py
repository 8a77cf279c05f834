"""Benchmark of 名特优新: the round of a generated province and the yearly review of its register.

    python -m bench.classification_bench --businesses 1000000 --applications 30000 --recognitions 10000 --data DIR

Generates the province (``getihu generate``), runs its typing cycle of 2025 (not timed), writes a classification
inbox with about ``--applications`` applications (``synth.classification``), then times ``run_round`` (2025) and
— over a register of ``--recognitions`` recognitions — ``run_review`` (2026, on the same cycle copied forward).
Peak memory is the process's maximum resident set (``ru_maxrss``) after each step, in a child process each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

SECRET = b"bench-secret-classification-0123456789"


def _step(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--businesses", type=int, default=1_000_000)
    parser.add_argument("--applications", type=int, default=30_000)
    parser.add_argument("--recognitions", type=int, default=10_000)
    parser.add_argument("--data", type=Path, default=Path("bench/data/mtyx"))
    args = parser.parse_args()
    home = args.data / f"home-{args.businesses}"
    inbox = home / "inbox" / "41" / "2025"
    if not (home / "work" / "41" / "41-20250731" / "directory.parquet").exists():
        shutil.rmtree(home, ignore_errors=True)
        from flows.home import Cycle
        from flows.stages import execute
        from synth.generate import generate
        from synth.world import Plan

        generate(Plan("41", 2025, args.businesses, seed=1), inbox, lambda *_: None)
        execute(Cycle(province="41", as_of=dt.date(2025, 7, 31), home=home, secret=SECRET, quarantine_threshold=0.5))
    import polars as pl

    from synth.classification import write_classification

    pool = pl.read_parquet(home / "work" / "41" / "41-20250731" / "directory.parquet", columns=["business_type"])
    growth = pool.filter(pl.col("business_type").is_in(["成长型", "发展型"])).height
    write_classification(inbox, "41", 2025, seed=1, share=args.applications / growth)
    standards = home / "standards"
    standards.mkdir(exist_ok=True)
    for path in Path("data/classification").glob("41*.toml"):  # places for every application: the worst case
        (standards / path.name).write_text(path.read_text(encoding="utf-8").replace("share = 0.05", "share = 1"))
    common = (
        "import json, resource, time; from pathlib import Path; "
        "from flows.classification.commands import run_round, run_review; "
        f"home = Path({str(home)!r}); std = Path({str(standards)!r}); secret = {SECRET!r}; t = time.monotonic(); "
    )
    done = "; print(json.dumps({'seconds': round(time.monotonic() - t, 1), "
    done += "'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, 'counts': r.counts}))"
    shutil.rmtree(home / "work" / "41" / "mtyx", ignore_errors=True)
    round_result = _step(common + "r = run_round('41', 2025, home, secret, standards_dir=std)" + done)
    # the review: the 2025 cycle stands in for 2026's; the round's recognitions are the register
    cycle_2026 = home / "work" / "41" / "41-20260731"
    if not cycle_2026.exists():
        cycle_2026.symlink_to((home / "work" / "41" / "41-20250731").resolve())
    review_result = _step(common + "r = run_review('41', 2026, home, secret, standards_dir=std)" + done)
    print(
        json.dumps({"businesses": args.businesses, "round": round_result, "review": review_result}, ensure_ascii=False)
    )


if __name__ == "__main__":
    main()
