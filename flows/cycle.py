"""The typing cycle as a Prefect flow (one task per stage, tasks passing paths and never frames), and its
deployments: the yearly run on a schedule, and reruns on demand.

Each province with a filed ruleset gets its own flow, ``typing_cycle_<P>`` (flow name ``getihu-cycle``), whose
parameters do not include the province — on a per-province deployment it is fixed, not a field of the run form —
and two deployments of it:

- ``yearly-<P>``: 1 August, 02:00 Asia/Shanghai — after the 30 June annual-report deadline and the July
  filing period, in time for the national directory's mid-August deadline. It passes no as-of date, so
  each year's run judges as of 31 July of that year.
- ``rerun-<P>``: no schedule; an extra judgment cycle at any as-of date, or a rerun after a department
  re-delivered an extract: ``prefect deployment run getihu-cycle/rerun-41 --param as_of=2025-09-30``.

``typing_cycle`` takes the province as a parameter, for a run from the terminal (``getihu run``). Every parameter
carries a Chinese title and description, shown in the Prefect UI's run form. A flow run is named by its cycle id
(``41-20250731``, a draft ``41-20250731-draft``), with the as-of date defaulted as the CLI does, and ends with a
markdown artifact ``getihu-<cycle id>``: the counts by type and where the report and the submission are.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from flows.terminal import telemetry_off

telemetry_off()  # before prefect reads its settings: no analytics from a government network

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import create_markdown_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.schedules import Cron  # noqa: E402
from prefect.utilities.callables import parameter_schema  # noqa: E402

from flows.errors import ConfigurationError  # noqa: E402
from flows.home import (  # noqa: E402
    DRAFT_SUFFIX,
    Cycle,
    StageResult,
    cycle_as_of,
    cycle_for,
    now_in_china,
)
from flows.secret import secret_from_environment  # noqa: E402
from flows.stages import STAGES, Stage, execute  # noqa: E402
from reference import filed_rulesets  # noqa: E402
from schemas.vocabulary import SHOWN_TYPES  # noqa: E402

FLOW_NAME = "getihu-cycle"

#: The run form's descriptions (the Prefect UI shows a parameter's name and these), in the docstrings' "Args:".
PARAMETER_HELP = {
    "province": "省份：两位数字的省级行政区划代码，如 41（河南）或 23（黑龙江）",
    "as_of": "判定日期：留空则为周期年度的 7 月 31 日（年度周期）；其他日期为加开的判定周期",
    "year": "周期年度：留空则为判定日期所在年份；两者都留空时为北京时间的今年",
    "home": "主目录：存放收件目录、数据仓库、发布结果和工作文件的目录",
    "inbox": "收件目录：各部门报送文件所在目录；留空则为 <主目录>/inbox/<省>/<年>/",
    "ruleset": "分型标准文件：留空则用本省已备案的标准（data/rulesets/<省>.toml）；其他文件须勾选草稿",
    "quarantine_threshold": (
        "隔离比例上限：一个来源被隔离的行超过这个比例、且行数超过隔离行数下限时停止运行（0.05 即 5%）；"
        "留空则按 inbox.toml 中该来源的 quarantine_threshold，否则为 5%"
    ),
    "quarantine_minimum": (
        "隔离行数下限：一个来源被隔离的行不超过这个数时不停止运行；"
        "留空则按 inbox.toml 中该来源的 quarantine_minimum，否则为 20"
    ),
    "draft": (
        "草稿：按未备案的分型标准试算，周期编号以 -draft 结尾，结果只写入 <主目录>/drafts/，不替换正式周期，不报送"
    ),
}


def _docstring(summary: str, parameters: list[str]) -> str:
    args = "\n".join(f"    {name}: {PARAMETER_HELP[name]}" for name in parameters)
    return f"{summary}\n\nArgs:\n{args}\n"


def _as_task(name: str, stage: Stage):
    # no caching or result persistence: a stage's inputs are files on disk, and the Cycle carries the secret
    return task(stage, name=name, cache_policy=NO_CACHE, persist_result=False)


_TASKS = {name: _as_task(name, stage) for name, stage in STAGES}


def run_as_task(name: str, stage: Stage, cycle: Cycle) -> StageResult:
    result = _TASKS[name](cycle)
    get_run_logger().info("%s: %s", name, ", ".join(f"{k} {v:,}" for k, v in result.rows.items()) or "done")
    return result


def run_name(province: str, parameters: dict) -> str:
    """The cycle id a run with these parameters gets (``41-20250731``), the as-of date defaulted as the CLI does;
    parameters that make no cycle (a bad date) still name the run, so that its failure can be found."""
    as_of, year = parameters.get("as_of"), parameters.get("year")
    try:
        as_of = dt.date.fromisoformat(str(as_of)[:10]) if as_of is not None else None
        year = int(year) if year is not None else None
        day = cycle_as_of(as_of, year, now_in_china().date())
    except (ValueError, TypeError, ConfigurationError):
        return f"{province}-{as_of or year or 'cycle'}"
    return f"{province}-{day:%Y%m%d}" + (DRAFT_SUFFIX if parameters.get("draft") else "")


def _current_run_name(province: str | None = None) -> str:
    from prefect.runtime import flow_run

    parameters = dict(flow_run.parameters)
    return run_name(province or str(parameters.get("province")), parameters)


def artifact_markdown(cycle: Cycle) -> str:
    """The run's summary for the Prefect UI: counts by type, and the paths of the report and the submission."""
    manifest = json.loads((cycle.out_dir / "manifest.json").read_text(encoding="utf-8"))
    counts = manifest["counts"]
    draft = "**草稿：按未备案的分型标准试算，不替换正式周期，不报送。**\n\n" if cycle.draft else ""
    rows = "\n".join(f"| {t} | {counts[t]:,} |" for t in SHOWN_TYPES if t in counts)
    ruleset = manifest["ruleset"]
    return (
        f"# {cycle.cycle_id} 分型结果\n\n{draft}判定日期 {cycle.as_of:%Y-%m-%d} · "
        f"分型标准 {ruleset['id']}-{ruleset['version']}\n\n| 分型结果 | 户数 |\n|---|---:|\n{rows}\n"
        f"| 合计 | {sum(counts.values()):,} |\n\n"
        f"- 运行报告：`{(cycle.out_dir / 'report.html').resolve()}`\n"
        f"- 报送文件：`{(cycle.out_dir / 'submission.csv').resolve()}`\n"
        f"- Excel 版：`{(cycle.out_dir / 'submission.xlsx').resolve()}`\n"
        f"- 数据仓库：`{cycle.warehouse.resolve()}`\n"
    )


