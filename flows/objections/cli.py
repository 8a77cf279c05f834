"""``getihu objection``: the objection handler's commands (objections.md). Chinese where handlers read.

Every command that changes something takes ``--handler`` (the handler's name or staff number), stamped with
the time on the event it records. Every command shows the overdue objections first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    name="objection",
    help="异议处理：登记、受理、附更正材料、重新判定、决定、答复。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

Home = Annotated[Path, typer.Option("--home", metavar="目录", help="主目录：存放 warehouse.duckdb 和 objections/")]
Handler = Annotated[str, typer.Option("--handler", metavar="经办人", help="经办人（姓名或工号），记入每一步")]
Number = Annotated[str, typer.Argument(metavar="异议编号", help="异议编号，如 YY20254100001")]


@contextmanager
def _desk(home: Path, secret: bool = True) -> Iterator[object]:
    from flows.errors import ConfigurationError, InputError
    from flows.objections.desk import Desk
    from flows.objections.rejudge import RejudgeError
    from flows.objections.store import StoreError
    from flows.storage.warehouse import WarehouseError

    try:
        if secret:
            from flows.secret import secret_from_environment

            key = secret_from_environment()
        else:
            key = b""
        desk = Desk(home=home, secret=key)
        _overdue_banner(desk)
        yield desk
    except (StoreError, RejudgeError, InputError, WarehouseError, ConfigurationError, FileNotFoundError) as e:
        typer.echo(f"getihu objection: {e}", err=True)
        raise typer.Exit(1) from None


def _overdue_banner(desk) -> None:
    from flows.objections.desk import listing
    from flows.objections.store import store_path
    from schemas.objections import DEADLINE_LABELS

    if not store_path(desk.home).exists():
        return
    late = [(row, deadlines) for row, deadlines in listing(desk) if deadlines]
    if late:
        console = Console(stderr=True)
        console.print(f"[bold red]逾期异议 {len(late)} 件：[/]")
        for row, deadlines in late:
            what = "、".join(DEADLINE_LABELS[d] for d in deadlines)
            console.print(f"[red]  {row['objection_no']}  {row['name'] or row['uscc']}  已过{what}[/]")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(metavar="文件", help="objection.csv（异议申诉模块导出）")],
    handler: Handler,
    home: Home = Path("data"),
    received_on: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], metavar="YYYY-MM-DD", help="收到日期（默认今天）")
    ] = None,
) -> None:
    """登记 objection.csv 中的异议，并作受理审查（不予受理的原因当即记录）。"""
    from flows.objections.desk import import_objections
    from schemas.objections import REFUSAL_LABELS

    with _desk(home) as desk:
        result = import_objections(desk, file, handler, received_on.date() if received_on else None)
    filed, refused = len(result.filed), len(result.refused)
    typer.echo(f"登记 {filed + refused} 件：待受理 {filed} 件，不予受理 {refused} 件")
    for number, reason in result.refused:
        typer.echo(f"  {number}  不予受理：{reason.value}（{REFUSAL_LABELS[reason]}）")
    if result.already:
        typer.echo(f"已登记过、未重复登记 {len(result.already)} 件：{'、'.join(result.already)}")
    if result.quarantine_file is not None:
        typer.echo(f"不符合数据规范的行已隔离 {result.quarantine.height} 处：{result.quarantine_file}")


@app.command("list")
def list_(home: Home = Path("data")) -> None:
    """全部异议，逾期的在最前。"""
    from flows.objections.casefile import queue

    with _desk(home, secret=False) as desk:
        rows = queue(desk)
    table = Table()
    table.add_column("异议编号", no_wrap=True, min_width=max([len(r.objection_no) for r in rows] + [4]))
    table.add_column("状态", no_wrap=True)
    for header in ("统一社会信用代码", "名称", "周期", "下一期限", "逾期"):
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(
            row.objection_no,
            row.status_label,
            row.uscc,
            row.name,
            row.cycle_id,
            row.next_deadline + ("（暂按周一至周五）" if row.provisional else ""),
            "、".join(row.overdue),
            style="red" if row.overdue else None,
        )
    Console().print(table)


@app.command()
def show(number: Number, home: Home = Path("data")) -> None:
    """一件异议：状态、期限、办理记录、更正材料、最近一次重新判定的对照。"""
    import json

    from flows.objections.casefile import CASE_FIELDS
    from schemas.objections import EVENT_LABELS, STATUS_LABELS, Event, Status

    with _desk(home, secret=False) as desk, desk.store() as store:
        row = store.get(number)
        events = store.events(number)
        corrections = store.corrections(number)
        latest = store.latest_rejudgment(number)
    console = Console()
    console.print(f"[bold]{row['objection_no']}[/]  {STATUS_LABELS[Status(row['status'])]}")
    for label, key in CASE_FIELDS:
        if row[key]:
            console.print(f"  {label}：{row[key]}")
    table = Table(title="办理记录")
    for header in ("时间", "步骤", "经办人", "内容"):
        table.add_column(header)
    for e in events:
        table.add_row(e["at"], EVENT_LABELS[Event(e["kind"])], e["handler"], e["detail"])
    console.print(table)
    for c in corrections:
        console.print(
            f"  更正材料 {c['file']}（{c['source']}，{c['rows']} 行）{c['confirmed_by']} {c['confirmation_no']}"
        )
    if latest is not None:
        compared = json.loads(latest["comparison"])
        side = Table(title=f"重新判定：{compared['type_before']} → {compared['type_after']}")
        for header in ("特征", "原判定", "重新判定", "更正来源"):
            side.add_column(header)
        for f in compared["features"]:
            by = "；".join(f"{b['file']}第{b['line']}行 {b['confirmation_no']}" for b in f["by"])
            side.add_row(
                f["label"], str(f["before"]), str(f["after"]), by, style="bold yellow" if f["changed"] else None
            )

        def codes(key: str) -> str:
            return "、".join(c["code"] for c in compared[key]) or "无"

        side.add_row("满足的分型条件", codes("conditions_met_before"), codes("conditions_met_after"), "")
        side.add_row("未满足的基础条件", codes("criteria_failed_before"), codes("criteria_failed_after"), "")
        console.print(side)


@app.command()
def accept(number: Number, handler: Handler, home: Home = Path("data")) -> None:
    """受理；决定期限为受理后20个工作日。"""
    from flows.objections.desk import accept as run

    with _desk(home, secret=False) as desk:
        due = run(desk, number, handler)
    typer.echo(f"{number} 已受理，决定期限 {due}")


@app.command()
def refuse(
    number: Number,
    reason: Annotated[
        str, typer.Option(metavar="原因", help="不予受理的原因：UNKNOWN_BUSINESS、UNKNOWN_CYCLE、LATE 或 DUPLICATE")
    ],
    handler: Handler,
    note: Annotated[str, typer.Option(metavar="文字", help="说明")] = "",
    home: Home = Path("data"),
) -> None:
    """不予受理，写明原因。"""
    from flows.objections.desk import refuse as run
    from schemas.objections import Refusal

    try:
        refusal = Refusal(reason)
    except ValueError:
        typer.echo(f"getihu objection: --reason {reason}: 应为 {'、'.join(r.value for r in Refusal)}", err=True)
        raise typer.Exit(2) from None
    with _desk(home, secret=False) as desk:
        run(desk, number, refusal, handler, note)
    typer.echo(f"{number} 不予受理：{refusal.value}")


@app.command()
def attach(
    number: Number,
    files: Annotated[
        list[Path], typer.Argument(metavar="文件", help="更正文件（如 tax_payment.csv），每行带 确认部门、确认文号")
    ],
    handler: Handler,
    home: Home = Path("data"),
) -> None:
    """附入数据部门确认的更正材料。"""
    from flows.objections.desk import attach as run

    with _desk(home) as desk:
        entries = run(desk, number, files, handler)
    for e in entries:
        typer.echo(f"已附入 {e['file']}（{e['source']}，{e['rows']} 行，{e['confirmed_by']} {e['confirmation_no']}）")


@app.command()
def rejudge(
    number: Number,
    handler: Handler,
    home: Home = Path("data"),
    ruleset: Annotated[
        Path | None, typer.Option(metavar="文件", help="本期所用的分型标准文件（默认本省已备案的）")
    ] = None,
) -> None:
    """按本期判定日期和分型标准，以本期数据加确认的更正材料重新判定。"""
    from flows.objections.desk import run_rejudgment

    with _desk(home) as desk:
        result = run_rejudgment(desk, number, handler, ruleset)
    typer.echo(f"{number} 重新判定：{result.before.business_type} → {result.after.business_type}")
    show(number, home)


@app.command()
def decide(
    number: Number,
    decision: Annotated[str, typer.Option(metavar="决定", help="调整 或 维持")],
    reasons: Annotated[str, typer.Option(metavar="理由", help="决定理由（中文）")],
    handler: Handler,
    home: Home = Path("data"),
) -> None:
    """作出决定；调整的同时记录更正、写更正包并更新数据仓库。"""
    from flows.objections.decisions import decide as run
    from schemas.objections import Decision

    try:
        chosen = Decision(decision)
    except ValueError:
        typer.echo("getihu objection: --decision 应为 调整 或 维持", err=True)
        raise typer.Exit(2) from None
    with _desk(home, secret=False) as desk:
        package = run(desk, number, chosen, reasons, handler)
    typer.echo(f"{number} 决定：{chosen.value}" + (f"；更正包 {package}" if package else ""))


@app.command()
def reply(
    number: Number,
    handler: Handler,
    home: Home = Path("data"),
    pdf: Annotated[bool, typer.Option(help="同时生成 PDF")] = True,
) -> None:
    """生成答复书（HTML，A4；及 PDF）。"""
    from flows.objections.reply import reply as run

    with _desk(home, secret=False) as desk:
        written = run(desk, number, handler, pdf)
    for path in written:
        typer.echo(f"答复书 {path}")


@app.command()
def summary(
    home: Home = Path("data"),
    province: Annotated[str | None, typer.Option(metavar="省份代码", help="只看这个省（两位代码）")] = None,
) -> None:
    """异议办理情况：收到、受理、不予受理（按原因）、决定（调整/维持）、逾期、决定用时中位数（工作日）。"""
    from flows.objections.desk import figures

    with _desk(home, secret=False) as desk:
        f = figures(desk, province)
    typer.echo(f"收到 {f['received']} 件，受理 {f['accepted']} 件，逾期 {f['overdue']} 件")
    typer.echo("不予受理：" + ("、".join(f"{k} {v} 件" for k, v in f["refused"].items()) or "无"))
    typer.echo("决定：" + ("、".join(f"{k} {v} 件" for k, v in f["decided"].items()) or "无"))
    median = f["median_working_days_to_decide"]
    typer.echo(f"受理至决定用时中位数：{median} 个工作日" if median is not None else "受理至决定用时中位数：无")


@app.command()
def generate(
    province: Annotated[str, typer.Option(metavar="省份代码", help="生成的分型周期的省份（两位代码）")],
    as_of: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], metavar="YYYY-MM-DD", help="该周期的判定日期")],
    out: Annotated[Path, typer.Option(metavar="目录", help="objection.csv、corrections/ 和 truth.csv 写到这里")],
    home: Home = Path("data"),
    per_kind: Annotated[int, typer.Option(metavar="件数", help="每类异议的件数")] = 2,
    seed: Annotated[int, typer.Option(metavar="种子", help="随机种子：种子相同，结果相同")] = 0,
) -> None:
    """为生成的分型周期写一份异议导出（objection.csv）、更正材料和真值（truth.csv），供测试与演示。"""
    from synth.objections import objection_export

    written = objection_export(home, province, as_of.date(), out, per_kind, seed)
    typer.echo(f"objection.csv, corrections/ and truth.csv in {written}")
