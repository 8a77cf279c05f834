"""``getihu national``: the national directory's commands (national.md): ``assemble``, ``run``, ``serve``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

national_app = typer.Typer(
    help="全国个体工商户名录：检查并汇总各省报送包；在 Dask 上运行多个省份的分型周期。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEFAULT_HOME = Path("data/national")
EXIT_FAILED, EXIT_INPUT = 1, 2


def _pairs(values: list[str], option: str) -> dict[str, str]:
    """``P=PATH`` options as a dict; a malformed one stops with a message."""
    pairs = {}
    for value in values:
        province, _, path = value.partition("=")
        if not (len(province) == 2 and province.isdigit() and path):
            typer.echo(
                f"getihu national run：{option} {value!r}：应为 省份=路径，如 {option} 32=rulesets/32.toml", err=True
            )
            raise typer.Exit(EXIT_INPUT)
        pairs[province] = path
    return pairs


def _quiet_prefect(home: Path) -> None:
    """Prefect's home inside the national home, no telemetry, only critical console logs (the user's settings win)."""
    prefect_home = Path(os.environ.setdefault("PREFECT_HOME", str(home.resolve() / "work" / "prefect")))
    prefect_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def _print_assembly(summary: dict) -> None:
    for line in summary["lines"]:
        typer.echo(line)
    typer.echo(f"报告        {summary['report']}")
    typer.echo(f"数据仓库    {summary['warehouse']}")


@national_app.command()
def assemble(
    year: Annotated[int, typer.Option(metavar="年份", help="汇总年度 Y（报送包在 inbox/<Y>/<省>/）")],
    home: Annotated[Path, typer.Option(metavar="目录", help="全国主目录")] = DEFAULT_HOME,
) -> None:
    """检查每个省份的报送包，更新全国名录，写入数据仓库和报告。"""
    from flows.national.assemble import AssemblyError
    from flows.national.assemble import assemble as run_assembly
    from flows.national.run import summary

    try:
        assembly = run_assembly(home, year)
    except AssemblyError as e:
        typer.echo(f"getihu national assemble：{e}", err=True)
        raise typer.Exit(EXIT_INPUT) from None
    _print_assembly(summary(assembly))


@national_app.command()
def run(
    year: Annotated[int, typer.Option(metavar="年份", help="周期年度 Y（判定日期为 Y 年 7 月 31 日）")],
    provinces: Annotated[str, typer.Option(metavar="省份代码", help="逗号分隔的省级代码，如 23,41")],
    home: Annotated[
        Path, typer.Option(metavar="目录", help="全国主目录；各省主目录为 <目录>/provinces/<省>/")
    ] = DEFAULT_HOME,
    ruleset: Annotated[
        list[str], typer.Option(metavar="省=文件", help="用该分型标准文件代替该省已备案的标准（可重复）")
    ] = [],  # noqa: B006
    inbox: Annotated[
        list[str],
        typer.Option(metavar="省=目录", help="该省报送文件所在目录（默认 <主目录>/provinces/<省>/inbox/<省>/<年>/）"),
    ] = [],  # noqa: B006
    dask_address: Annotated[
        str | None,
        typer.Option(metavar="地址", help="已有的 Dask 调度器（默认取 GETIHU_DASK_ADDRESS，否则启动临时本地集群）"),
    ] = None,
    workers: Annotated[int, typer.Option(metavar="个数", help="临时本地集群的工作进程数")] = 2,
) -> None:
    """每个省份的常规周期作为一个 Prefect 流程的任务在 Dask 上运行，然后汇总。"""
    from flows.errors import PipelineStop
    from flows.secret import secret_from_environment

    codes = [p.strip() for p in provinces.split(",") if p.strip()]
    if not codes or not all(len(p) == 2 and p.isdigit() for p in codes):
        typer.echo(f"getihu national run：--provinces {provinces!r}：应为两位数字的省份代码，如 23,41", err=True)
        raise typer.Exit(EXIT_INPUT)
    rulesets, inboxes = _pairs(ruleset, "--ruleset"), _pairs(inbox, "--inbox")
    try:
        secret_from_environment()  # refuse before starting a cluster, as `getihu run` does
    except PipelineStop as e:
        typer.echo(f"getihu national run：{e}", err=True)
        raise typer.Exit(EXIT_INPUT) from None
    _quiet_prefect(home)
    if not os.environ.get("PREFECT_API_URL"):
        _start_prefect_server()
    from flows.national.run import run_national

    record = run_national(
        year, codes, home, rulesets=rulesets, inboxes=inboxes, dask_address=dask_address, workers=workers
    )
    failed = [r for r in record["provinces"] if r["status"] == "failed"]
    for r in record["provinces"]:
        shown = {"ran": "已运行", "unchanged": "未变，未重跑", "failed": "失败"}[r["status"]]
        typer.echo(f"{r['province']}  {shown}  {r.get('cycle_id') or r.get('error', '')}")
    _print_assembly(record["assembly"])
    if failed:
        typer.echo(
            f"getihu national run：{len(failed)} 个省份的周期失败：{', '.join(r['province'] for r in failed)}", err=True
        )
        raise typer.Exit(EXIT_FAILED)


def _start_prefect_server() -> None:
    """One temporary API for the flow and every local worker (a worker left alone would start a server of its own).

    It stops at exit, after Prefect's own exit handlers (registered later, so run earlier) have sent the last logs:
    stopped any sooner, they retry against a closed port for a minute.
    """
    import atexit

    from prefect.server.api.server import SubprocessASGIServer

    typer.echo("正在启动临时的 Prefect 服务（约 20 秒；设置 PREFECT_API_URL 可使用已运行的服务）。")
    server = SubprocessASGIServer()
    server.start(timeout=int(os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"]))
    atexit.register(server.stop)
    os.environ["PREFECT_API_URL"] = server.api_url


@national_app.command()
def serve(
    home: Annotated[Path, typer.Option(metavar="目录", help="汇总所用的全国主目录")] = DEFAULT_HOME,
) -> None:
    """运行全国汇总的部署（每年 8 月 16 日北京时间 02:00），直到停止。"""
    if not os.environ.get("PREFECT_API_URL"):
        typer.echo("getihu national serve：没有设置 PREFECT_API_URL；请先启动 Prefect 服务。", err=True)
        raise typer.Exit(EXIT_INPUT)
    from prefect import serve as prefect_serve

    from flows.national.deploy import assembly_deployment

    prefect_serve(assembly_deployment(home.resolve()))
