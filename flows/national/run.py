"""``getihu national run``: many provinces' ordinary cycles as tasks of one Prefect flow on a Dask cluster.

Each task is one province's cycle (``flows.stages.execute``: ingest … publish under the province home's own
lock), run on a Dask worker through ``prefect_dask.DaskTaskRunner``: a temporary ``LocalCluster`` by default,
an existing scheduler when ``dask_address`` names one. Tasks take paths and return a small dict, never frames.
A task that fails is reported and the others go on. A task whose inputs (inbox files, ruleset, as-of) are what
its last successful run saw, and whose package is still in the national inbox, does nothing: a rerun reruns
only what failed or changed. Then the assembly checks what was published (``flows.national.assemble``).

Homes: the national home holds ``provinces/<P>/`` (each province's own home: inbox ``inbox/<P>/<Y>/``,
warehouse, work files, lock), ``runs/<Y>/<P>.json`` (what the last successful run of P saw) and the national
``inbox/<Y>/<P>/`` into which each cycle's published folder is copied as its package.

A Dask worker that dies re-runs its task elsewhere (Dask reschedules it): a cycle is idempotent and publishes
atomically, and the copy into the national inbox is a rename, so a re-run leaves the same files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

#: What ``national run`` asks of a temporary local cluster: one process per worker, one cycle at a time each.
DEFAULT_WORKERS = 2


@dataclass(frozen=True)
class ProvinceRun:
    """One province's cycle in a national run: all paths, so it crosses to a Dask worker as plain text."""

    province: str
    year: int
    home: str  # the national home
    inbox: str | None = None  # default: <home>/provinces/<P>/inbox/<P>/<Y>/
    ruleset: str | None = None  # default: the province's filed standard

    @property
    def province_home(self) -> Path:
        return Path(self.home) / "provinces" / self.province

    @property
    def inbox_dir(self) -> Path:
        return Path(self.inbox) if self.inbox else self.province_home / "inbox" / self.province / str(self.year)

    @property
    def package_dir(self) -> Path:
        return Path(self.home) / "inbox" / str(self.year) / self.province

    @property
    def record(self) -> Path:
        return Path(self.home) / "runs" / str(self.year) / f"{self.province}.json"


