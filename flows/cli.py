"""The ``getihu`` command: one sub-command per entry of ../shared/spec/outputs.md."""

from __future__ import annotations

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
    # a callback keeps sub-commands named (``getihu query ...``) even while only one is defined
    pass


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
