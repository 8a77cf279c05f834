"""The committed reference data in ``data/``: region and industry code lists, rulesets."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl

from schemas.ruleset import Ruleset, RulesetError, parse_ruleset_text

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


def filed_rulesets() -> dict[str, Path]:
    """Province code → its typing standard in ``data/rulesets/``."""
    return {path.stem: path for path in sorted(RULESETS_DIR.glob("*.toml"))}


def load_ruleset(path: Path) -> Ruleset:
    """The ruleset in ``path``, validated (``schemas.ruleset``); every problem is a ``RulesetError``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesetError(f"{path}: no such ruleset file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise RulesetError(f"{path}: cannot be read as UTF-8 text ({error})") from None
    return parse_ruleset_text(text, str(path))


def ruleset_file(province: str, override: Path | None = None) -> Path:
    """The typing standard's file for ``province``: ``override`` (``--ruleset FILE``) or the filed one."""
    return override if override is not None else RULESETS_DIR / f"{province}.toml"


def ruleset_for(province: str, override: Path | None = None) -> Ruleset:
    """The typing standard a cycle of ``province`` applies, validated."""
    path = ruleset_file(province, override)
    if override is None and not path.is_file():
        listing = ", ".join(filed_rulesets()) or "none"
        raise RulesetError(
            f"No typing standard (分型标准) is filed for province {province}: {path} "
            f"does not exist (filed for: {listing}). To file one, write data/rulesets/{province}.toml after the model "
            "of data/rulesets/41.toml — id (ISO 3166-2 letters), version, province, the document it implements, the "
            "requirement of the higher types and one [[conditions]] per condition of the province's standard, each "
            "with its code, type, label, feature and thresholds (schema: schemas/ruleset.py) — or run with "
            "--ruleset FILE."
        )
    ruleset = load_ruleset(path)
    if ruleset.province != province:
        raise RulesetError(
            f"{path}: this ruleset is province {ruleset.province}'s ({ruleset.name}), but the cycle is province "
            f"{province}; a province's businesses are typed by its own standard"
        )
    return ruleset
