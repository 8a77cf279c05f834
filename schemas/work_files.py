"""The files between stages that publish reads (docs/architecture.md, "Files between stages"), as pandera schemas.

Publish is the last gate before a file leaves for the national directory, so it checks values, not only
names and types: a business type outside the four, a duplicated business or an unknown quarantine rule
stops the run with a message instead of being sent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandera.polars as pa
import polars as pl

from schemas.sources import RULES, SOURCES
from schemas.vocabulary import BUSINESS_TYPES, LINK_ROUTES, LINK_STATUSES, LINKED_SOURCES, TAX_ROWS, ruleset_name

#: Headers (and their aliases) of the personal columns: a quarantined value under one of them must arrive masked.
PERSONAL_HEADERS = sorted(
    {h for source in SOURCES.values() for c in source.columns if c.personal for h in (c.header, *c.aliases)}
)


_CODE_LIST = pl.List(pl.String)

DIRECTORY = pa.DataFrameSchema(
    {
        "business_key": pa.Column(pl.String, unique=True, description="USCC, or 注册号 without a USCC"),
        "uscc": pa.Column(pl.String, nullable=True, description="统一社会信用代码"),
        "reg_no": pa.Column(pl.String, nullable=True, description="注册号"),
        "name": pa.Column(pl.String, nullable=True, description="名称"),
        "region_code": pa.Column(pl.String, pa.Check.str_matches(r"^\d{6}$"), description="行政区划代码"),
        "industry_code": pa.Column(pl.String, description="行业代码, as registered"),
        "business_type": pa.Column(pl.String, pa.Check.isin(BUSINESS_TYPES), description="分型结果"),
        "reasons": pa.Column(_CODE_LIST, description="reason codes printed as 分型依据"),
        "conditions_met": pa.Column(_CODE_LIST, description="ruleset condition codes met"),
        "criteria_failed": pa.Column(_CODE_LIST, description="basic-criteria codes failed"),
        "ruleset_id": pa.Column(pl.String, description="ruleset id"),
        "ruleset_version": pa.Column(pl.String, description="ruleset version"),
        "as_of": pa.Column(pl.Date, description="判定日期"),
        "cycle_id": pa.Column(pl.String, description="<P>-<YYYYMMDD>"),
    },
    name="directory.parquet",
)

FEATURES_TABLE = pa.DataFrameSchema(
    {"business_key": pa.Column(pl.String, unique=True, description="the business")},
    name="features.parquet",
)

LINKAGE = pa.DataFrameSchema(
    {
        "source": pa.Column(pl.String, pa.Check.isin(LINKED_SOURCES), description="where the record comes from"),
        "record": pa.Column(pl.String, description="the record's key in its source (never a clear resident ID)"),
        "business_key": pa.Column(pl.String, nullable=True, description="the business reached; null unless linked"),
        "route": pa.Column(pl.String, pa.Check.isin(LINK_ROUTES), nullable=True, description="how it was reached"),
        "status": pa.Column(pl.String, pa.Check.isin(LINK_STATUSES), description="linked, unlinked or ambiguous"),
        "candidates": pa.Column(_CODE_LIST, description="business keys that matched an ambiguous record"),
    },
    name="linkage.parquet",
)

QUARANTINE = pa.DataFrameSchema(
    {
        "source": pa.Column(pl.String, pa.Check.isin(list(SOURCES)), description="source name"),
        "file": pa.Column(pl.String, description="file, relative to the inbox"),
        "line": pa.Column(pl.Int64, pa.Check.ge(1), coerce=True, description="1-based line, the header is 1"),
        "column": pa.Column(pl.String, nullable=True, description="Chinese header as delivered"),
        "value": pa.Column(pl.String, nullable=True, description="delivered text, personal values masked"),
        "rule": pa.Column(pl.String, pa.Check.isin(list(RULES)), description="a key of schemas.sources.RULES"),
    },
    checks=[
        # validate masks personal values (docs/architecture.md, "Personal data"); an ID in clear must not go on
        pa.Check(
            lambda data: data.lazyframe.select(
                # an empty value (a `required` breach) hides nothing
                (~(pl.col("column").is_in(PERSONAL_HEADERS) & pl.col("value").str.contains(r"[0-9]{15}"))).fill_null(
                    True
                )
            ),
            name="personal_values_masked",
            error="a personal ID in clear (validate must mask it: first 6 and last 2 characters)",
        )
    ],
    name="quarantine.parquet",
)


QUARANTINE_SCHEMA = {
    "source": pl.String,
    "file": pl.String,
    "line": pl.Int64,
    "column": pl.String,
    "value": pl.String,
    "rule": pl.String,
}


#: ``quarantined_businesses.parquet`` (validate → link): businesses whose registration row is quarantined (a broken
#: column or a conflicting duplicate) still exist, so linkage counts them among an operator's businesses (issue 13).
#: Keyed forms only: ``status`` is null when the delivered status broke its rule (then counted as in force).
QUARANTINED_BUSINESSES_SCHEMA = {"business_key": pl.String, "operator_key": pl.String, "status": pl.String}
#: ``episode_conflicts.parquet`` (validate): one row per listing episode (same business or taxpayer, same start
#: date) delivered in several versions with different content — all accepted, resolved against the business.
EPISODE_CONFLICTS_SCHEMA = {
    "source": pl.String,  # abnormal_list, serious_list, suspension or tax_abnormal
    "business": pl.String,  # USCC, else 注册号; tax_abnormal: taxpayer_uscc, else taxpayer_key + suffix
    "started_on": pl.Date,  # 列入日期, 歇业起始日期 or 认定日期
    "versions": pl.Int64,  # distinct versions delivered
}

#: ``accepted/annual_report_conflicts.parquet`` (validate): one row per annual-report key (business, report
#: year, 报送日期) delivered twice with different content — those rows are quarantined; the report counts as
#: filed that day with unknown figures (rules.md v2, Terms).
REPORT_CONFLICTS_SCHEMA = {"uscc": pl.String, "reg_no": pl.String, "report_year": pl.Int32, "filed_on": pl.Date}


LINKAGE_SCHEMA = pl.Schema(
    {
        "source": pl.String(),  # taxpayer (a tax identity), trademark or patent
        "record": pl.String(),  # tax identity / 注册号 / 申请号
        "business_key": pl.String(),  # null unless linked
        "route": pl.String(),  # null unless linked
        "status": pl.String(),
        "candidates": pl.List(pl.String()),  # ambiguous: every business it could be, sorted; else empty
        "holder_no": pl.Int16(),  # 1-based position among a patent's holders; 1 otherwise
        "detail": pl.String(),  # a key of DETAILS: which name route, or why not linked
        **{rows: pl.Int64() for rows in TAX_ROWS},  # tax identities: rows of each tax source; else null
    }
)


DIRECTORY_DETAILS = ("business_key", "uscc", "reg_no", "name", "region_code", "industry_code")  # from registration


DIRECTORY_COLUMNS = (
    "business_key",
    "uscc",
    "reg_no",
    "name",
    "region_code",
    "industry_code",
    "business_type",
    "reasons",
    "conditions_met",
    "criteria_failed",
    "ruleset_id",
    "ruleset_version",
    "as_of",
    "cycle_id",
)


@dataclass(frozen=True)
class RulesetUsed:
    """The typing standard a cycle was typed with, as the manifest and the warehouse name it."""

    id: str
    version: str
    sha256: str
    file: str  # the file's name, never an absolute path (outputs must not depend on where home is)

    @property
    def label(self) -> str:
        return ruleset_name(self.id, self.version)


@dataclass(frozen=True)
class InputFile:
    """One delivered file as validate recorded it in ``inputs.json``."""

    file: str
    sha256: str
    format: str
    encoding: str | None
    rows: int
    accepted: int
    quarantined: int
    duplicates_collapsed: int  # identical copies of a row collapsed into one: rows = accepted + quarantined + these


@dataclass(frozen=True)
class SourceInputs:
    """One source of ``inputs.json``: loaded from its files, or missing."""

    source: str
    status: str  # "loaded" or "missing"
    rows: int
    accepted: int
    quarantined: int
    duplicates_collapsed: int
    files: tuple[InputFile, ...]


@dataclass(frozen=True)
class StageTime:
    """One stage of ``run.json``: how long it took and the rows it wrote."""

    stage: str
    seconds: float
    rows: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"stage": self.stage, "seconds": self.seconds, "rows": self.rows}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> StageTime:
        return cls(
            stage=value["stage"], seconds=float(value["seconds"]), rows={k: int(n) for k, n in value["rows"].items()}
        )


@dataclass
class RunRecord:
    """``run.json``: when the run started and what each stage did. The cycle (``flows.stages.execute``) writes
    it with ``to_json`` before publish and again at the end; publish reads it with ``from_json``."""

    cycle_id: str
    province: str
    as_of: dt.date
    started_at: dt.datetime
    stages: list[StageTime] = field(default_factory=list)
    finished_at: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "cycle_id": self.cycle_id,
            "province": self.province,
            "as_of": self.as_of.isoformat(),
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "stages": [stage.to_json() for stage in self.stages],
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> RunRecord:
        """Raises KeyError, TypeError, ValueError or AttributeError when ``value`` is not that shape."""
        finished = value.get("finished_at")
        return cls(
            cycle_id=value["cycle_id"],
            province=value["province"],
            as_of=dt.date.fromisoformat(value["as_of"]),
            started_at=dt.datetime.fromisoformat(value["started_at"]),
            stages=[StageTime.from_json(s) for s in value["stages"]],
            finished_at=dt.datetime.fromisoformat(finished) if finished else None,
        )
