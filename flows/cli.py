"""The ``getihu`` command: one sub-command per entry of ../shared/spec/outputs.md."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    name="getihu",
    help="个体工商户分型: generate a synthetic province, run a province's yearly typing cycle, look up a business.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _commands() -> None:
    """Sub-commands stay sub-commands even while only one exists (typer would otherwise flatten the CLI)."""


@app.command()
def generate(
    province: Annotated[str, typer.Option(help="two-digit province code, e.g. 41 (河南) or 23 (黑龙江)")],
    year: Annotated[int, typer.Option(help="the cycle's year Y")],
    businesses: Annotated[int, typer.Option(help="number of individual businesses to register")],
    out: Annotated[Path, typer.Option(help="the inbox folder to write; the ground truth goes to <out>.truth/")],
    seed: Annotated[int, typer.Option(help="same seed and arguments: byte-identical files")] = 0,
    faults: Annotated[
        float, typer.Option(help="share of rows given one contract breach each (see <out>.truth/)")
    ] = 0.0,
    file_format: Annotated[
        str, typer.Option("--format", help="csv (with GB18030 and .xlsx sources) or parquet")
    ] = "csv",
    as_of: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="as-of date (default 31 July of Y)")
    ] = None,
) -> None:
    """Write a synthetic province's inbox for one cycle, as the departments deliver it (extracts.md)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from synth.generate import generate as run
    from synth.world import Plan

    try:
        plan = Plan(province, year, businesses, seed, faults, file_format, as_of.date() if as_of else None)
        with Progress(
            TextColumn("generating {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
        ) as progress:
            task = progress.add_task(f"{businesses:,} businesses (chunks)", total=plan.chunks)
            result = run(plan, out, lambda done, _: progress.update(task, completed=done))
    except ValueError as error:
        typer.echo(f"getihu generate: {error}", err=True)
        raise typer.Exit(2) from None
    rows = sum(result.files.values())
    typer.echo(f"wrote {len(result.files)} files, {rows:,} rows to {result.inbox}/; ground truth in {result.truth}/")
    if faults:
        typer.echo(f"injected {result.faults:,} contract breaches and {result.duplicates:,} identical duplicates")


@app.command()
def query(
    text: Annotated[str, typer.Argument(help="统一社会信用代码, 注册号, or (part of) a name")],
    home: Annotated[Path, typer.Option("--home", help="the home holding warehouse.duckdb")] = Path("data"),
) -> None:
    """A business by USCC, 注册号 or name: its type in every cycle, the reasons and the feature values behind them."""
    # imported here so that `getihu --help` and the other commands do not load DuckDB and Polars first
    from flows.context import warehouse_path
    from flows.query import QueryError, business_record, look_up, match_list
    from flows.warehouse import WarehouseError

    try:
        lookup = look_up(warehouse_path(home), text)
    except (QueryError, WarehouseError) as e:
        typer.echo(f"getihu query: {e}", err=True)
        raise typer.Exit(1) from None
    if lookup.matches.is_empty():
        typer.echo(f"getihu query: no business has the USCC or 注册号 {text!r} or a name containing it.", err=True)
        raise typer.Exit(1)
    Console().print(business_record(lookup) if lookup.history is not None else match_list(lookup))


def main() -> None:
    app()
