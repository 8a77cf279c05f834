"""The Prefect flows of classification (名特优新) and their deployments, served by ``getihu serve`` beside the typing
cycle's (docs/serve.md).

As for the typing cycle (``flows/cycle.py``), each province gets flows of its own — ``mtyx_round_<P>`` (flow name
``getihu-mtyx-round``) and ``mtyx_review_<P>`` (``getihu-mtyx-review``) — whose parameters do not include the
province: a per-province deployment fixes it, so it is not a field of the run form. Every field carries a Chinese
description, and every deployment one:

- ``mtyx-round-<P>``: 16 August, 02:00 Asia/Shanghai — the round "from mid-August" (000 §二(五)1), after the
  yearly typing cycle (1 August). Rerun it once the office's review (review.csv) is in the inbox: the round
  then recognises.
- ``mtyx-review-<P>``: 8 August, 02:00 — the register's yearly review, after the yearly typing cycle and the
  31 July deadline of the information reports, before the round.

Left empty, the year is this year in China (the yearly typing cycle of 31 July of that year must be published in
the home). The key for personal data comes from GETIHU_SECRET (or GETIHU_SECRET_FILE), never from a parameter.
"""

from __future__ import annotations

from pathlib import Path

from flows.terminal import telemetry_off

telemetry_off()  # before prefect reads its settings: no analytics from a government network

from prefect import flow  # noqa: E402
from prefect.schedules import Cron  # noqa: E402
from prefect.utilities.callables import parameter_schema  # noqa: E402

from flows.classification.commands import run_review, run_round  # noqa: E402
from flows.home import now_in_china  # noqa: E402
from flows.secret import secret_from_environment  # noqa: E402

ROUND_CRON = "0 2 16 8 *"
REVIEW_CRON = "0 2 8 8 *"
TIMEZONE = "Asia/Shanghai"
ROUND_FLOW, REVIEW_FLOW = "getihu-mtyx-round", "getihu-mtyx-review"

#: The run form's descriptions (the Prefect UI shows a parameter's name and these), in the docstrings' "Args:".
PARAMETER_HELP = {
    "province": "省份：两位数字的省级行政区划代码，如 41（河南）或 23（黑龙江）",
    "year": "年度 Y：留空则为北京时间的今年；该年度的年度分型周期（Y 年 7 月 31 日）须已在主目录中发布",
    "home": "主目录：存放收件目录、数据仓库、发布结果和工作文件的目录（与分型周期相同）",
    "inbox": "收件目录：留空则为 <主目录>/inbox/<省>/<年>/；名特优新的文件在其 classification/ 子目录中",
}

ROUND_SUMMARY = (
    "名特优新年度认定：申报和推荐、排除、评分、名额，每个申请一个结果；收件目录中有 review.csv 时给出认定结果。"
    "个人信息密钥取自环境变量 GETIHU_SECRET，从不作为参数。"
)
REVIEW_SUMMARY = (
    "名特优新名录年度复核：信息报告、取消、经营者变更、延期、期满和撤销，逐条记录。"
    "个人信息密钥取自环境变量 GETIHU_SECRET，从不作为参数。"
)


def _year(year: int | None) -> int:
    return year if year is not None else now_in_china().year


def _docstring(summary: str, parameters: list[str]) -> str:
    args = "\n".join(f"    {name}: {PARAMETER_HELP[name]}" for name in parameters)
    return f"{summary}\n\nArgs:\n{args}\n"


def _round(province: str, year: int | None, home: str, inbox: str | None) -> dict:
    result = run_round(province, _year(year), Path(home), secret_from_environment(), Path(inbox) if inbox else None)
    return {"folder": str(result.folder), "counts": result.counts, "quarantined": result.quarantined}


def _review(province: str, year: int | None, home: str, inbox: str | None) -> dict:
    result = run_review(province, _year(year), Path(home), secret_from_environment(), Path(inbox) if inbox else None)
    return {"folder": str(result.folder), "counts": result.counts, "quarantined": result.quarantined}


@flow(name=ROUND_FLOW, flow_run_name="mtyx-round-{province}", persist_result=False, description=ROUND_SUMMARY)
def classification_round_flow(
    province: str, year: int | None = None, home: str = "data", inbox: str | None = None
) -> dict:
    return _round(province, year, home, inbox)


