"""The yearly typing cycle as a Prefect flow: one task per stage, tasks passing paths and never frames."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.context import DEFAULT_QUARANTINE_THRESHOLD, Cycle, StageResult, cycle_for, secret_from_environment
from flows.stages import STAGES, Stage, execute


def _as_task(name: str, stage: Stage):
    # no caching or result persistence: a stage's inputs are files on disk, and the Cycle carries the secret
    return task(stage, name=name, cache_policy=NO_CACHE, persist_result=False)


_TASKS = {name: _as_task(name, stage) for name, stage in STAGES}


def run_as_task(name: str, stage: Stage, cycle: Cycle) -> StageResult:
    result = _TASKS[name](cycle)
    get_run_logger().info("%s: %s", name, ", ".join(f"{k} {v:,}" for k, v in result.rows.items()) or "done")
    return result


@flow(name="getihu-cycle", flow_run_name="{province}-{as_of}", persist_result=False)
def typing_cycle(
    province: str,
    as_of: dt.date | None = None,
    year: int | None = None,
    home: str = "data",
    inbox: str | None = None,
    ruleset: str | None = None,
    quarantine_threshold: float = DEFAULT_QUARANTINE_THRESHOLD,
) -> dict:
    """One province's typing cycle: ingest, validate, link, features, type, publish.

    ``as_of`` defaults to 31 July of ``year``, and ``year`` to the current year in China: the yearly
    schedule passes neither. The secret that keys personal data comes from ``GETIHU_SECRET``, never from
    a parameter (parameters are stored by the Prefect server).
    """
    cycle = cycle_for(
        province, as_of, year, Path(home), inbox, ruleset, secret_from_environment(), quarantine_threshold
    )
    record = execute(cycle, run_as_task)
    return record.as_json()
