"""What every stage of a cycle is told: which province, which as-of date, where things live."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from flows.errors import ConfigurationError
from schemas.terms import DRAFT, cycle_kind, report_year, yearly_as_of

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
            f"--year {year} 与 --as-of {as_of:%Y-%m-%d} 不一致：周期年度就是判定日期所在的年份（其报告年度为 "
            f"{report_year(as_of)} 年）。请只给其中一个，或给出一致的两个。"
        )
    return as_of


#: A draft cycle's id ends in this, and its folder and warehouse live in ``<home>/drafts/``: it can never replace
#: or be taken for the official cycle (outputs.md: "a run under a ruleset other than the province's filed one is a
#: draft, never published as either").
DRAFT_SUFFIX = "-draft"
DRAFTS = "drafts"


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
    draft: bool = False  # a trial under a ruleset other than the filed one: published under <home>/drafts/ only

    @property
    def year(self) -> int:
        return self.as_of.year

    @property
    def report_year(self) -> int:
        """``R``, the year every "上一年度" means (rules.md, Terms): Y-1 from 30 June, Y-2 before."""
        return report_year(self.as_of)

    @property
    def cycle_kind(self) -> str:
        """``yearly`` on 31 July, ``extra`` on any other as-of date (outputs.md, manifest); ``draft`` for a draft,
        which is never published as either (outputs.md v2)."""
        return DRAFT if self.draft else cycle_kind(self.as_of)

    @property
    def cycle_id(self) -> str:
        return f"{self.province}-{self.as_of:%Y%m%d}" + (DRAFT_SUFFIX if self.draft else "")

    @property
    def published_home(self) -> Path:
        """Where the cycle folder and the warehouse go: the home, or for a draft its own ``<home>/drafts/``."""
        return self.home / DRAFTS if self.draft else self.home

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
        return self.published_home / "out" / self.province / self.cycle_id

    @property
    def warehouse(self) -> Path:
        return warehouse_path(self.published_home)


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
    draft: bool = False,
) -> Cycle:
    """The cycle ``getihu run`` and the flow's parameters describe.

    A ruleset file other than the province's filed one (different bytes) makes a draft, and only with ``draft``:
    without it the run is refused, so a trial can never replace the official cycle nor claim the filed version.
    A province whose standard is not filed in this repository (``data/rulesets/`` holds 23 and 41) types under the
    file it is given: that is its own filed standard (national.md: each province types under its own), not a draft.
    """
    check_province(province)
    if quarantine_threshold is not None and not 0.0 <= quarantine_threshold <= 1.0:
        raise ConfigurationError(
            f"--quarantine-threshold {quarantine_threshold}：应为 0 到 1 之间的比例（默认 0.05，即 5%）"
        )
    if "?" in str(home.resolve()):  # DuckDB reads what follows a ? in a database path as options
        raise ConfigurationError(
            f"--home {home}: the path holds a “?”, which the warehouse database cannot be opened under; "
            "expected a folder whose path has no “?” (rename it, or choose another --home)"
        )
    if quarantine_minimum is not None and quarantine_minimum < 0:
        raise ConfigurationError(f"--quarantine-minimum {quarantine_minimum}：应为 0 或更大的整数（行数，默认 20）")
    if (
        ruleset is not None
        and not draft
        and has_filed_ruleset(province)
        and not is_filed_ruleset(province, Path(ruleset))
    ):
        raise ConfigurationError(
            f"--ruleset {ruleset}：不是本省已备案的分型标准（data/rulesets/{province}.toml），用它运行只能是草稿。"
            "请加 --draft：草稿周期编号以 -draft 结尾，结果写入 <home>/drafts/（单独的数据仓库），"
            "不会替换正式周期，也不会报送。"
        )
    if ruleset is not None and draft:
        check_draft_name(province, Path(ruleset))
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
        draft=draft,
    )


def check_province(province: str) -> None:
    """Refuse anything but a two-digit province code, naming the code when a province name was given."""
    if len(province) == 2 and province.isascii() and province.isdigit():  # isdigit alone takes "４１"
        return
    from reference import province_code_of

    code = province_code_of(province)
    hint = f"“{province}”的代码是 {code}，请写 --province {code}" if code else "例如 41（河南）或 23（黑龙江）"
    raise ConfigurationError(f"--province {province}：应为两位数字的省级行政区划代码，{hint}。")


def check_draft_name(province: str, path: Path) -> None:
    """A draft's 分型标准 must not claim the filed standard's id and version while its rules differ."""
    from reference import ruleset_file, ruleset_for

    if is_filed_ruleset(province, path) or not ruleset_file(province).is_file():
        return
    draft, filed = ruleset_for(province, path), ruleset_for(province)
    if draft.name == filed.name:
        year, revision = filed.version.split(".")
        raise ConfigurationError(
            f"--ruleset {path}：草稿标准的编号和版本与已备案标准相同（{filed.name}），但内容不同；草稿的分型标准"
            "不能冒用已备案的版本。请把草稿文件的 version 改为未备案的修订号"
            f'（如 version = "{year}.{int(revision) + 1}"）。'
        )


def has_filed_ruleset(province: str) -> bool:
    """This repository holds the province's filed standard (``data/rulesets/<P>.toml``)."""
    from reference import ruleset_file

    return ruleset_file(province).is_file()


def is_filed_ruleset(province: str, path: Path) -> bool:
    """``path`` holds the same bytes as the province's filed ruleset (``data/rulesets/<P>.toml``)."""
    from reference import ruleset_file

    filed = ruleset_file(province)
    try:
        return filed.is_file() and path.read_bytes() == filed.read_bytes()
    except OSError:
        return False  # an unreadable file is reported by the ruleset loader
