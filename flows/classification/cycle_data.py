"""What classification reads from the province's yearly typing cycle of ``Y`` (its staging under ``work/``).

The round and the review need, per business: the type (``directory.parquet``), the operator's key and the
industry (``accepted/registration.parquet``), the features (``features.parquet``) and the annual report's
是否有网站或网店 for ``Y-1`` (``accepted/annual_report.parquet``); and the accepted penalties.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from schemas.classification import DEVELOPMENT_TYPES


class CycleMissing(Exception):
    """The typing cycle the classification step needs has not been run."""


def cycle_dir(home: Path, province: str, year: int) -> Path:
    """The typing cycle of ``year`` as of 31 July (the yearly cycle)."""
    return home / "work" / province / f"{province}-{dt.date(year, 7, 31):%Y%m%d}"


@dataclass(frozen=True)
class CycleData:
    year: int
    businesses: pl.LazyFrame  # one row per business with a USCC: uscc, name, region_code, business_type, ...
    penalty_rows: pl.LazyFrame  # accepted penalty rows
    typed_counts: dict[str, int]  # 成长型 + 发展型 per county

    def selected(self, usccs: set[str]) -> pl.DataFrame:
        """The businesses of ``usccs`` (applicants, holders): only their rows are read into memory."""
        return self.businesses.filter(pl.col("uscc").is_in(sorted(usccs))).collect()

    def penalties(self, usccs: set[str]) -> pl.DataFrame:
        return self.penalty_rows.filter(pl.col("uscc").is_in(sorted(usccs))).collect()

    def names(self, usccs: set[str]) -> pl.DataFrame:
        return self.businesses.select("uscc", "name").filter(pl.col("uscc").is_in(sorted(usccs))).collect()


_PENALTY_COLUMNS = ("uscc", "decided_on", "penalty_kind", "repaired_on", "decision_no")


def _scan(folder: Path, source: str) -> pl.LazyFrame | None:
    path = folder / "accepted" / f"{source}.parquet"
    return pl.scan_parquet(path) if path.exists() else None


def load_cycle(home: Path, province: str, year: int) -> CycleData:
    """The cycle of ``year``, scanned: a million businesses are read only for the few rows a step needs."""
    folder = cycle_dir(home, province, year)
    directory_path = folder / "directory.parquet"
    if not directory_path.exists():
        raise CycleMissing(
            f"{folder}: 没有 {year} 年度的分型结果（directory.parquet）。请先运行 "
            f"`getihu run --province {province} --year {year}`，名特优新认定以当年集中分型判定结果为基础。"
        )
    directory = (
        pl.scan_parquet(directory_path)
        .select("business_key", "uscc", "name", "region_code", "industry_code", "business_type")
        .filter(pl.col("uscc").is_not_null())
    )
    features = pl.scan_parquet(folder / "features.parquet")
    features = features.drop([c for c in ("cycle_id", "as_of", "province") if c in features.collect_schema()])
    registration = _scan(folder, "registration")
    operators = (
        registration.select("business_key", "operator_key").unique("business_key", keep="first")
        if registration is not None
        else pl.LazyFrame(schema={"business_key": pl.String, "operator_key": pl.String})
    )
    reports = _scan(folder, "annual_report")
    website = (
        reports.filter(pl.col("report_year") == year - 1).group_by("uscc").agg(pl.col("has_website").any())
        if reports is not None and "has_website" in reports.collect_schema()
        else pl.LazyFrame(schema={"uscc": pl.String, "has_website": pl.Boolean})
    )
    businesses = (
        directory.join(operators, on="business_key", how="left")
        .join(features, on="business_key", how="left")
        .join(website, on="uscc", how="left")
    )
    penalties = _scan(folder, "penalty")
    penalty_rows = (
        penalties.select(_PENALTY_COLUMNS)
        if penalties is not None
        else pl.LazyFrame(schema={"uscc": pl.String, "decided_on": pl.Date, "penalty_kind": pl.String,
                                  "repaired_on": pl.Date, "decision_no": pl.String})
    )  # fmt: skip
    counts = (
        directory.filter(pl.col("business_type").is_in(DEVELOPMENT_TYPES))
        .group_by("region_code")
        .agg(pl.len())
        .collect()
    )
    return CycleData(year, businesses.sort("uscc"), penalty_rows, dict(counts.iter_rows()))
