"""The yearly typing cycle as a Prefect flow (one task per stage, tasks passing paths and never frames), and its
deployments: the yearly run on a schedule, and reruns on demand.

Each province gets two deployments of the same flow (``typing_cycle``):

- ``yearly-<P>``: 1 August, 02:00 Asia/Shanghai — after the 30 June annual-report deadline and the July
  filing period, in time for the national directory's mid-August deadline. It passes no as-of date, so
  each year's run judges as of 31 July of that year.
- ``rerun-<P>``: no schedule; an extra judgment cycle at any as-of date, or a rerun after a department
  re-delivered an extract: ``prefect deployment run getihu-cycle/rerun-41 --param as_of=2025-09-30``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.schedules import Cron

from flows.home import Cycle, StageResult, cycle_for
from flows.secret import secret_from_environment
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
    quarantine_threshold: float | None = None,
    quarantine_minimum: int | None = None,
) -> dict:
    """One province's typing cycle: ingest, validate, link, features, type, publish.

    ``as_of`` defaults to 31 July of ``year``, and ``year`` to the current year in China: the yearly
    schedule passes neither. The secret that keys personal data comes from ``GETIHU_SECRET``, never from
    a parameter (parameters are stored by the Prefect server).
    """
    cycle = cycle_for(
        province,
        as_of,
        year,
        Path(home),
        inbox,
        ruleset,
        secret_from_environment(),
        quarantine_threshold,
        quarantine_minimum,
    )
    record = execute(cycle, run_as_task)
    return record.to_json()


YEARLY_CRON = "0 2 1 8 *"


TIMEZONE = "Asia/Shanghai"


def deployments(provinces: list[str], home: Path) -> list:
    """The yearly and the rerun deployment of every province, running against ``home``."""
    made = []
    for province in provinces:
        parameters = {"province": province, "home": str(home)}
        made.append(
            typing_cycle.to_deployment(
                name=f"yearly-{province}",
                schedule=Cron(YEARLY_CRON, timezone=TIMEZONE),
                parameters=parameters,
                description=f"Province {province}'s yearly typing cycle, as of 31 July of the year it runs in.",
                tags=["getihu", f"province-{province}", "yearly"],
            )
        )
        made.append(
            typing_cycle.to_deployment(
                name=f"rerun-{province}",
                parameters=parameters,
                description=f"Province {province}'s cycle at any as-of date (give as_of); same flow, no schedule.",
                tags=["getihu", f"province-{province}", "rerun"],
            )
        )
    return made
