"""``make bench`` / ``make bench-10m``: the whole cycle of a synthetic province against its baselines, side by side.

    .venv/bin/python -m bench.run --businesses 1000000 [--data DIR] [--formats csv,parquet] [--baselines ...]
        [--profile slowest|none|<stage>] [--record BENCHMARKS.md]

Inputs are generated once by ``getihu generate`` (province 41, year 2025) into ``DIR/41-<size>-<format>/2025`` —
``DIR`` is ``$GETIHU_BENCH_DATA`` or ``bench/data/`` (git-ignored) — and reused by every later run. For each
format, each of these runs in its own process, so its time and peak RSS (the process and any workers it starts)
are its own:

- ``floor``: every input read once into a count (``bench.floor``);
- ``getihu``: the stages ingest, validate, link, features, type and publish called in sequence on a fresh home,
  timed one by one, each with its own peak RSS (sampled every 50 ms);
- ``rerun``: the same six stages again on that home for another as-of date (an extra cycle on the unchanged
  inbox): what is reused between runs (docs/reliability.md) against what is done again;
- ``sql``: one hand-written DuckDB SQL implementation of the same rules (``bench.sql_cycle``);
- ``pandas``: a plain pandas implementation of the same rules (``bench.pandas_cycle``).

The baselines' results are then compared business by business with the pipeline's (a figure for a different
answer is no figure), the slowest stage is profiled (pyinstrument), and the table is printed and, with
``--record``, added to BENCHMARKS.md above the earlier entries.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import psutil

ROOT = Path(__file__).resolve().parent.parent
PROVINCE, YEAR = "41", 2025
AS_OF = dt.date(YEAR, 7, 31)
RERUN_AS_OF = dt.date(YEAR, 9, 30)  # the rerun: an extra judgment cycle on the same, unchanged inbox
SECRET = b"benchmark-key-not-a-secret"  # keys the synthetic IDs; a benchmark is not a real run
STAGES = ("ingest", "validate", "link", "features", "type", "publish")
BASELINES = ("sql", "pandas")
GB = 1024**3


def size_label(businesses: int) -> str:
    return f"{businesses // 1_000_000}M" if businesses % 1_000_000 == 0 else f"{businesses // 1000}k"


def default_data_dir() -> Path:
    return Path(os.environ.get("GETIHU_BENCH_DATA", ROOT / "bench" / "data"))


# --- inputs -------------------------------------------------------------------------------------------------


def inbox_path(data: Path, businesses: int, fmt: str) -> Path:
    return data / f"{PROVINCE}-{size_label(businesses)}-{fmt}" / str(YEAR)


def ensure_inbox(data: Path, businesses: int, fmt: str) -> Path:
    """The inbox of that size and format, generated (into a temporary folder, then renamed) when absent."""
    inbox = inbox_path(data, businesses, fmt)
    if inbox.is_dir():
        return inbox
    partial = inbox.parent.with_name(inbox.parent.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    getihu = Path(sys.executable).parent / "getihu"
    command = [str(getihu), "generate", "--province", PROVINCE, "--year", str(YEAR), "--businesses", str(businesses),
               "--format", fmt, "--out", str(partial / str(YEAR))]  # fmt: skip
    print(f"generating the {fmt} inbox: {' '.join(command)}", flush=True)
    subprocess.run(command, check=True)
    partial.rename(inbox.parent)
    return inbox


# --- what runs in a child process ---------------------------------------------------------------------------


class PeakRss:
    """Peak RSS of this process and its children, sampled in a thread, per named phase."""

    def __init__(self, interval: float = 0.05) -> None:
        self.phase = "start"
        self.peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._interval = interval
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(self._interval):
            self.record(tree_rss(me))

    def record(self, rss: int) -> None:
        self.peaks[self.phase] = max(self.peaks.get(self.phase, 0), rss)

    def stop(self) -> dict[str, int]:
        self._stop.set()
        self._thread.join()
        return self.peaks


def tree_rss(process: psutil.Process) -> int:
    """RSS of a process and its descendants (transcoding starts worker processes)."""
    total = 0
    with contextlib.suppress(psutil.Error):  # the process may end between two calls
        for p in [process, *process.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
    return total


def cycle_for(home: Path, inbox: Path, as_of: dt.date = AS_OF):
    from flows.home import Cycle

    return Cycle(province=PROVINCE, as_of=as_of, home=home, secret=SECRET, inbox=inbox)


def stage_functions() -> dict:
    from flows.stages.business_types import type_businesses
    from flows.stages.features import features
    from flows.stages.ingest import ingest
    from flows.stages.link import link
    from flows.stages.publish import publish
    from flows.stages.validate import validate

    return {"ingest": ingest, "validate": validate, "link": link, "features": features, "type": type_businesses,
            "publish": publish}  # fmt: skip


def write_run_record(cycle, started_at: dt.datetime, stages: list[dict]) -> None:
    """``run.json`` as the flow writes it before publish (docs/architecture.md, "Files between stages")."""
    from flows.stages import write_run_record as write
    from schemas.work_files import RunRecord, StageTime

    times = [StageTime(s["stage"], s["seconds"], s["rows"]) for s in stages]
    write(RunRecord(cycle.cycle_id, cycle.province, cycle.as_of, started_at, times), cycle)


def run_pipeline(inbox: Path, home: Path, rerun: bool = False) -> dict:
    """Every stage in sequence on a fresh home: seconds, rows and peak RSS of each. ``rerun``: on the home the
    measured run left, for another as-of date (``RERUN_AS_OF``): what an extra cycle on an unchanged inbox costs."""
    from flows.stages.publish import now_in_china

    if not rerun:
        shutil.rmtree(home, ignore_errors=True)
    cycle = cycle_for(home, inbox, RERUN_AS_OF if rerun else AS_OF)
    functions = stage_functions()
    rss = PeakRss()
    started_at, stages = now_in_china(), []
    for name in STAGES:
        if name == "publish":
            write_run_record(cycle, started_at, stages)
        rss.phase = name
        began = time.perf_counter()
        result = functions[name](cycle)
        stages.append({"stage": name, "seconds": round(time.perf_counter() - began, 3), "rows": result.rows})
    peaks = rss.stop()
    for stage in stages:
        stage["peak_rss"] = peaks.get(stage["stage"], 0)
    return {"stages": stages, "seconds": sum(s["seconds"] for s in stages)}


def run_profile(inbox: Path, home: Path, stage: str, out: Path) -> dict:
    """One stage again, alone, under pyinstrument, on the home the measured run left (ingest from scratch)."""
    from pyinstrument import Profiler

    cycle = cycle_for(home, inbox)
    if stage == "ingest":
        cycle.raw_db.unlink(missing_ok=True)  # an unchanged file is not loaded twice
    function = stage_functions()[stage]
    profiler = Profiler(interval=0.01)
    began = time.perf_counter()
    profiler.start()
    function(cycle)
    profiler.stop()
    seconds = time.perf_counter() - began
    out.write_text(profiler.output_text(unicode=True, color=False, show_all=False), encoding="utf-8")
    return {"seconds": seconds}


def child(spec: dict) -> dict:
    """Run one measured thing; its own timing excludes the interpreter's start and imports."""
    variant, inbox = spec["variant"], Path(spec["inbox"])
    if variant in ("pipeline", "rerun"):
        return run_pipeline(inbox, Path(spec["home"]), rerun=variant == "rerun")
    if variant == "profile":
        return run_profile(inbox, Path(spec["home"]), spec["stage"], Path(spec["out"]))
    began = time.perf_counter()
    if variant == "floor":
        from bench.floor import read_once

        result = read_once(inbox, Path(spec["scratch"]))
    elif variant == "sql":
        from bench.sql_cycle import run

        result = run(inbox, PROVINCE, AS_OF, Path(spec["out"]), Path(spec["scratch"]))
    else:
        from bench.pandas_cycle import run

        result = run(inbox, PROVINCE, AS_OF, Path(spec["out"]))
    return result | {"seconds": time.perf_counter() - began}


