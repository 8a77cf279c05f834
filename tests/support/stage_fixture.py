"""Small files between stages (docs/architecture.md, "Files between stages") for publish, built inline.

``write_cycle`` writes what ingest, validate, link, features and type would have written for a cycle
of a handful of businesses, so publish, the warehouse, the report and ``getihu query`` can be tested
without the stages that are built elsewhere. Also used by ``tools/report_screenshot.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

import polars as pl

from flows.home import Cycle
from schemas.codes import uscc_check_char
from schemas.sources import SOURCES
from schemas.vocabulary import TAX_ROWS
from schemas.work_files import LINKAGE_SCHEMA, QUARANTINE_SCHEMA

SECRET = b"test-secret"
RULESET_ID = "HA"
RULESET_VERSION = "2025.1"


def uscc(region: str, n: int) -> str:
    body = f"92{region}MA{n:07d}"
    return body + uscc_check_char(body)


@dataclass(frozen=True)
class Business:
    """One business of the fixture and everything the stages would know about it."""

    n: int
    region: str
    industry: str
    business_type: str
    reasons: tuple[str, ...] = ()
    name: str | None = None
    has_uscc: bool = True
    tax_paid: Decimal = Decimal("0.00")
    years: int = 3
    trademarks: int = 0

    @property
    def uscc(self) -> str | None:
        return uscc(self.region, self.n) if self.has_uscc else None

    @property
    def reg_no(self) -> str | None:
        return f"{self.region}600{self.n:06d}"

    @property
    def key(self) -> str:
        return self.uscc or self.reg_no

    @property
    def criteria_failed(self) -> tuple[str, ...]:
        return self.reasons if self.business_type == "不符合分型条件" else ()

    @property
    def conditions_met(self) -> tuple[str, ...]:
        return () if self.business_type == "不符合分型条件" else self.reasons


def default_businesses() -> list[Business]:
    """Two dozen businesses over four counties of Henan, eight industry sections and every type."""
    regions = ["410102", "410105", "410181", "410302"]
    industries = ["F5211", "H6210", "6210", "E4710", "O8010", "A0511", "C1391", "I6420"]
    kinds = [
        ("发展型", ("发展A", "成长D")),
        ("成长型", ("成长A",)),
        ("生存型", ()),
        ("生存型", ()),
        ("不符合分型条件", ("ABNORMAL",)),
        ("成长型", ("成长B", "成长C")),
        ("不符合分型条件", ("ANNUAL_REPORT", "ABNORMAL")),
        ("发展型", ("发展D",)),
    ]
    businesses = []
    for n in range(1, 25):
        business_type, reasons = kinds[n % len(kinds)]
        businesses.append(
            Business(
                n=n,
                region=regions[n % len(regions)],
                industry=industries[n % len(industries)],
                business_type=business_type,
                reasons=reasons,
                name=None if n % 7 == 0 else f"郑州市{'金水区,' if n == 5 else ''}小店{n:02d}号",
                has_uscc=n % 11 != 0,
                tax_paid=Decimal(n * 1250) / 4,
                years=n % 12,
                trademarks=1 if n % 8 == 3 else 0,
            )
        )
    return businesses


@dataclass(frozen=True)
class Fixture:
    """A cycle's files between stages, before they are written."""

    province: str = "41"
    as_of: dt.date = dt.date(2025, 7, 31)
    businesses: list[Business] = field(default_factory=default_businesses)
    started_at: str = "2025-08-01T02:00:00+08:00"
    not_yet_established: int = 0  # businesses established after D: counted by the features stage, not typed

    def with_types(self, changes: dict[int, tuple[str, tuple[str, ...]]]) -> Fixture:
        """The same businesses, those numbered in ``changes`` with another type and reasons."""
        return replace(
            self,
            businesses=[
                replace(b, business_type=changes[b.n][0], reasons=changes[b.n][1]) if b.n in changes else b
                for b in self.businesses
            ],
        )


def directory_frame(fixture: Fixture, cycle_id: str) -> pl.DataFrame:
    codes = pl.List(pl.String)
    return pl.DataFrame(
        {
            "business_key": [b.key for b in fixture.businesses],
            "uscc": [b.uscc for b in fixture.businesses],
            "reg_no": [b.reg_no for b in fixture.businesses],
            "name": [b.name for b in fixture.businesses],
            "region_code": [b.region for b in fixture.businesses],
            "industry_code": [b.industry for b in fixture.businesses],
            "business_type": [b.business_type for b in fixture.businesses],
            "reasons": [list(b.reasons) for b in fixture.businesses],
            "conditions_met": [list(b.conditions_met) for b in fixture.businesses],
            "criteria_failed": [list(b.criteria_failed) for b in fixture.businesses],
            "ruleset_id": RULESET_ID,
            "ruleset_version": RULESET_VERSION,
            "as_of": fixture.as_of,
            "cycle_id": cycle_id,
        },
        schema_overrides={"reasons": codes, "conditions_met": codes, "criteria_failed": codes},
    )


