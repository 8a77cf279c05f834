"""The Prefect flows of classification and their deployments.

- ``mtyx-round-<P>``: 16 August, 02:00 Asia/Shanghai — the round "from mid-August" (000 §二(五)1), after the
  yearly typing cycle (1 August). Rerun it once the office's review (review.csv) is in the inbox: the round
  then recognises.
- ``mtyx-review-<P>``: 8 August, 02:00 — the register's yearly review, after the yearly typing cycle and the
  31 July deadline of the information reports, before the round.

The key for personal data comes from GETIHU_SECRET (or GETIHU_SECRET_FILE), never from a parameter.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from prefect.schedules import Cron

from flows.classification.commands import run_review, run_round
from flows.home import now_in_china
from flows.secret import secret_from_environment

ROUND_CRON = "0 2 16 8 *"
REVIEW_CRON = "0 2 8 8 *"
TIMEZONE = "Asia/Shanghai"


def _year(year: int | None) -> int:
    return year if year is not None else now_in_china().year


@flow(name="getihu-mtyx-round", flow_run_name="mtyx-round-{province}", persist_result=False)
def classification_round_flow(
    province: str, year: int | None = None, home: str = "data", inbox: str | None = None
) -> dict:
    result = run_round(province, _year(year), Path(home), secret_from_environment(), Path(inbox) if inbox else None)
    return {"folder": str(result.folder), "counts": result.counts, "quarantined": result.quarantined}


@flow(name="getihu-mtyx-review", flow_run_name="mtyx-review-{province}", persist_result=False)
def classification_review_flow(
    province: str, year: int | None = None, home: str = "data", inbox: str | None = None
) -> dict:
    result = run_review(province, _year(year), Path(home), secret_from_environment(), Path(inbox) if inbox else None)
    return {"folder": str(result.folder), "counts": result.counts, "quarantined": result.quarantined}


def classification_deployments(provinces: list[str], home: Path) -> list:
    made = []
    for province in provinces:
        parameters = {"province": province, "home": str(home)}
        made.append(
            classification_round_flow.to_deployment(
                name=f"mtyx-round-{province}",
                schedule=Cron(ROUND_CRON, timezone=TIMEZONE),
                parameters=parameters,
                description=f"Province {province}'s 名特优新 round of the year it runs in (16 August).",
                tags=["getihu", f"province-{province}", "mtyx"],
            )
        )
        made.append(
            classification_review_flow.to_deployment(
                name=f"mtyx-review-{province}",
                schedule=Cron(REVIEW_CRON, timezone=TIMEZONE),
                parameters=parameters,
                description=f"Province {province}'s yearly review of the 名特优新 register (8 August).",
                tags=["getihu", f"province-{province}", "mtyx"],
            )
        )
    return made


__all__ = ["classification_deployments", "classification_review_flow", "classification_round_flow"]
