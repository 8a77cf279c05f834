"""What every stage of a cycle is told: which province, which as-of date, where things live."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from flows.errors import ConfigurationError
from schemas.terms import cycle_kind, report_year, yearly_as_of

CHINA_TIME = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")  # no daylight saving: a fixed offset is exact


#: The repository: a key file inside it could be committed.
REPOSITORY = Path(__file__).resolve().parent.parent


#: A source stops the run when its quarantined share exceeds the threshold AND it has more quarantined rows than
#: the minimum (extracts.md v2, "Bad input"); both per source in inbox.toml, both on the command line.
DEFAULT_QUARANTINE_THRESHOLD = 0.05
DEFAULT_QUARANTINE_MINIMUM = 20


def default_as_of(year: int) -> dt.date:
    """The yearly cycle's judgment date: 31 July, after the annual-report period (rules.md, Terms)."""
    return yearly_as_of(year)


def now_in_china() -> dt.datetime:
    return dt.datetime.now(CHINA_TIME).replace(microsecond=0)


def cycle_as_of(as_of: dt.date | None, year: int | None, today: dt.date) -> dt.date:
    """``--as-of`` defaults to 31 July of ``--year``, and ``--year`` to the as-of year (or this year)."""
    if as_of is None:
        return default_as_of(year if year is not None else today.year)
    if year is not None and year != as_of.year:
        raise ConfigurationError(
            f"--year {year} and --as-of {as_of:%Y-%m-%d} disagree: a cycle's year is the year of its as-of date "
            f"(its report year, 报告年度, is {report_year(as_of)}). Give one of them, or both agreeing."
        )
    return as_of


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
    #: --quarantine-threshold / --quarantine-minimum: when given, for every source (over inbox.toml's per-source
    #: values); None: inbox.toml's value for the source, else the default.
    quarantine_threshold: float | None = None
    quarantine_minimum: int | None = None

    @property
    def year(self) -> int:
        return self.as_of.year

    @property
    def report_year(self) -> int:
        """``R``, the year every "上一年度" means (rules.md, Terms): Y-1 from 30 June, Y-2 before."""
        return report_year(self.as_of)

    @property
    def cycle_kind(self) -> str:
        """``yearly`` on 31 July, ``extra`` on any other as-of date (outputs.md, manifest)."""
        return cycle_kind(self.as_of)

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


def cycle_for(
    province: str,
    as_of: dt.date | None,
    year: int | None,
    home: Path,
    inbox: str | Path | None,
    ruleset: str | Path | None,
    secret: bytes,
    quarantine_threshold: float | None = None,
    quarantine_minimum: int | None = None,
) -> Cycle:
    """The cycle ``getihu run`` and the flow's parameters describe."""
    if not (len(province) == 2 and province.isascii() and province.isdigit()):  # isdigit alone takes "４１"
        raise ConfigurationError(f"--province {province!r}: expected the two-digit province code, e.g. 41 or 23")
    if quarantine_threshold is not None and not 0.0 <= quarantine_threshold <= 1.0:
        raise ConfigurationError(
            f"--quarantine-threshold {quarantine_threshold}: expected a share from 0 to 1 (default 0.05 = 5%)"
        )
    if "?" in str(home.resolve()):  # DuckDB reads what follows a ? in a database path as options
        raise ConfigurationError(
            f"--home {home}: the path holds a “?”, which the warehouse database cannot be opened under; "
            "expected a folder whose path has no “?” (rename it, or choose another --home)"
        )
    if quarantine_minimum is not None and quarantine_minimum < 0:
        raise ConfigurationError(
            f"--quarantine-minimum {quarantine_minimum}: expected a whole number of rows, 0 or more (default 20)"
        )
    today = now_in_china().date()
    return Cycle(
        province=province,
        as_of=cycle_as_of(as_of, year, today),
        home=home,
        secret=secret,
        inbox=Path(inbox) if inbox is not None else None,
        ruleset=Path(ruleset) if ruleset is not None else None,
        quarantine_threshold=quarantine_threshold,
        quarantine_minimum=quarantine_minimum,
    )