def features_frame(fixture: Fixture) -> pl.DataFrame:
    bs = fixture.businesses
    money = pl.Decimal(18, 2)
    return pl.DataFrame(
        {
            "business_key": [b.key for b in bs],
            "years_established": [b.years for b in bs],
            "status_active": [True for _ in bs],
            "annual_report_filed": ["ANNUAL_REPORT" not in b.reasons and "UNMATCHABLE" not in b.reasons for b in bs],
            "unmatchable": ["UNMATCHABLE" in b.reasons for b in bs],
            "on_abnormal_list": ["ABNORMAL" in b.reasons for b in bs],
            "on_serious_list": [False for _ in bs],
            "tax_abnormal": [False for _ in bs],
            "suspended": [False for _ in bs],
            "seasonal": [b.n % 5 == 0 for b in bs],
            "tax_paid_prev_year": [b.tax_paid for b in bs],
            "general_taxpayer": [b.business_type == "发展型" for b in bs],
            "insured_incl_operator": [b.n % 4 for b in bs],
            "insured_excl_operator": [max(b.n % 4 - 1, 0) for b in bs],
            "employees_prev_year": [None if "ANNUAL_REPORT" in b.reasons else b.n % 3 for b in bs],
            "sales_prev_year": [None if "ANNUAL_REPORT" in b.reasons else Decimal(b.n * 25_000) for b in bs],
            "valid_trademarks": [b.trademarks for b in bs],
            "valid_patents": [0 for _ in bs],
        },
        schema_overrides={
            "years_established": pl.Int32,
            "tax_paid_prev_year": money,
            "insured_incl_operator": pl.Int32,
            "insured_excl_operator": pl.Int32,
            "employees_prev_year": pl.Int32,
            "sales_prev_year": money,
            "valid_trademarks": pl.Int32,
            "valid_patents": pl.Int32,
        },
    )


def linkage_frame(fixture: Fixture) -> pl.DataFrame:
    keys = [b.key for b in fixture.businesses]
    rows = [
        ("trademark", "TM30000001", keys[2], "uscc", "linked", []),
        ("trademark", "TM30000002", keys[9], "operator_id", "linked", []),
        ("trademark", "TM30000002", keys[10], "operator_id", "linked", []),
        ("trademark", "TM30000003", keys[4], "name", "linked", []),
        ("trademark", "TM30000004", None, None, "unlinked", []),
        ("patent", "2024100000011", keys[5], "name", "linked", []),
        ("patent", "2024100000022", None, None, "ambiguous", [keys[6], keys[7]]),
        ("taxpayer", keys[1], keys[1], "uscc", "linked", []),
        ("taxpayer", "k:5f2b9c0e4d7a81f36b2c9e0d4a7f1b3c", keys[3], "operator_id", "linked", []),
        ("taxpayer", "k:0a1b2c3d4e5f60718293a4b5c6d7e8f9", None, None, "unlinked", []),
    ]
    frame = pl.DataFrame(
        rows,
        schema={
            "source": pl.String,
            "record": pl.String,
            "business_key": pl.String,
            "route": pl.String,
            "status": pl.String,
            "candidates": pl.List(pl.String),
        },
        orient="row",
    )
    # the columns the link stage adds (schemas.work_files.LINKAGE_SCHEMA), so publish sees the file's real shape
    tax = pl.col("source") == "taxpayer"
    return frame.with_columns(
        holder_no=pl.lit(1, pl.Int16),
        detail=pl.when(pl.col("status") == "unlinked")
        .then(pl.lit("no_name_match"))
        .when(pl.col("status") == "ambiguous")
        .then(pl.lit("several_businesses_named")),
        **{rows: pl.when(tax).then(pl.lit(n, pl.Int64)) for rows, n in zip(TAX_ROWS, (1, 0, 4), strict=True)},
    ).select(LINKAGE_SCHEMA.names())


