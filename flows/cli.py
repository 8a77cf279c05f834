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


app.add_typer(__import__("flows.classification.cli", fromlist=["classify_app"]).classify_app)  # 名特优新


@app.callback()
def _commands() -> None:
    """Sub-commands stay sub-commands even while only one exists (typer would otherwise flatten the CLI)."""


from flows.national.cli import national_app  # noqa: E402

app.add_typer(national_app, name="national")


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
    department_names: Annotated[
        bool,
        typer.Option(help="name patent and serious_list files as departments do (专利.csv), mapped in inbox.toml"),
    ] = False,
) -> None:
    """Write a synthetic province's inbox for one cycle, as the departments deliver it (extracts.md)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from synth.generate import generate as run
    from synth.world import Plan

    try:
        plan = Plan(
            province, year, businesses, seed, faults, file_format, as_of.date() if as_of else None, department_names
        )
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
    from flows.errors import GetihuError
    from flows.home import warehouse_path
    from flows.query import business_record, look_up, match_list

    try:
        lookup = look_up(warehouse_path(home), text)
    except GetihuError as e:
        typer.echo(f"getihu query: {e}", err=True)
        raise typer.Exit(1) from None
    if lookup.matches.is_empty():
        typer.echo(f"getihu query: no business has the USCC or 注册号 {text!r} or a name containing it.", err=True)
        raise typer.Exit(1)
    Console().print(business_record(lookup) if lookup.history is not None else match_list(lookup))
    __import__("flows.classification.query", fromlist=["_"]).print_recognitions(warehouse_path(home), lookup)


@app.command()
def run(
    province: Annotated[str, typer.Option(help="two-digit province code, e.g. 41 (河南) or 23 (黑龙江)")],
    as_of: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="judgment date (default 31 July of --year)")
    ] = None,
    year: Annotated[int | None, typer.Option(help="the cycle's year (default: the as-of year, or this year)")] = None,
    inbox: Annotated[Path | None, typer.Option(help="the extracts (default <home>/inbox/<P>/<Y>/)")] = None,
    home: Annotated[Path, typer.Option(help="holds the warehouse, the outputs and the working files")] = Path("data"),
    ruleset: Annotated[
        Path | None, typer.Option(help="a typing standard file instead of the province's filed one")
    ] = None,
    quarantine_threshold: Annotated[
        float | None,
        typer.Option(
            help="share of a source's rows that may be quarantined before the run stops, 0 to 1 (default 0.05, or "
            "inbox.toml's quarantine_threshold of the source); for every source"
        ),
    ] = None,
    quarantine_minimum: Annotated[
        int | None,
        typer.Option(
            help="a source stops the run only with more quarantined rows than this (default 20, or inbox.toml's "
            "quarantine_minimum of the source); for every source"
        ),
    ] = None,
) -> None:
    """The whole cycle as a Prefect flow: ingest, validate, link, features, type, publish."""
    import os

    from flows.errors import EXIT_STORAGE, EXIT_UNEXPECTED, GetihuError, PipelineStop, exit_code_of, storage_refusal
    from flows.home import cycle_for
    from flows.secret import DEVELOPMENT_SECRET, secret_from_environment
    from flows.terminal import kept_for_a_developer, quiet_prefect, run_summary
    from reference import ruleset_for
    from schemas.ruleset import RulesetError

    console = Console(stderr=True)
    cycle = None
    try:
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
        )
        ruleset_for(cycle.province, cycle.ruleset)  # a missing or broken standard stops the run before it starts
        if not cycle.inbox_dir.is_dir():
            raise PipelineStop(f"{cycle.inbox_dir}: no such inbox folder (give --inbox, or put the extracts there)")
        if secret == DEVELOPMENT_SECRET.encode():
            console.print("[yellow]GETIHU_SECRET is the development key: fine for a demo, never for real data.[/]")
        quiet_prefect(home)
        if not os.environ.get("PREFECT_API_URL"):
            console.print("Starting a temporary Prefect server (about 20 s; set PREFECT_API_URL to use a running one).")
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
            )
    except (GetihuError, RulesetError) as e:
        typer.echo(f"getihu run: {e}", err=True)
        raise typer.Exit(exit_code_of(e)) from None
    except Exception as e:
        if refusal := storage_refusal(e):
            typer.echo(
                f"getihu run: {refusal}. Nothing new was published; the previous results are intact. Free some "
                f"space, or make {home} writable for this user, and run again.",
                err=True,
            )
            raise typer.Exit(EXIT_STORAGE) from None
        typer.echo(
            f"getihu run: stopped by an unexpected error ({type(e).__name__}: {e}). Nothing new was published; "
            f"the previous results are intact. {kept_for_a_developer(cycle, home)}",
            err=True,
        )
        raise typer.Exit(EXIT_UNEXPECTED) from None
    heading, table, lines = run_summary(cycle, record)
    typer.echo(heading)
    Console().print(table)
    for line in lines:
        typer.echo(line)  # plain lines: a path must never be wrapped


@app.command()
def serve(
    province: Annotated[list[str], typer.Option(help="a province to serve; repeat for several")] = ["23", "41"],  # noqa: B006
    home: Annotated[Path, typer.Option(help="the home the deployments run against")] = Path("data"),
) -> None:
    """Serve the yearly (1 August 02:00 Asia/Shanghai) and rerun deployments of each province until stopped.

    Needs a Prefect server: ``make serve`` starts one and sets PREFECT_API_URL. Runs take the key for personal
    data from GETIHU_SECRET (or GETIHU_SECRET_FILE) in this process's environment.
    """
    import os

    from flows.errors import EXIT_INPUT, PipelineStop
    from flows.secret import secret_from_environment

    if not os.environ.get("PREFECT_API_URL"):
        typer.echo(
            "getihu serve: PREFECT_API_URL is not set; start a Prefect server first (make serve does).", err=True
        )
        raise typer.Exit(EXIT_INPUT)
    try:
        secret_from_environment()  # refuse now, not at 02:00 on 1 August
    except PipelineStop as e:
        typer.echo(f"getihu serve: {e}", err=True)
        raise typer.Exit(EXIT_INPUT) from None
    from prefect import serve as prefect_serve

    from flows.cycle import deployments

    prefect_serve(*deployments(province, home.resolve()))


def main() -> None:
    app()