def measure(spec: dict, module: str = "bench.run") -> dict:
    """``spec`` run by ``module --child`` in a child process: its result, wall time and peak RSS (``wait4``, and
    sampled over the process tree)."""
    command = [sys.executable, "-m", module, "--child", json.dumps(spec)]
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    sampled, done = [0], threading.Event()

    def sample() -> None:
        watched = psutil.Process(process.pid)
        while not done.wait(0.1):
            sampled[0] = max(sampled[0], tree_rss(watched))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    sampler.join()
    if process.returncode:
        raise SystemExit(f"{spec['variant']} failed (exit {process.returncode}); its messages are above")
    result = json.loads(output.strip().splitlines()[-1])
    stage_peaks = [s["peak_rss"] for s in result.get("stages", [])]
    peak = max(sampled[0], usage.ru_maxrss * 1024, *stage_peaks)
    return result | {"wall": time.perf_counter() - began, "peak_rss": peak}


# --- checks -------------------------------------------------------------------------------------------------


def same_results(work: Path, baseline: Path, variant: str) -> str:
    """Whether the baseline gave every business the pipeline's result: type and reasons (pandas), or every
    column of the directory and the features the baseline wrote (SQL)."""
    con = duckdb.connect(config={"memory_limit": "2GB"})
    con.execute(
        f"CREATE VIEW ours AS SELECT * FROM read_parquet('{work / 'directory.parquet'}') AS directory "
        f"JOIN read_parquet('{work / 'features.parquet'}') AS features USING (business_key)"
    )
    con.execute(f"CREATE VIEW theirs AS SELECT * FROM read_parquet('{baseline}')")
    if variant == "pandas":
        ours_columns = "business_key, business_type, array_to_string(reasons, ';') AS reasons"
        theirs_columns = "business_key, business_type, reasons"
    else:
        names = {row[0] for row in con.execute("DESCRIBE ours").fetchall()}
        shared = [row[0] for row in con.execute("DESCRIBE theirs").fetchall() if row[0] in names]
        ours_columns = theirs_columns = ", ".join(f'"{c}"' for c in shared)
    differing = con.execute(
        f"SELECT count(DISTINCT business_key), min(business_key) FROM ("
        f"(SELECT {ours_columns} FROM ours EXCEPT ALL SELECT {theirs_columns} FROM theirs) UNION ALL "
        f"(SELECT {theirs_columns} FROM theirs EXCEPT ALL SELECT {ours_columns} FROM ours))"
    ).fetchone()
    businesses = con.execute("SELECT count(*) FROM ours").fetchone()[0]
    if differing[0]:
        return f"DIFFERENT for {differing[0]:,} of {businesses:,} businesses (e.g. {differing[1]})"
    return f"identical for all {businesses:,} businesses"


