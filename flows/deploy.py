"""The cycle's Prefect deployments: the yearly run on a schedule, and reruns on demand.

Each province gets two deployments of the same flow (``flows.cycle.typing_cycle``):

- ``yearly-<P>``: 1 August, 02:00 Asia/Shanghai — after the 30 June annual-report deadline and the July
  filing period, in time for the national directory's mid-August deadline. It passes no as-of date, so
  each year's run judges as of 31 July of that year.
- ``rerun-<P>``: no schedule; an extra judgment cycle at any as-of date, or a rerun after a department
  re-delivered an extract: ``prefect deployment run getihu-cycle/rerun-41 --param as_of=2025-09-30``.
"""

from __future__ import annotations

from pathlib import Path

from prefect.schedules import Cron

from flows.cycle import typing_cycle

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
