"""``getihu classify``: the 名特优新 round of a year, and ``getihu classify review``: the register's yearly review."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

classify_app = typer.Typer(
    name="classify",
    help="名特优新: the yearly round (getihu classify --province P --year Y) and the register's review.",
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_INPUT, EXIT_BUSY = 2, 3

Province = Annotated[str | None, typer.Option(help="two-digit province code, e.g. 41 or 23")]
Year = Annotated[int | None, typer.Option(help="the year Y: its yearly typing cycle must have run")]
Home = Annotated[Path, typer.Option(help="holds the warehouse, the outputs and the working files")]
Inbox = Annotated[Path | None, typer.Option(help="the cycle inbox; classification files in its classification/")]
Standards = Annotated[
    Path | None, typer.Option(help="folder of classification standards (default data/classification/)")
]
Day = Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="the step's date (see the default)")]


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
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="recognition date (default 30 November of Y)")
    ] = None,
) -> None:
    """The round of Y: every application one outcome (拟认定, or 认定 once review.csv is delivered)."""
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
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="review date (default 31 July of Y)")
    ] = None,
) -> None:
    """The register's yearly review of Y: cancellations, operator changes, extensions, expiry, revocations."""
    from flows.classification.commands import run_review

    _run(run_review, province, year, home, inbox, review_on, standards)


@classify_app.command("generate")
def generate_inbox(
    province: Annotated[str, typer.Option(help="two-digit province code of the generated province")],
    year: Annotated[int, typer.Option(help="the year of the generated cycle inbox")],
    inbox: Annotated[Path, typer.Option(help="the generated cycle inbox (getihu generate --out)")],
    seed: Annotated[int, typer.Option(help="same seed and inputs: the same files")] = 0,
    home: Annotated[
        Path | None, typer.Option(help="a home whose register (earlier rounds) the later years' files follow")
    ] = None,
) -> None:
    """Write a classification inbox (<inbox>/classification/) for a generated province, truth beside it.

    Run it after `getihu generate` and before `getihu run`: it adds planted penalties and second businesses of
    applicants' operators to the cycle inbox too.
    """
    from flows.classification.store import previous_state
    from synth.classification import write_classification

    register = previous_state(home, province, year, "review")[0] if home is not None else None
    truth = write_classification(inbox, province, year, seed, register)
    typer.echo(f"wrote {inbox / 'classification'}/; planted cases in {truth}/cases.csv")
