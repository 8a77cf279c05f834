"""``getihu classify``: the 名特优新 round of a year, and ``getihu classify review``: the register's yearly review."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

classify_app = typer.Typer(
    name="classify",
    help="名特优新：年度认定（getihu classify --province 省份代码 --year 年份）和名录的年度复核。",
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_INPUT, EXIT_BUSY = 2, 3

Province = Annotated[
    str | None, typer.Option(metavar="省份代码", help="两位数字的省级行政区划代码，如 41（河南）或 23（黑龙江）")
]
Year = Annotated[int | None, typer.Option(metavar="年份", help="年度 Y：该年度的年度分型周期须已运行")]
Home = Annotated[Path, typer.Option(metavar="目录", help="主目录：存放数据仓库、发布结果和工作文件")]
Inbox = Annotated[
    Path | None, typer.Option(metavar="目录", help="周期的收件目录；名特优新文件在其 classification/ 子目录中")
]
Standards = Annotated[
    Path | None, typer.Option(metavar="目录", help="名特优新认定标准所在目录（默认 data/classification/）")
]
Day = Annotated[
    dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], metavar="YYYY-MM-DD", help="本步骤的日期（默认见各命令）")
]


def _run(step, province: str | None, year: int | None, home: Path, inbox: Path | None, day, standards) -> None:
    from flows.classification.cycle_data import CycleMissing
    from flows.errors import HomeBusy, PipelineStop, WarehouseBusy
    from flows.secret import secret_from_environment
    from schemas.classification import StandardError

    name = "getihu classify" + (" review" if step.__name__ == "run_review" else "")
    if not province or not (len(province) == 2 and province.isascii() and province.isdigit()) or year is None:
        typer.echo(f"{name}: 需要 --province（两位省级代码，如 41）和 --year（年度）", err=True)
        raise typer.Exit(EXIT_INPUT)
    try:
        secret = secret_from_environment()
        result = step(province, year, home, secret, inbox, day.date() if day else None, standards)
    except (PipelineStop, StandardError, CycleMissing) as e:
        typer.echo(f"{name}: {e}", err=True)
        raise typer.Exit(EXIT_INPUT) from None
    except (HomeBusy, WarehouseBusy) as e:
        typer.echo(f"{name}: {e}", err=True)
        raise typer.Exit(EXIT_BUSY) from None
    summary = "，".join(f"{k} {v}" for k, v in result.counts.items()) or "无"
    typer.echo(f"{name} {province} {year}: {summary}；隔离 {result.quarantined} 条")
    typer.echo(f"输出：{result.folder}/")


@classify_app.callback()
def classify(
    ctx: typer.Context,
    province: Province = None,
    year: Year = None,
    home: Home = Path("data"),
    inbox: Inbox = None,
    standards: Standards = None,
    recognised_on: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], metavar="YYYY-MM-DD", help="认定日期（默认 Y 年 11 月 30 日）"),
    ] = None,
) -> None:
    """Y 年度的认定：每个申请一个结果（拟认定；报送 review.csv 后为认定）。"""
    if ctx.invoked_subcommand is not None:
        return
    from flows.classification.commands import run_round

    _run(run_round, province, year, home, inbox, recognised_on, standards)


@classify_app.command()
def review(
    province: Province = None,
    year: Year = None,
    home: Home = Path("data"),
    inbox: Inbox = None,
    standards: Standards = None,
    review_on: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], metavar="YYYY-MM-DD", help="复核日期（默认 Y 年 7 月 31 日）"),
    ] = None,
) -> None:
    """Y 年度名录复核：注销、经营者变更、延期、期满和撤销。"""
    from flows.classification.commands import run_review

    _run(run_review, province, year, home, inbox, review_on, standards)


@classify_app.command("generate")
def generate_inbox(
    province: Annotated[str, typer.Option(metavar="省份代码", help="模拟省份的两位数字省级代码")],
    year: Annotated[int, typer.Option(metavar="年份", help="所生成周期收件目录的年度")],
    inbox: Annotated[Path, typer.Option(metavar="目录", help="已生成的周期收件目录（getihu generate --out）")],
    seed: Annotated[int, typer.Option(metavar="种子", help="随机种子：种子和输入相同，文件相同")] = 0,
    home: Annotated[
        Path | None, typer.Option(metavar="目录", help="主目录：以后年度的文件按其名录（以前各轮认定）生成")
    ] = None,
) -> None:
    """为模拟省份生成名特优新收件目录（<目录>/classification/），真值放在旁边。

    在 getihu generate 之后、getihu run 之前运行：它还会向周期收件目录加入预设的行政处罚和申请人经营者的其他个体户。
    """
    from flows.classification.store import previous_state
    from synth.classification import write_classification

    register = previous_state(home, province, year, "review")[0] if home is not None else None
    truth = write_classification(inbox, province, year, seed, register)
    typer.echo(f"已写入 {inbox / 'classification'}/；设计的案例见 {truth}/cases.csv")