QUARANTINE_ROWS = [
    ("tax_payment", "tax_payment_2024_03.csv", 17, "实缴金额（元）", "12,3O0", "money_format"),
    ("registration", "registration.csv", 9, "统一社会信用代码", "92410105MA0000009Q", "uscc_check"),
    (
        "social_security",
        "social_security_2024_01.csv",
        4,
        "个人身份证件号码",
        "410105**********2X",
        "resident_id_check",
    ),
    ("registration", "registration.csv", 5, "成立日期", "2025-13-01", "date_format"),
]


def quarantine_frame() -> pl.DataFrame:
    return pl.DataFrame(QUARANTINE_ROWS, schema=QUARANTINE_SCHEMA, orient="row")


def inputs_record(fixture: Fixture) -> dict:
    """``inputs.json``: every source, penalty and patent missing, the others with one or two files."""
    quarantined = pl.DataFrame(QUARANTINE_ROWS, orient="row", schema=["source", "file", "l", "c", "v", "r"])
    sources = []
    for i, name in enumerate(SOURCES):
        if name in ("penalty", "patent"):
            sources.append(
                {
                    "source": name,
                    "status": "missing",
                    "rows": 0,
                    "accepted": 0,
                    "quarantined": 0,
                    "duplicates_collapsed": 0,
                    "files": [],
                }
            )
            continue
        parts = [f"{name}_2024_01.csv", f"{name}_2024_03.csv"] if name in ("tax_payment",) else [f"{name}.csv"]
        if name == "social_security":
            parts = ["social_security_2024_01.csv"]
        files = []
        duplicates = 2 if name == "annual_report" else 0  # one file: its identical copies collapsed
        for part in parts:
            bad = quarantined.filter(pl.col("file") == part).height
            accepted = len(fixture.businesses) if name == "registration" else 10 * (i + 1)
            files.append(
                {
                    "file": part,
                    "sha256": hashlib.sha256(f"{fixture.as_of}/{part}".encode()).hexdigest(),
                    "format": "csv",
                    "encoding": "gb18030" if name.startswith("tax") else "utf-8",
                    "rows": accepted + bad + duplicates,
                    "accepted": accepted,
                    "quarantined": bad,
                    "duplicates_collapsed": duplicates,
                }
            )
        sources.append(
            {
                "source": name,
                "status": "loaded",
                "rows": sum(f["rows"] for f in files),
                "accepted": sum(f["accepted"] for f in files),
                "quarantined": sum(f["quarantined"] for f in files),
                "duplicates_collapsed": duplicates,
                "files": files,
            }
        )
    return {"sources": sources}


def run_record(fixture: Fixture, cycle_id: str) -> dict:
    stages = [
        ("ingest", 3.4, {"registration": len(fixture.businesses)}),
        ("validate", 1.9, {"registration": len(fixture.businesses)}),
        ("link", 0.6, {"linkage": 10}),
        (
            "features",
            1.2,
            {
                "businesses": len(fixture.businesses),
                "not_yet_established": fixture.not_yet_established,
                "unmatchable": sum("UNMATCHABLE" in b.reasons for b in fixture.businesses),
            },
        ),
        ("type", 0.4, {"businesses": len(fixture.businesses)}),
    ]
    return {
        "cycle_id": cycle_id,
        "province": fixture.province,
        "as_of": fixture.as_of.isoformat(),
        "started_at": fixture.started_at,
        "finished_at": None,
        "stages": [{"stage": s, "seconds": sec, "rows": rows} for s, sec, rows in stages],
    }


def write_ruleset(home: Path, province: str = "41") -> Path:
    path = home / "rulesets" / f"{province}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'id = "{RULESET_ID}"\nversion = "{RULESET_VERSION}"\n', encoding="utf-8")
    return path


def write_cycle(home: Path, fixture: Fixture | None = None) -> Cycle:
    """Write a cycle's files between stages under ``home`` and return the cycle publish is called with."""
    fixture = fixture or Fixture()
    cycle = Cycle(province=fixture.province, as_of=fixture.as_of, home=home, secret=SECRET, ruleset=write_ruleset(home))
    work = cycle.work_dir
    work.mkdir(parents=True, exist_ok=True)
    directory_frame(fixture, cycle.cycle_id).write_parquet(work / "directory.parquet")
    features_frame(fixture).write_parquet(work / "features.parquet")
    linkage_frame(fixture).write_parquet(work / "linkage.parquet")
    quarantine_frame().write_parquet(work / "quarantine.parquet")
    (work / "inputs.json").write_text(json.dumps(inputs_record(fixture), ensure_ascii=False), encoding="utf-8")
    (work / "run.json").write_text(json.dumps(run_record(fixture, cycle.cycle_id)), encoding="utf-8")
    return cycle
