"""What every stage of a cycle is told: which province, which as-of date, where things live."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

#: Share of a source's rows that may be quarantined before the run stops (extracts.md, "Bad input").
DEFAULT_QUARANTINE_THRESHOLD = 0.05


def default_as_of(year: int) -> dt.date:
    """The yearly cycle's judgment date: 31 July, after the annual-report period (rules.md, Terms)."""
    return dt.date(year, 7, 31)


def warehouse_path(home: Path) -> Path:
    """The published warehouse of a home, shared by every province's cycles."""
    return home / "warehouse.duckdb"


@dataclass(frozen=True)
class Cycle:
    """One judgment cycle of one province. Paths follow docs/architecture.md, "Home layout"."""

    province: str
    as_of: dt.date
    home: Path
    secret: bytes = field(repr=False)
    inbox: Path | None = None  # default: <home>/inbox/<P>/<Y>/
    ruleset: Path | None = None  # default: data/rulesets/<P>.toml
    quarantine_threshold: float = DEFAULT_QUARANTINE_THRESHOLD

    @property
    def year(self) -> int:
        return self.as_of.year

    @property
    def cycle_id(self) -> str:
        return f"{self.province}-{self.as_of:%Y%m%d}"

    @property
    def inbox_dir(self) -> Path:
        return self.inbox if self.inbox is not None else self.home / "inbox" / self.province / str(self.year)

    @property
    def raw_db(self) -> Path:
        """The province's raw layer, kept between runs so an unchanged file is not loaded twice."""
        return self.home / "work" / self.province / "raw.duckdb"

    @property
    def work_dir(self) -> Path:
        return self.home / "work" / self.province / self.cycle_id

    @property
    def accepted_dir(self) -> Path:
        return self.work_dir / "accepted"

    def accepted(self, source: str) -> Path:
        return self.accepted_dir / f"{source}.parquet"

    @property
    def out_dir(self) -> Path:
        return self.home / "out" / self.province / self.cycle_id

    @property
    def warehouse(self) -> Path:
        return warehouse_path(self.home)


@dataclass(frozen=True)
class StageResult:
    """What a stage reports back to the flow: what it wrote and how many rows, for the cycle record."""

    stage: str
    outputs: tuple[Path, ...]
    rows: dict[str, int]  # e.g. {"registration": 1000} or {"businesses": 1000}