# --- the report ---------------------------------------------------------------------------------------------


def machine() -> str:
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    import pandas
    import polars

    return (
        f"{os.cpu_count()} cores ({model}), {psutil.virtual_memory().total / GB:.0f} GB RAM; Python "
        f"{platform.python_version()}, polars {polars.__version__}, duckdb {duckdb.__version__}, pandas "
        f"{pandas.__version__}"
    )


def commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=ROOT).returncode != 0
    return head.stdout.strip() + (" with uncommitted changes" if dirty else "")


def _gb(n: int) -> str:
    return f"{n / GB:.2f} GB"


def _ratio(a: float, b: float | None) -> str:
    return f"×{a / b:.2f}" if b else "—"


def table(results: dict) -> list[str]:
    """One row per measured thing, one group of columns per input format."""
    formats = list(results)
    head = "| measured | " + " | ".join(f"{f} s | × floor | × SQL | peak RSS" for f in formats) + " |"
    lines = [head, "|---|" + "---:|---:|---:|---:|" * len(formats)]

    def row(label: str, pick) -> None:
        cells = []
        for f in formats:
            r = results[f]
            seconds, rss = pick(r)
            if seconds is None:
                cells.append("— | — | — | —")
                continue
            sql = r["sql"]["seconds"] if "sql" in r else None
            cells.append(
                f"{seconds:,.1f} | {_ratio(seconds, r['floor']['seconds'])} | {_ratio(seconds, sql)} | {_gb(rss)}"
            )
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row("floor: every input read once (DuckDB count)", lambda r: (r["floor"]["seconds"], r["floor"]["peak_rss"]))
    row("**getihu, end to end** (the six stages in one process)",
        lambda r: (r["pipeline"]["seconds"], r["pipeline"]["peak_rss"]))  # fmt: skip
    for i, stage in enumerate(STAGES):
        row(
            f"  {stage}", lambda r, i=i: (r["pipeline"]["stages"][i]["seconds"], r["pipeline"]["stages"][i]["peak_rss"])
        )
    if all("rerun" in r for r in results.values()):
        row(f"getihu, rerun: the same inbox, another as-of date ({RERUN_AS_OF})",
            lambda r: (r["rerun"]["seconds"], r["rerun"]["peak_rss"]))  # fmt: skip
        for i, stage in enumerate(STAGES):
            row(f"  {stage} (rerun)",
                lambda r, i=i: (r["rerun"]["stages"][i]["seconds"], r["rerun"]["stages"][i]["peak_rss"]))  # fmt: skip
    row("DuckDB SQL, the same rules (`bench/sql_cycle.py`)",
        lambda r: (r["sql"]["seconds"], r["sql"]["peak_rss"]) if "sql" in r else (None, 0))  # fmt: skip
    row("pandas, the same rules (`bench/pandas_cycle.py`)",
        lambda r: (r["pandas"]["seconds"], r["pandas"]["peak_rss"]) if "pandas" in r else (None, 0))  # fmt: skip
    return lines