def artifact_key(cycle: Cycle) -> str:
    """Prefect shows an artifact on its Artifacts page only under a lowercase key of letters, digits and dashes."""
    return f"getihu-{cycle.cycle_id}".lower()


def run_cycle(
    province: str,
    as_of: dt.date | None,
    year: int | None,
    home: str,
    inbox: str | None,
    ruleset: str | None,
    quarantine_threshold: float | None,
    quarantine_minimum: int | None,
    draft: bool,
) -> dict:
    """The body of every cycle flow: the stages as tasks, then the artifact."""
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
        draft,
    )
    record = execute(cycle, run_as_task)
    create_markdown_artifact(
        key=artifact_key(cycle),
        markdown=artifact_markdown(cycle),
        description=f"{cycle.cycle_id} 的分型户数与结果文件",
    )
    return record.to_json()


@flow(name=FLOW_NAME, flow_run_name=_current_run_name, persist_result=False)
def typing_cycle(
    province: str,
    as_of: dt.date | None = None,
    year: int | None = None,
    home: str = "data",
    inbox: str | None = None,
    ruleset: str | None = None,
    quarantine_threshold: float | None = None,
    quarantine_minimum: int | None = None,
    draft: bool = False,
) -> dict:
    return run_cycle(province, as_of, year, home, inbox, ruleset, quarantine_threshold, quarantine_minimum, draft)


