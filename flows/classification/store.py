"""The register between steps: ``<home>/work/<P>/mtyx/``, one snapshot after each step.

Steps are ordered (year, review = 1, round = 2): the review of ``Y`` (after the typing cycle of 31 July) comes
before the round of ``Y`` (from 16 August). A step reads the latest snapshot before it and writes its own, so
running a step again gives the same result. Each snapshot holds the whole register (recognitions in their state
after the step, every event so far) and, for a round, its applications. Written aside, then renamed.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from transforms.classification.frames import EVENT_SCHEMA, RECOGNITION_SCHEMA

STEPS = {"review": 1, "round": 2}
_NAME = re.compile(r"^(?P<year>\d{4})-(?P<order>[12])-(?P<kind>recognitions|events|applications)\.parquet$")


def store_dir(home: Path, province: str) -> Path:
    return home / "work" / province / "mtyx"


def _write(frame: pl.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.writing")
    frame.write_parquet(aside)
    aside.replace(path)


def previous_state(home: Path, province: str, year: int, step: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The register (recognitions, events) as the latest step before (``year``, ``step``) left it."""
    here = (year, STEPS[step])
    folder = store_dir(home, province)
    snapshots = sorted(
        (int(m["year"]), int(m["order"]))
        for p in (folder.glob("*-recognitions.parquet") if folder.exists() else [])
        if (m := _NAME.match(p.name))
    )
    before = [s for s in snapshots if s < here]
    if not before:
        return pl.DataFrame(schema=RECOGNITION_SCHEMA), pl.DataFrame(schema=EVENT_SCHEMA)
    y, o = before[-1]
    return (
        pl.read_parquet(folder / f"{y}-{o}-recognitions.parquet"),
        pl.read_parquet(folder / f"{y}-{o}-events.parquet"),
    )


def save_state(
    home: Path,
    province: str,
    year: int,
    step: str,
    recognitions: pl.DataFrame,
    events: pl.DataFrame,
    applications: pl.DataFrame | None = None,
) -> None:
    folder = store_dir(home, province)
    order = STEPS[step]
    if applications is not None:
        _write(applications, folder / f"{year}-{order}-applications.parquet")
    _write(events, folder / f"{year}-{order}-events.parquet")
    _write(recognitions, folder / f"{year}-{order}-recognitions.parquet")  # last: it marks the snapshot whole


def all_applications(home: Path, province: str) -> pl.DataFrame | None:
    folder = store_dir(home, province)
    paths = sorted(folder.glob("*-applications.parquet")) if folder.exists() else []
    return pl.concat([pl.read_parquet(p) for p in paths], how="diagonal_relaxed") if paths else None