@flow(name=REVIEW_FLOW, flow_run_name="mtyx-review-{province}", persist_result=False, description=REVIEW_SUMMARY)
def classification_review_flow(
    province: str, year: int | None = None, home: str = "data", inbox: str | None = None
) -> dict:
    return _review(province, year, home, inbox)


for _flow, _summary in ((classification_round_flow, ROUND_SUMMARY), (classification_review_flow, REVIEW_SUMMARY)):
    _flow.fn.__doc__ = _docstring(_summary, list(PARAMETER_HELP))
    _flow.parameters = parameter_schema(_flow.fn)


def run_name(kind: str, province: str, parameters: dict) -> str:
    """``mtyx-round-41-2025``: the step, the province and the year the run does (this year when left empty)."""
    year = parameters.get("year")
    return f"mtyx-{kind}-{province}-{_year(None) if year is None else year}"


def _current_run_name(kind: str, province: str) -> str:
    from prefect.runtime import flow_run

    return run_name(kind, province, dict(flow_run.parameters))


def _province_flow(province: str, step, flow_name: str, summary: str, kind: str):
    """``step`` as a flow of one province: the province fixed, not a parameter (as ``flows.cycle.province_flow``)."""

    def of_province(year: int | None = None, home: str = "data", inbox: str | None = None) -> dict:
        return step(province, year, home, inbox)

    name = f"mtyx_{kind}_{province}"
    of_province.__name__ = of_province.__qualname__ = name  # the deployment's entrypoint
    described = f"省份 {province} 的" + summary
    of_province.__doc__ = _docstring(described, [p for p in PARAMETER_HELP if p != "province"])
    return flow(
        of_province,
        name=flow_name,
        flow_run_name=lambda: _current_run_name(kind, province),
        persist_result=False,
        description=described,
    )


def _standard_provinces() -> list[str]:
    """Provinces with a classification standard of their own (``data/classification/<P>.toml``)."""
    from flows.classification.standards import STANDARDS_DIR

    return sorted(p.stem for p in STANDARDS_DIR.glob("*.toml") if len(p.stem) == 2 and p.stem.isdigit())


#: One round flow and one review flow per province with a standard, module attributes so a deployment loads them.
ROUND_FLOWS = {p: _province_flow(p, _round, ROUND_FLOW, ROUND_SUMMARY, "round") for p in _standard_provinces()}
REVIEW_FLOWS = {p: _province_flow(p, _review, REVIEW_FLOW, REVIEW_SUMMARY, "review") for p in _standard_provinces()}
globals().update({f"mtyx_round_{p}": f for p, f in ROUND_FLOWS.items()})
globals().update({f"mtyx_review_{p}": f for p, f in REVIEW_FLOWS.items()})


def classification_deployments(provinces: list[str], home: Path) -> list:
    """The round and the review deployment of every province, running against ``home``."""
    made = []
    for province in provinces:
        round_flow = ROUND_FLOWS.get(province) or _province_flow(province, _round, ROUND_FLOW, ROUND_SUMMARY, "round")
        review_flow = REVIEW_FLOWS.get(province) or _province_flow(
            province, _review, REVIEW_FLOW, REVIEW_SUMMARY, "review"
        )
        parameters = {"home": str(home)}
        made.append(
            round_flow.to_deployment(
                name=f"mtyx-round-{province}",
                schedule=Cron(ROUND_CRON, timezone=TIMEZONE),
                parameters=parameters,
                description=f"省份 {province} 的名特优新年度认定：每年 8 月 16 日 02:00（北京时间）运行，年度为当年，"
                "须当年 7 月 31 日的年度分型周期已发布；报送 review.csv 后手动重跑，给出认定结果。",
                tags=["getihu", f"province-{province}", "mtyx"],
            )
        )
        made.append(
            review_flow.to_deployment(
                name=f"mtyx-review-{province}",
                schedule=Cron(REVIEW_CRON, timezone=TIMEZONE),
                parameters=parameters,
                description=f"省份 {province} 的名特优新名录年度复核：每年 8 月 8 日 02:00（北京时间）运行，"
                "在年度分型周期（8 月 1 日）之后、当年认定之前。",
                tags=["getihu", f"province-{province}", "mtyx"],
            )
        )
    return made


__all__ = [
    "REVIEW_FLOWS",
    "ROUND_FLOWS",
    "classification_deployments",
    "classification_review_flow",
    "classification_round_flow",
]