CYCLE_SUMMARY = (
    "一省的分型周期：读入、校验、关联、特征、分型、发布。年度计划任务不传判定日期和年度，即判定当年 7 月 31 日。"
    "个人信息密钥取自环境变量 GETIHU_SECRET，从不作为参数（参数保存在 Prefect 服务中）。"
)
typing_cycle.fn.__doc__ = _docstring(CYCLE_SUMMARY, list(PARAMETER_HELP))
typing_cycle.description = CYCLE_SUMMARY
typing_cycle.parameters = parameter_schema(typing_cycle.fn)


def province_flow(province: str):
    """The cycle flow of one province: ``typing_cycle`` without the province parameter (fixed to ``province``)."""

    def cycle_of_province(
        as_of: dt.date | None = None,
        year: int | None = None,
        home: str = "data",
        inbox: str | None = None,
        ruleset: str | None = None,
        quarantine_threshold: float | None = None,
        quarantine_minimum: int | None = None,
        draft: bool = False,
    ) -> dict:
        return run_cycle(province, as_of, year, home, inbox, ruleset, quarantine_threshold, quarantine_minimum, draft)

    name = f"typing_cycle_{province}"
    cycle_of_province.__name__ = cycle_of_province.__qualname__ = name  # the deployment's entrypoint
    summary = f"省份 {province} 的分型周期（省份固定，不是参数）。" + CYCLE_SUMMARY
    cycle_of_province.__doc__ = _docstring(summary, [p for p in PARAMETER_HELP if p != "province"])
    return flow(
        cycle_of_province,
        name=FLOW_NAME,
        flow_run_name=lambda: _current_run_name(province),
        persist_result=False,
        description=summary,
    )


#: One flow per province with a filed ruleset, a module attribute each so a deployment can load it by name.
PROVINCE_FLOWS = {province: province_flow(province) for province in filed_rulesets()}
globals().update({f"typing_cycle_{p}": f for p, f in PROVINCE_FLOWS.items()})


YEARLY_CRON = "0 2 1 8 *"


TIMEZONE = "Asia/Shanghai"


def deployments(provinces: list[str], home: Path) -> list:
    """The yearly and the rerun deployment of every province, running against ``home``."""
    made = []
    for province in provinces:
        province_cycle = PROVINCE_FLOWS.get(province) or province_flow(province)
        parameters = {"home": str(home)}
        made.append(
            province_cycle.to_deployment(
                name=f"yearly-{province}",
                schedule=Cron(YEARLY_CRON, timezone=TIMEZONE),
                parameters=parameters,
                description=f"省份 {province} 的年度分型周期：每年 8 月 1 日 02:00（北京时间）运行，"
                "判定日期为当年 7 月 31 日。",
                tags=["getihu", f"province-{province}", "yearly"],
            )
        )
        made.append(
            province_cycle.to_deployment(
                name=f"rerun-{province}",
                parameters=parameters,
                description=f"省份 {province} 的加开或重跑周期：填写判定日期（as_of），同一流程，不按计划运行。",
                tags=["getihu", f"province-{province}", "rerun"],
            )
        )
    return made


def served_deployments(provinces: list[str], home: Path) -> list:
    """What ``getihu serve`` serves (docs/serve.md): every province's yearly and rerun typing deployments, and for
    each province with a 名特优新 standard (``data/classification/<P>.toml``) its round and review deployments
    (``flows.classification.flow``)."""
    from flows.classification.flow import ROUND_FLOWS, classification_deployments

    classified = [p for p in provinces if p in ROUND_FLOWS]
    return deployments(provinces, home) + classification_deployments(classified, home)