def verdict(met: bool) -> str:
    return "**met**" if met else "**missed**"


def targets(run: dict, one_million: dict | None) -> list[str]:
    """The issue's targets (issue #15) that this run can judge, each met or missed and by how much."""
    lines = []
    for fmt, r in run["results"].items():
        seconds = r["pipeline"]["seconds"]
        if fmt == "csv":
            floor = seconds / r["floor"]["seconds"]
            lines.append(f"- csv: end to end within 2× the floor: ×{floor:.2f} — {verdict(floor <= 2)}")
        if "sql" in r:
            sql = seconds / r["sql"]["seconds"]
            lines.append(f"- {fmt}: no slower than the DuckDB SQL baseline: ×{sql:.2f} — {verdict(sql <= 1)}")
        if "pandas" in r:
            faster = r["pandas"]["seconds"] / seconds
            lines.append(f"- {fmt}: at least 5× faster than pandas: {faster:.2f}× — {verdict(faster >= 5)}")
        if "rerun" in r:
            again = r["rerun"]["seconds"]
            line = f"- {fmt}: a rerun on the unchanged inbox for another as-of date: {again:.1f} s"
            line += f" (×{again / seconds:.2f} of the first run)"
            if run["businesses"] >= 10_000_000:
                line += f"; under 60 s — {verdict(again < 60)}"
            lines.append(line)
        if run["businesses"] >= 10_000_000:
            limit = {"csv": 300, "parquet": 120}[fmt]
            lines.append(
                f"- {fmt}: full cycle under {limit // 60} minutes: {seconds / 60:.1f} min — {verdict(seconds < limit)}"
            )
            rss = r["pipeline"]["peak_rss"]
            lines.append(f"- {fmt}: peak RSS under 8 GB: {_gb(rss)} — {verdict(rss < 8 * GB)}")
            if one_million and fmt in one_million["results"]:
                growth = seconds / one_million["results"][fmt]["pipeline"]["seconds"]
                lines.append(
                    f"- {fmt}: 10M within 10× of 1M ({one_million['date']}, commit {one_million['commit']}): "
                    f"×{growth:.2f} — {verdict(growth <= 10)}"
                )
    return lines


def markdown(run: dict, one_million: dict | None) -> str:
    formats = ", ".join(run["results"])
    lines = [
        f"## `{run['make']}` — province {PROVINCE}, {run['label']} businesses, {formats} "
        f"({run['date']}, commit {run['commit']})",
        "",
        f"Machine: {run['machine']}. **Shared** with other engineers' jobs while measuring: load average "
        f"{run['load_before']:.1f} before, {run['load_after']:.1f} after (2 cores); every figure moves with it.",
        "",
        f"    {run['command']}    # {run['make']}",
        "",
    ]
    for fmt, r in run["results"].items():
        rows = sum(r["floor"]["rows"].values())
        lines.append(f"- {fmt} inbox `{r['inbox']}`: {r['files']} files, {r['input_mb']:,.0f} MB, {rows:,} rows.")
    lines += ["", *table(run["results"]), ""]
    lines.append(
        "Seconds are each process's own work (interpreter start and imports excluded); peak RSS is the process and "
        "any workers it started. The baselines do not quarantine, key personal IDs, keep a raw layer or publish "
        "(their docstrings list what they do)."
    )
    lines.append("")
    for fmt, r in run["results"].items():
        for variant, check in r["checks"].items():
            compared = "type, reasons and every feature" if variant == "sql" else "type and reasons"
            lines.append(f"- {fmt}: {variant} against the pipeline ({compared} of each business): {check}")
    lines += ["", "Targets (issue #15):", "", *targets(run, one_million)]
    if run.get("profile"):
        p = run["profile"]
        lines += [
            "",
            f"Where the time goes — the slowest stage, `{p['stage']}` ({p['format']}), rerun alone under pyinstrument "
            f"({p['seconds']:.1f} s with the profiler):",
            "",
            "```",
            *p["text"],
            "```",
        ]
    return "\n".join(lines) + "\n"


