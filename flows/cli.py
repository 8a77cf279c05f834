"""The ``getihu`` command: one sub-command per entry of docs/spec/outputs.md, its help and messages in Chinese."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from flows.help import chinese_help

chinese_help()  # typer's and click's own words (Usage, Options, [default: …]) in Chinese

app = typer.Typer(
    name="getihu",
    help="个体工商户分型：生成模拟省份数据、运行一省的年度分型周期、查询一户的分型结果。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    options_metavar="[选项]",
    subcommand_metavar="命令 [参数]...",
)

SERVED_PROVINCES = ["23", "41"]
PROVINCE_HELP = "两位数字的省级行政区划代码，如 41（河南）或 23（黑龙江）"


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"getihu {version('getihu')}")
        raise typer.Exit()


app.add_typer(__import__("flows.classification.cli", fromlist=["classify_app"]).classify_app)  # 名特优新


@app.callback()
def _commands(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="显示版本号后退出")
    ] = False,
) -> None:
    """个体工商户分型：生成模拟省份数据、运行一省的年度分型周期、查询一户的分型结果。"""


from flows.national.cli import national_app  # noqa: E402

app.add_typer(national_app, name="national")


@app.command()
def generate(
    province: Annotated[str, typer.Option(metavar="省份代码", help=PROVINCE_HELP)],
    year: Annotated[int, typer.Option(metavar="年份", help="周期年度 Y")],
    businesses: Annotated[int, typer.Option(metavar="户数", help="生成的个体工商户户数")],
    out: Annotated[Path, typer.Option(metavar="目录", help="写入的收件目录；真值写入 <目录>.truth/")],
    seed: Annotated[int, typer.Option(metavar="种子", help="随机种子：种子和参数相同，文件逐字节相同")] = 0,
    faults: Annotated[
        float, typer.Option(metavar="比例", help="注入违反约定错误的行所占比例（见 <目录>.truth/）")
    ] = 0.0,
    file_format: Annotated[
        str, typer.Option("--format", metavar="格式", help="csv（含 GB18030 编码和 .xlsx 来源）或 parquet")
    ] = "csv",
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], metavar="YYYY-MM-DD", help="判定日期（默认 Y 年 7 月 31 日）"),
    ] = None,
    department_names: Annotated[
        bool,
        typer.Option(
            help="按部门的习惯命名专利和严重违法失信名单文件（如 专利.csv），并在 inbox.toml 的 [files] 中映射"
        ),
    ] = False,
    years: Annotated[
        int,
        typer.Option(
            metavar="年数",
            help="连续几个年度，自 --year 起；各年写入 <目录>/<年份>/",
        ),
    ] = 1,
) -> None:
    """按各部门报送的样子（extracts.md）生成一个模拟省份一个周期（或连续几个年度）的收件目录。"""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from synth.generate import generate as run
    from synth.world import Plan

    try:
        plan = Plan(
            province, year, businesses, seed, faults, file_format, as_of.date() if as_of else None, department_names
        )
        if years != 1:
            from synth.history import generate_years

            with Progress(
                TextColumn("正在生成 {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
            ) as progress:
                task = progress.add_task(f"{years} 年（末年 {businesses:,} 户）", total=years)
                results = generate_years(plan, years, out, lambda done, _: progress.update(task, completed=done))
            for result in results:
                rows = sum(result.files.values())
                typer.echo(f"已写入 {len(result.files)} 个文件、{rows:,} 行到 {result.inbox}/；真值在 {result.truth}/")
            return
        with Progress(
            TextColumn("正在生成 {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
        ) as progress:
            task = progress.add_task(f"{businesses:,} 户（按块）", total=plan.chunks)
            result = run(plan, out, lambda done, _: progress.update(task, completed=done))
    except ValueError as error:
        typer.echo(f"getihu generate：{error}", err=True)
        raise typer.Exit(2) from None
    rows = sum(result.files.values())
    typer.echo(f"已写入 {len(result.files)} 个文件、{rows:,} 行到 {result.inbox}/；真值在 {result.truth}/")
    if faults:
        typer.echo(f"注入了 {result.faults:,} 处违反约定的错误和 {result.duplicates:,} 行完全重复的记录")


@app.command()
def query(
    text: Annotated[str, typer.Argument(metavar="代码或名称", help="统一社会信用代码、注册号或名称（的一部分）")],
    home: Annotated[Path, typer.Option("--home", metavar="目录", help="存放 warehouse.duckdb 的主目录")] = Path("data"),
    page: Annotated[int, typer.Option(metavar="页码", help="按名称匹配到多户时，列出第几页（每页 20 户）")] = 1,
    everything: Annotated[bool, typer.Option("--all", help="按名称匹配到多户时，全部列出")] = False,
) -> None:
    """按统一社会信用代码、注册号或名称查询一户：各期分型结果、分型依据和满足的条件（附中文含义）、
    特征值、关联的商标专利和纳税人身份、含本户代码的隔离记录。"""
    # imported here so that `getihu --help` and the other commands do not load DuckDB and Polars first
    from flows.errors import GetihuError
    from flows.home import warehouse_path
    from flows.query import business_record, look_up, match_list, quarantine_table

    try:
        lookup = look_up(warehouse_path(home), text)
    except GetihuError as e:
        typer.echo(f"getihu query：{e}", err=True)
        raise typer.Exit(1) from None
    if lookup.matches.is_empty() and lookup.quarantined is not None and lookup.quarantined.height:
        Console().print(quarantine_table(lookup.quarantined, f"名录中没有“{text}”，但它在这些隔离记录中"))
        raise typer.Exit(1)
    if lookup.matches.is_empty():
        typer.echo(f"getihu query：没有统一社会信用代码或注册号为“{text}”、或名称含“{text}”的个体工商户。", err=True)
        raise typer.Exit(1)
    Console().print(business_record(lookup) if lookup.history is not None else match_list(lookup, page, everything))
    __import__("flows.classification.query", fromlist=["_"]).print_recognitions(warehouse_path(home), lookup)


@app.command()
def run(
    province: Annotated[str, typer.Option(metavar="省份代码", help=PROVINCE_HELP)],
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], metavar="YYYY-MM-DD", help="判定日期（默认 --year 年 7 月 31 日）"),
    ] = None,
    year: Annotated[int | None, typer.Option(metavar="年份", help="周期年度（默认判定日期所在年，或今年）")] = None,
    inbox: Annotated[
        Path | None, typer.Option(metavar="目录", help="各部门报送文件所在目录（默认 <主目录>/inbox/<省>/<年>/）")
    ] = None,
    home: Annotated[Path, typer.Option(metavar="目录", help="主目录：存放数据仓库、发布结果和工作文件")] = Path("data"),
    ruleset: Annotated[
        Path | None,
        typer.Option(metavar="文件", help="用这个分型标准文件代替本省已备案的标准；不是已备案的标准时须加 --draft"),
    ] = None,
    quarantine_threshold: Annotated[
        float | None,
        typer.Option(
            metavar="比例",
            help="一个来源被隔离的行超过这个比例（0 到 1）且超过隔离行数下限时停止运行；对所有来源生效"
            "（默认按 inbox.toml 中该来源的 quarantine_threshold，否则 0.05，即 5%）",
        ),
    ] = None,
    quarantine_minimum: Annotated[
        int | None,
        typer.Option(
            metavar="行数",
            help="一个来源被隔离的行不超过这个数时不停止运行；对所有来源生效"
            "（默认按 inbox.toml 中该来源的 quarantine_minimum，否则 20）",
        ),
    ] = None,
    draft: Annotated[
        bool,
        typer.Option(
            "--draft",
            help="草稿：按未备案的分型标准试算，结果只写入 <主目录>/drafts/（周期编号以 -draft 结尾），"
            "不替换正式周期，不报送",
        ),
    ] = False,
) -> None:
    """运行一省的整个分型周期（Prefect 流程）：读入、校验、关联、特征、分型、发布。"""
    import os

    from flows.errors import EXIT_STORAGE, EXIT_UNEXPECTED, GetihuError, PipelineStop, exit_code_of, storage_refusal
    from flows.home import check_province, cycle_for
    from flows.secret import DEVELOPMENT_SECRET, secret_from_environment
    from flows.terminal import kept_for_a_developer, quiet_prefect, run_summary
    from reference import ruleset_for
    from schemas.ruleset import RulesetError

    console = Console(stderr=True)
    cycle = None
    try:
        check_province(province)  # before the secret: a province name is the likelier slip
        secret = secret_from_environment()
        cycle = cycle_for(
            province,
            as_of.date() if as_of else None,
            year,
            home,
            inbox,
            ruleset,
            secret,
            quarantine_threshold,
            quarantine_minimum,
            draft,
        )
        ruleset_for(cycle.province, cycle.ruleset)  # a missing or broken standard stops the run before it starts
        if not cycle.inbox_dir.is_dir():
            raise PipelineStop(f"{cycle.inbox_dir}：收件目录不存在（用 --inbox 指定，或把报送文件放到这里）")
        if secret == DEVELOPMENT_SECRET.encode():
            console.print("[yellow]GETIHU_SECRET 是开发用密钥：只可用于演示，不可用于真实数据。[/]")
        quiet_prefect(home)
        if not os.environ.get("PREFECT_API_URL"):
            console.print("正在启动临时的 Prefect 服务（约 20 秒；设置 PREFECT_API_URL 可使用已运行的服务）。")
        from flows.cycle import typing_cycle
        from flows.progress import shown_on

        with shown_on(console):
            record = typing_cycle(
                province=cycle.province,
                as_of=cycle.as_of,
                home=str(home),
                inbox=str(inbox) if inbox else None,
                ruleset=str(ruleset) if ruleset else None,
                quarantine_threshold=cycle.quarantine_threshold,
                quarantine_minimum=cycle.quarantine_minimum,
                draft=cycle.draft,
            )
    except (GetihuError, RulesetError) as e:
        typer.echo(f"getihu run：{e}", err=True)
        raise typer.Exit(exit_code_of(e)) from None
    except Exception as e:
        if refusal := storage_refusal(e, home):
            typer.echo(
                f"getihu run：{refusal}。没有发布任何新结果，此前的结果完好。请腾出磁盘空间，或让当前用户可写 "
                f"{home}，然后重新运行。",
                err=True,
            )
            raise typer.Exit(EXIT_STORAGE) from None
        typer.echo(
            f"getihu run：因意外错误停止（{type(e).__name__}: {e}）。没有发布任何新结果，此前的结果完好。"
            f"{kept_for_a_developer(cycle, home)}",
            err=True,
        )
        raise typer.Exit(EXIT_UNEXPECTED) from None
    heading, table, lines = run_summary(cycle, record)
    typer.echo(heading)
    Console().print(table)
    for line in lines:
        typer.echo(line)  # plain lines: a path must never be wrapped


@app.command()
def check(
    province: Annotated[str, typer.Option(metavar="省份代码", help=PROVINCE_HELP)],
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], metavar="YYYY-MM-DD", help="判定日期（默认 --year 年 7 月 31 日）"),
    ] = None,
    year: Annotated[int | None, typer.Option(metavar="年份", help="周期年度（默认判定日期所在年，或今年）")] = None,
    inbox: Annotated[
        Path | None, typer.Option(metavar="目录", help="各部门报送文件所在目录（默认 <主目录>/inbox/<省>/<年>/）")
    ] = None,
    home: Annotated[Path, typer.Option(metavar="目录", help="主目录（其中的发布结果和数据仓库不会被改动）")] = Path(
        "data"
    ),
    out: Annotated[
        Path | None,
        typer.Option(metavar="目录", help="检查结果和将被隔离的记录写到这里（默认 <主目录>/drafts/check/<周期编号>/）"),
    ] = None,
    quarantine_threshold: Annotated[
        float | None, typer.Option(metavar="比例", help="同 getihu run 的 --quarantine-threshold")
    ] = None,
    quarantine_minimum: Annotated[
        int | None, typer.Option(metavar="行数", help="同 getihu run 的 --quarantine-minimum")
    ] = None,
) -> None:
    """只检查收件目录，不分型、不发布：哪些文件识别为哪个数据来源、哪些未识别，各文件将被隔离的行数（按规则，附中文说明），
    以及隔离比例是否会使正式运行停止。将被隔离的记录写到 <主目录>/drafts/check/ 下（或 --out）。
    退出码：0 可以运行；2 有文件无法使用或隔离超过阈值；4 无法写入。"""
    from flows.check import check as checked_inbox
    from flows.check import check_cycle
    from flows.errors import EXIT_INPUT, EXIT_STORAGE, GetihuError, exit_code_of, storage_refusal
    from flows.secret import secret_from_environment

    try:
        try:
            secret = secret_from_environment()
        except GetihuError:
            secret = None  # a check keeps no key: a random one keys the scratch raw layer
        cycle = check_cycle(
            province,
            as_of.date() if as_of else None,
            year,
            home,
            inbox,
            out,
            secret,
            quarantine_threshold,
            quarantine_minimum,
        )
        if not cycle.inbox_dir.is_dir():
            raise GetihuError(f"{cycle.inbox_dir}：收件目录不存在（用 --inbox 指定）")
        found = checked_inbox(cycle)
    except GetihuError as e:
        typer.echo(f"getihu check：{e}", err=True)
        raise typer.Exit(EXIT_INPUT if exit_code_of(e) == 1 else exit_code_of(e)) from None
    except OSError as e:
        typer.echo(f"getihu check：{storage_refusal(e, home) or e}", err=True)
        raise typer.Exit(EXIT_STORAGE) from None
    console = Console()
    console.print(found.files)
    if found.unrecognised:
        typer.echo(f"未识别的文件 {len(found.unrecognised)} 个（运行时不会读入）：{'、'.join(found.unrecognised)}")
    else:
        typer.echo("未识别的文件 0 个")
    console.print(found.rules)
    typer.echo(f"将被隔离的记录：{found.folder / 'quarantine.csv'}（Excel 版 {found.folder / 'quarantine.xlsx'}）")
    if found.stop:
        typer.echo(f"getihu check：正式运行会停止。{found.stop}", err=True)
        raise typer.Exit(EXIT_INPUT)
    typer.echo("检查通过：正式运行不会因这些文件停止。")


@app.command()
def cycles(
    home: Annotated[Path, typer.Option(metavar="目录", help="存放 warehouse.duckdb 的主目录")] = Path("data"),
) -> None:
    """列出主目录中已发布的周期（含草稿）：判定日期、类型（年度分型、临时分型、草稿）、分型标准和各类户数。"""
    from flows.cycles import cycles_table, published_cycles
    from flows.errors import GetihuError

    try:
        found = published_cycles(home)
    except GetihuError as e:
        typer.echo(f"getihu cycles：{e}", err=True)
        raise typer.Exit(1) from None
    Console().print(cycles_table(found))


@app.command()
def compare(
    first: Annotated[str, typer.Argument(metavar="周期A", help="较早的周期编号，如 41-20240731")],
    second: Annotated[str, typer.Argument(metavar="周期B", help="较晚的周期编号，如 41-20250731")],
    home: Annotated[Path, typer.Option(metavar="目录", help="存放 warehouse.duckdb 的主目录")] = Path("data"),
) -> None:
    """比较两个周期：各类户数及其增减，以及各户从周期A到周期B的变动（上升、下降、不变、新增、退出）。"""
    from flows.cycles import compare as compared
    from flows.cycles import frame_table
    from flows.errors import GetihuError

    try:
        counts, moves = compared(home, first, second)
    except GetihuError as e:
        typer.echo(f"getihu compare：{e}", err=True)
        raise typer.Exit(1) from None
    console = Console()
    console.print(frame_table(counts, f"{first} 与 {second} 的分型户数"))
    console.print(frame_table(moves, f"从 {first} 到 {second} 的变动"))


@app.command()
def serve(
    province: Annotated[
        list[str], typer.Option(metavar="省份代码", help="要服务的省份；可重复给出多个")
    ] = SERVED_PROVINCES,
    home: Annotated[Path, typer.Option(metavar="目录", help="部署运行所用的主目录")] = Path("data"),
) -> None:
    """为每个省份提供年度部署（8 月 1 日 02:00，北京时间）和重跑部署，有名特优新标准的省份还有名录复核（8 月 8 日）和
    年度认定（8 月 16 日）部署，直到停止。

    需要 Prefect 服务：make serve 会启动它并设置 PREFECT_API_URL。运行所用的个人信息密钥取自本进程环境中的
    GETIHU_SECRET（或 GETIHU_SECRET_FILE）。Prefect 的遥测默认关闭。
    """
    import os

    from flows.errors import EXIT_INPUT, PipelineStop
    from flows.secret import secret_from_environment
    from flows.terminal import telemetry_off

    telemetry_off()
    if not os.environ.get("PREFECT_API_URL"):
        typer.echo("getihu serve：没有设置 PREFECT_API_URL；请先启动 Prefect 服务（make serve 会启动）。", err=True)
        raise typer.Exit(EXIT_INPUT)
    try:
        secret_from_environment()  # refuse now, not at 02:00 on 1 August
    except PipelineStop as e:
        typer.echo(f"getihu serve：{e}", err=True)
        raise typer.Exit(EXIT_INPUT) from None
    from prefect import serve as prefect_serve

    from flows.cycle import served_deployments

    prefect_serve(*served_deployments(province, home.resolve()))


app.add_typer(__import__("flows.objections.cli", fromlist=["app"]).app, name="objection")  # 异议处理
app.add_typer(__import__("flows.web.cli", fromlist=["app"]).app, name="web")  # 网页：查询公示、异议申诉、受理台；账号

_measures_cli = __import__("flows.measures.cli", fromlist=["measures"])  # 免申即享名单、双随机抽查样本 (issue 20)
app.command()(_measures_cli.measures)
app.command()(_measures_cli.sample)


app.command(name="monitor")(__import__("flows.monitoring.cli", fromlist=["monitor"]).monitor)  # 监测分析


def main() -> None:
    """``getihu``: the command, then the exit through Python's normal path.

    A command that stops on an error exits with ``typer.Exit``, whose context is the error. The error is also kept by
    Prefect (the failed run's state), and its traceback holds the frames of the stages it went through — with their
    DuckDB connections and Polars frames. Alive when the interpreter shuts down, DuckDB's extension (nanobind)
    reported each of its objects as leaked (~40 lines after every refusal). So the exit code is taken, every error of
    the chain lets go of its frames, they are collected, and only then does the process exit.
    """
    import gc
    import sys

    try:
        app()
        code: int | str | None = 0
    except SystemExit as stop:
        code = stop.code
        error: BaseException | None = stop
        seen: set[int] = set()
        while error is not None and id(error) not in seen:
            seen.add(id(error))
            error.__traceback__ = None
            error = error.__cause__ or error.__context__
    gc.collect()
    sys.exit(code)