def fingerprint(spec: ProvinceRun) -> str:
    """What the cycle's result depends on: every inbox file (name, size, modification time), the ruleset's
    bytes, the year. Name, size and time tell a re-delivered file as ``make`` does, without reading gigabytes."""
    from reference import ruleset_file

    digest = hashlib.sha256(f"{spec.province}|{spec.year}\n".encode())
    for path in sorted(p for p in spec.inbox_dir.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(spec.inbox_dir)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    ruleset = ruleset_file(spec.province, Path(spec.ruleset) if spec.ruleset else None)
    digest.update(ruleset.read_bytes() if ruleset.is_file() else b"no ruleset")
    return digest.hexdigest()


def _copy_package(out_dir: Path, package: Path) -> None:
    """The published cycle folder becomes the province's package in the national inbox, swapped in by renames."""
    package.parent.mkdir(parents=True, exist_ok=True)
    building = package.with_name(f".{package.name}.building")
    aside = package.with_name(f".{package.name}.previous")
    shutil.rmtree(building, ignore_errors=True)
    shutil.copytree(out_dir, building)  # copy2: the manifest keeps its time, the package's arrival
    shutil.rmtree(aside, ignore_errors=True)
    if package.exists():
        package.rename(aside)
    building.rename(package)
    shutil.rmtree(aside, ignore_errors=True)


def run_province(spec: ProvinceRun) -> dict:
    """One province's cycle, unless nothing it depends on changed since its last successful run."""
    from flows.errors import PipelineStop
    from flows.home import cycle_for
    from flows.secret import secret_from_environment
    from flows.stages import execute
    from reference import ruleset_for

    began = time.monotonic()
    seen = fingerprint(spec)
    if spec.record.is_file() and (spec.package_dir / "manifest.json").is_file():
        last = json.loads(spec.record.read_text(encoding="utf-8"))
        if last.get("fingerprint") == seen:
            return {"province": spec.province, "status": "unchanged", "cycle_id": last["cycle_id"], "seconds": 0.0}
    ruleset = Path(spec.ruleset) if spec.ruleset else None
    cycle = cycle_for(
        spec.province, None, spec.year, spec.province_home, spec.inbox, ruleset, secret_from_environment()
    )
    ruleset_for(cycle.province, ruleset)  # no filed standard and no --ruleset: refused, as `getihu run` refuses
    if not cycle.inbox_dir.is_dir():
        raise PipelineStop(f"{cycle.inbox_dir}：省份 {spec.province} 的收件目录不存在")
    execute(cycle)
    _copy_package(cycle.out_dir, spec.package_dir)
    spec.record.parent.mkdir(parents=True, exist_ok=True)
    temporary = spec.record.with_suffix(".json.tmp")
    temporary.write_text(json.dumps({"fingerprint": seen, "cycle_id": cycle.cycle_id}) + "\n", encoding="utf-8")
    temporary.replace(spec.record)
    seconds = round(time.monotonic() - began, 3)
    return {"province": spec.province, "status": "ran", "cycle_id": cycle.cycle_id, "seconds": seconds}


@task(name="province-cycle", task_run_name="cycle-{province}-{year}", cache_policy=NO_CACHE, persist_result=False)
def province_cycle(province: str, year: int, home: str, inbox: str | None = None, ruleset: str | None = None) -> dict:
    return run_province(ProvinceRun(province, year, home, inbox, ruleset))


def _failure(province: str, error: BaseException) -> dict:
    return {"province": province, "status": "failed", "error": f"{type(error).__name__}: {error}"}


@flow(name="getihu-national-run", flow_run_name="national-{year}", persist_result=False)
def national_run(
    year: int,
    provinces: list[str],
    home: str,
    rulesets: dict[str, str] | None = None,
    inboxes: dict[str, str] | None = None,
    assemble_after: bool = True,
) -> dict:
    """Every province's cycle as a task on the flow's task runner, then the assembly of what was published."""
    from flows.national.assemble import assemble

    logger = get_run_logger()
    rulesets, inboxes = rulesets or {}, inboxes or {}
    futures = {
        p: province_cycle.submit(p, year, home, inboxes.get(p), rulesets.get(p), return_state=False) for p in provinces
    }
    results = {}
    for province, future in futures.items():
        try:
            results[province] = future.result()
        except Exception as error:  # a failed province is reported; the others go on
            results[province] = _failure(province, error)
        logger.info("province %s: %s", province, results[province])
    record = {"year": year, "provinces": [results[p] for p in provinces]}
    if assemble_after:
        assembly = assemble(Path(home), year)
        record["assembly"] = summary(assembly)
    return record


def task_runner(dask_address: str | None, workers: int = DEFAULT_WORKERS):
    """Prefect's Dask task runner: on the scheduler at ``dask_address``, or a temporary local cluster."""
    from prefect_dask import DaskTaskRunner

    if dask_address:
        return DaskTaskRunner(address=dask_address)
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True, "dashboard_address": ":0"},
    )


def run_national(
    year: int,
    provinces: list[str],
    home: Path,
    *,
    rulesets: dict[str, str] | None = None,
    inboxes: dict[str, str] | None = None,
    dask_address: str | None = None,
    workers: int = DEFAULT_WORKERS,
    assemble_after: bool = True,
) -> dict:
    """The flow on the chosen cluster (what ``getihu national run`` and the tests call)."""
    address = dask_address or os.environ.get("GETIHU_DASK_ADDRESS") or None
    configured = national_run.with_options(task_runner=task_runner(address, workers))
    return configured(
        year=year,
        provinces=provinces,
        home=str(home.resolve()),
        rulesets={p: str(Path(r).resolve()) for p, r in (rulesets or {}).items()},
        inboxes={p: str(Path(i).resolve()) for p, i in (inboxes or {}).items()},
        assemble_after=assemble_after,
    )


@flow(name="getihu-national-assembly", flow_run_name="national-assembly-{year}", persist_result=False)
def national_assembly(year: int | None = None, home: str = "data/national") -> dict:
    """The assembly on its own (the 16 August deployment): ``year`` defaults to this year in China."""
    from flows.home import CHINA_TIME
    from flows.national.assemble import assemble

    year = year if year is not None else dt.datetime.now(CHINA_TIME).year
    return summary(assemble(Path(home), year))


def summary(assembly) -> dict:
    """What a flow run returns about an assembly, and what the command prints."""
    from schemas.national import ACCEPTED, STATUS_LABELS

    tally = "，".join(
        f"{sum(o.status == s for o in assembly.outcomes)} 省{label}" for s, label in STATUS_LABELS.items()
    )
    total = int(assembly.counts.drop("province").sum_horizontal().sum())
    return {
        "statuses": {o.province: o.status for o in assembly.outcomes},
        "lines": [o.message for o in assembly.outcomes if o.status != ACCEPTED]
        + [f"{assembly.year} 年：{tally}；全国 {total:,} 户（跨省重复只计一次）"],
        "report": str(assembly.folder / "report.html"),
        "warehouse": str(assembly.home / "warehouse.duckdb"),
    }