def record(benchmarks: Path, section: str) -> None:
    """Put ``section`` above the earlier entries of BENCHMARKS.md (newest first)."""
    text = benchmarks.read_text(encoding="utf-8")
    at = text.find("\n## ")
    at = len(text) if at < 0 else at + 1
    benchmarks.write_text(text[:at] + section + "\n" + text[at:], encoding="utf-8")


def profile_excerpt(text: str, lines: int = 40) -> list[str]:
    """The profile's call tree from the stage down, without pyinstrument's banner."""
    tree = [line.rstrip() for line in text.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(tree) if "<module>" in line or "run_profile" in line), 0)
    return tree[start : start + lines]


# --- the run ------------------------------------------------------------------------------------------------


def run_format(data: Path, businesses: int, fmt: str, baselines: list[str]) -> dict:
    inbox = ensure_inbox(data, businesses, fmt)
    name = f"{PROVINCE}-{size_label(businesses)}-{fmt}"
    home, scratch, out = data / "homes" / name, data / "scratch" / name, data / "results" / name
    out.mkdir(parents=True, exist_ok=True)
    files = [p for p in inbox.iterdir() if p.is_file()]
    result = {"inbox": str(inbox), "files": len(files), "input_mb": sum(p.stat().st_size for p in files) / 1e6}
    base = {"inbox": str(inbox), "scratch": str(scratch)}
    for variant in ("floor", "pipeline", "rerun", *baselines):
        spec = base | {"variant": variant, "home": str(home), "out": str(out / f"{variant}.parquet")}
        print(f"{name}: {variant} ...", flush=True)
        result[variant] = measure(spec)
        shutil.rmtree(scratch, ignore_errors=True)
        print(
            f"{name}: {variant} {result[variant]['seconds']:.1f} s, peak {_gb(result[variant]['peak_rss'])}", flush=True
        )
    work = cycle_for(home, inbox).work_dir
    result["checks"] = {v: same_results(work, out / f"{v}.parquet", v) for v in baselines}
    for variant, check in result["checks"].items():
        print(f"{name}: {variant} — {check}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--businesses", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=None, help="where inputs and homes live (default: see above)")
    parser.add_argument("--formats", default="csv,parquet")
    parser.add_argument("--baselines", default=",".join(BASELINES), help="comma-separated; empty for none")
    parser.add_argument("--profile", default="slowest", help="slowest, none, or a stage name")
    parser.add_argument("--record", type=Path, default=None, help="add the section to this BENCHMARKS.md")
    parser.add_argument("--make", default="python -m bench.run", help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    data = (args.data or default_data_dir()).resolve()
    baselines = [b for b in args.baselines.split(",") if b]
    load_before = os.getloadavg()[0]
    results = {fmt: run_format(data, args.businesses, fmt, baselines) for fmt in args.formats.split(",")}
    run = {
        "make": args.make,
        "label": size_label(args.businesses),
        "businesses": args.businesses,
        "date": dt.date.today().isoformat(),
        "commit": commit(),
        "machine": machine(),
        "command": shlex.join([".venv/bin/python", "-m", "bench.run", *sys.argv[1:]]),
        "load_before": load_before,
        "results": results,
    }  # fmt: skip
    if args.profile != "none":
        fmt = next(iter(results))
        pipeline = results[fmt]["pipeline"]["stages"]
        stage = max(pipeline, key=lambda s: s["seconds"])["stage"] if args.profile == "slowest" else args.profile
        name = f"{PROVINCE}-{size_label(args.businesses)}-{fmt}"
        out = data / "results" / name / f"profile-{stage}.txt"
        spec = {"variant": "profile", "inbox": results[fmt]["inbox"], "home": str(data / "homes" / name),
                "stage": stage, "out": str(out)}  # fmt: skip
        print(f"{name}: profiling {stage} ...", flush=True)
        profiled = measure(spec)
        run["profile"] = {"stage": stage, "format": fmt, "seconds": profiled["seconds"],
                          "text": profile_excerpt(out.read_text(encoding="utf-8"))}  # fmt: skip
    run["load_after"] = os.getloadavg()[0]
    latest = data / f"results-{PROVINCE}-{run['label']}.json"
    one_million = data / f"results-{PROVINCE}-1M.json"
    earlier = json.loads(one_million.read_text()) if one_million.exists() and args.businesses > 1_000_000 else None
    latest.write_text(json.dumps(run, ensure_ascii=False, indent=1), encoding="utf-8")
    section = markdown(run, earlier)
    print(section)
    if args.record:
        record(args.record, section)
        print(f"recorded in {args.record}")


if __name__ == "__main__":
    main()
