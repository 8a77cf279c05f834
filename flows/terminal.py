"""What a run from the terminal needs besides the command: Prefect settings, error.log, the closing summary."""

from __future__ import annotations

from pathlib import Path

from schemas.vocabulary import SHOWN_TYPES, ruleset_name


def kept_for_a_developer(cycle, home: Path) -> str:
    """Write the current exception's traceback to ``error.log``; say where, or why it could not be kept."""
    import traceback

    log = (cycle.work_dir if cycle else home / "work") / "error.log"
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(traceback.format_exc(), encoding="utf-8")
    except OSError as e:
        return f"给开发人员的详细信息无法保存到 {log}（{e.strerror}）。"
    return f"给开发人员的详细信息在 {log}。"


#: Prefect's telemetry, off unless someone turns it on: a government network sends nothing out (server analytics,
#: the SDK's usage events — DO_NOT_TRACK — and Prefect Cloud's orchestration telemetry).
TELEMETRY_OFF = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
}


def telemetry_off() -> None:
    """Turn Prefect's telemetry off in this process (and the servers it starts); a setting already made wins."""
    import os

    for name, value in TELEMETRY_OFF.items():
        os.environ.setdefault(name, value)


def quiet_prefect(home: Path) -> None:
    """Prefect settings for a run from the terminal, before prefect is imported; the user's own settings win.

    The terminal shows the run's own progress and one-paragraph messages, so Prefect's console handler only
    passes what is critical (its API still receives every log); its home defaults into the run's home, and
    its server neither phones home (there is no network) nor gives up after its default 20 s start-up.
    """
    import os

    prefect_home = Path(os.environ.setdefault("PREFECT_HOME", str(home.resolve() / "work" / "prefect")))
    prefect_home.mkdir(parents=True, exist_ok=True)  # prefect does not create a nested home
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    telemetry_off()
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def set_apart_lines(features: dict[str, int]) -> list[str]:
    """The businesses counted apart (the features stage's rows in ``run.json``), when there are any."""
    lines = []
    if features.get("not_yet_established"):
        lines.append(f"判定日期后成立、本期不分型：{features['not_yet_established']:,} 户（不计入合计）")
    if features.get("unmatchable"):
        lines.append(
            f"无统一社会信用代码且年报无注册号、无法匹配：{features['unmatchable']:,} 户（计入不符合分型条件）"
        )
    return lines


def run_summary(cycle, record: dict):
    """What ``getihu run`` ends with: a heading, counts by type, and lines with the time taken and the paths."""
    import json

    from rich.table import Table

    manifest = json.loads((cycle.out_dir / "manifest.json").read_text(encoding="utf-8"))
    ruleset = manifest["ruleset"]
    standard = ruleset_name(ruleset["id"], ruleset["version"])
    heading = ("【草稿，不报送】" if cycle.draft else "") + (
        f"{cycle.cycle_id} · 判定日期 {cycle.as_of:%Y-%m-%d} · 报告年度 {manifest['report_year']} · 分型标准 {standard}"
    )
    table = Table()
    table.add_column("分型结果")
    table.add_column("户数", justify="right")
    for business_type in SHOWN_TYPES:  # one order of the types everywhere people read: highest first
        table.add_row(business_type, f"{manifest['counts'].get(business_type, 0):,}")
    table.add_row("合计", f"{sum(manifest['counts'].values()):,}", style="bold")
    seconds = sum(stage["seconds"] for stage in record["stages"])
    features = next((stage["rows"] for stage in record["stages"] if stage["stage"] == "features"), {})
    lines = [
        *set_apart_lines(features),
        f"各阶段共耗时 {seconds:,.1f} 秒",
        *inputs_lines(cycle.work_dir),
        f"报送文件    {cycle.out_dir / 'submission.csv'}",
        f"Excel 版    {cycle.out_dir / 'submission.xlsx'}",
        f"运行报告    {cycle.out_dir / 'report.html'}",
        f"数据仓库    {cycle.warehouse}",
    ]
    return heading, table, lines


def inputs_lines(work_dir: Path) -> list[str]:
    """What the data office must see after every run (issue 12): quarantined rows by source, where
    ``quarantine.csv`` is, the businesses left out because their registration row was quarantined, and the
    inbox files that stand for no source."""
    import json

    from schemas.sources import SOURCES

    inputs = json.loads((work_dir / "inputs.json").read_text(encoding="utf-8"))
    by_source = {s["source"]: s for s in inputs["sources"]}
    quarantined = [(name, s["quarantined"]) for name, s in by_source.items() if s["quarantined"]]
    lines = []
    if quarantined:
        shown = "，".join(f"{SOURCES[name].label} {n:,}" for name, n in quarantined)
        lines.append(f"隔离行数    {sum(n for _, n in quarantined):,}（{shown}）")
    else:
        lines.append("隔离行数    0")
    lines.append(f"隔离明细    {work_dir / 'quarantine.csv'}")
    left_out = by_source.get("registration", {}).get("businesses_left_out", 0)
    lines.append(f"登记注册信息被隔离、未参与分型的个体工商户 {left_out:,} 户")
    unrecognised = inputs.get("unrecognised_files", [])
    if unrecognised:
        lines.append(f"未识别的文件 {len(unrecognised)} 个（未读入）：{'、'.join(unrecognised)}")
    return lines
