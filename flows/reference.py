"""The committed reference data in ``data/``: region and industry code lists, rulesets."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
RULESETS_DIR = DATA_DIR / "rulesets"


@cache
def regions() -> pl.DataFrame:
    """County-level 行政区划代码 with their city and province (``data/regions.csv``)."""
    return pl.read_csv(
        DATA_DIR / "regions.csv", schema_overrides={c: pl.String for c in ("region_code", "city_code", "province_code")}
    )


@cache
def industries() -> pl.DataFrame:
    """GB/T 4754-2017 divisions (大类) with their sections (门类) (``data/industries.csv``)."""
    return pl.read_csv(DATA_DIR / "industries.csv", schema_overrides={"division": pl.String})


def province_regions(province: str) -> pl.DataFrame:
    """The regions of one province (its two-digit code, e.g. ``"41"``)."""
    return regions().filter(pl.col("province_code") == province)
