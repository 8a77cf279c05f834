"""The ``getihu`` command: one sub-command per entry of ../shared/spec/outputs.md."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="getihu",
    help="个体工商户分型: generate a synthetic province, run a province's yearly typing cycle, look up a business.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def main() -> None:
    app()
