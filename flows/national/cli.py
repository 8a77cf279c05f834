"""``getihu national``: the national directory's commands (national.md): ``assemble``, ``run``, ``serve``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

national_app = typer.Typer(
    help="全国个体工商户名录: check and assemble the provinces' packages; run many provinces' cycles on Dask.",
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
                f"getihu national run: {option} {value!r}: expected P=PATH, e.g. {option} 32=rulesets/32.toml", err=True
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
    typer.echo(f"report      {summary['report']}")
    typer.echo(f"warehouse   {summary['warehouse']}")


@national_app.command()
def assemble(
    year: Annotated[int, typer.Option(help="the year Y whose packages (inbox/<Y>/<P>/) are assembled")],
    home: Annotated[Path, typer.Option(help="the national home")] = DEFAULT_HOME,
) -> None:
    """Check every province's package, keep the national directory, write the warehouse and the report."""
    from flows.national.assemble import AssemblyError
    from flows.national.assemble import assemble as run_assembly
    from flows.national.run import summary

    try:
        assembly = run_assembly(home, year)
    except AssemblyError as e:
        typer.echo(f"getihu national assemble: {e}", err=True)
        raise typer.Exit(EXIT_INPUT) from None
    _print_assembly(summary(assembly))


@national_app.command()
def run(
    year: Annotated[int, typer.Option(help="the cycles' year Y (as of 31 July of Y)")],
    provinces: Annotated[str, typer.Option(help="comma-separated province codes, e.g. 23,41")],
    home: Annotated[
        Path, typer.Option(help="the national home; province homes are <home>/provinces/<P>/")
    ] = DEFAULT_HOME,
    ruleset: Annotated[
        list[str], typer.Option(help="P=FILE: a typing standard instead of P's filed one (repeatable)")
    ] = [],  # noqa: B006
    inbox: Annotated[
        list[str], typer.Option(help="P=DIR: P's extracts (default <home>/provinces/<P>/inbox/<P>/<Y>/)")
    ] = [],  # noqa: B006
    dask_address: Annotated[
        str | None,
        typer.Option(help="an existing Dask scheduler (default: GETIHU_DASK_ADDRESS, else a temporary local cluster)"),
    ] = None,
    workers: Annotated[int, typer.Option(help="workers of the temporary local cluster")] = 2,
) -> None:
    """Every province's ordinary cycle as a task of one Prefect flow on Dask, then the assembly."""
    from flows.errors import PipelineStop
    from flows.secret import secret_from_environment

    codes = [p.strip() for p in provinces.split(",") if p.strip()]
    if not codes or not all(len(p) == 2 and p.isdigit() for p in codes):
        typer.echo(f"getihu national run: --provinces {provinces!r}: expected two-digit codes, e.g. 23,41", err=True)
        raise typer.Exit(EXIT_INPUT)
    rulesets, inboxes = _pairs(ruleset, "--ruleset"), _pairs(inbox, "--inbox")
    try:
        secret_from_environment()  # refuse before starting a cluster, as `getihu run` does
    except PipelineStop as e:
        typer.echo(f"getihu national run: {e}", err=True)
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
            f"getihu national run: {len(failed)} 个省份的周期失败：{', '.join(r['province'] for r in failed)}", err=True
        )
        raise typer.Exit(EXIT_FAILED)


def _start_prefect_server() -> None:
    """One temporary API for the flow and every local worker (a worker left alone would start a server of its own).

    It stops at exit, after Prefect's own exit handlers (registered later, so run earlier) have sent the last logs:
    stopped any sooner, they retry against a closed port for a minute.
    """
    import atexit

    from prefect.server.api.server import SubprocessASGIServer

    typer.echo("Starting a temporary Prefect server (about 20 s; set PREFECT_API_URL to use a running one).")
    server = SubprocessASGIServer()
    server.start(timeout=int(os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"]))
    atexit.register(server.stop)
    os.environ["PREFECT_API_URL"] = server.api_url


@national_app.command()
def serve(
    home: Annotated[Path, typer.Option(help="the national home the assembly runs against")] = DEFAULT_HOME,
) -> None:
    """Serve the national assembly's deployment (16 August, 02:00 Asia/Shanghai) until stopped."""
    if not os.environ.get("PREFECT_API_URL"):
        typer.echo("getihu national serve: PREFECT_API_URL is not set; start a Prefect server first.", err=True)
        raise typer.Exit(EXIT_INPUT)
    from prefect import serve as prefect_serve

    from flows.national.deploy import assembly_deployment

    prefect_serve(assembly_deployment(home.resolve()))
