"""The committed reference data in ``data/``: region and industry code lists, rulesets."""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

import polars as pl

from schemas.measures import Inspection, Measures, MeasuresError, parse_inspection_text, parse_measures_text
from schemas.monitoring import Conversion, parse_monitoring_text
from schemas.ruleset import Ruleset, RulesetError, parse_ruleset_text

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
RULESETS_DIR = DATA_DIR / "rulesets"
MEASURES_DIR = DATA_DIR / "measures"
INSPECTION_DIR = DATA_DIR / "inspection"


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


def taxes() -> frozenset[str]:
    """The canonical 税种 that are taxes (``data/tax_kinds.csv``, ``is_tax``): only they count as tax paid
    (rules.md, Interpretation 3). Surcharges and funds the tax bureau also collects are listed as not tax."""
    return frozenset(tax_kinds().filter(pl.col("is_tax"))["tax_kind"].to_list())


def province_regions(province: str) -> pl.DataFrame:
    """The regions of one province (its two-digit code, e.g. ``"41"``)."""
    return regions().filter(pl.col("province_code") == province)


def province_code_of(name: str) -> str | None:
    """The two-digit code of a province given by name (``河南``, ``河南省``), if it is in ``data/regions.csv``."""
    name = name.strip()
    if not name:
        return None
    found = (
        regions()
        .filter(pl.col("province_name").str.starts_with(name) | (pl.col("province_name") == name))
        .get_column("province_code")
        .unique()
    )
    return found[0] if found.len() == 1 else None


def filed_rulesets() -> dict[str, Path]:
    """Province code → its typing standard in ``data/rulesets/``."""
    return {path.stem: path for path in sorted(RULESETS_DIR.glob("*.toml"))}


def load_ruleset(path: Path) -> Ruleset:
    """The ruleset in ``path``, validated (``schemas.ruleset``); every problem is a ``RulesetError``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesetError(f"{path}：分型标准文件不存在") from None
    except (OSError, UnicodeDecodeError) as error:
        raise RulesetError(f"{path}：无法按 UTF-8 文本读取（{error}）") from None
    return parse_ruleset_text(text, str(path))


def ruleset_file(province: str, override: Path | None = None) -> Path:
    """The typing standard's file for ``province``: ``override`` (``--ruleset FILE``) or the filed one."""
    return override if override is not None else RULESETS_DIR / f"{province}.toml"


def ruleset_for(province: str, override: Path | None = None) -> Ruleset:
    """The typing standard a cycle of ``province`` applies, validated."""
    path = ruleset_file(province, override)
    if override is None and not path.is_file():
        listing = "、".join(filed_rulesets()) or "无"
        raise RulesetError(
            f"省份 {province} 没有备案的分型标准：{path} 不存在（已备案：{listing}）。备案时请仿照 "
            f"data/rulesets/41.toml 写 data/rulesets/{province}.toml —— id（ISO 3166-2 字母）、version、province、"
            "所依据的文件、较高类型的前提条件，以及本省标准的每一个条件一个 [[conditions]]（代码、类型、说明、特征和"
            "阈值；格式见 schemas/ruleset.py）—— 或用 --ruleset FILE 运行。"
        )
    ruleset = load_ruleset(path)
    if ruleset.province != province:
        raise RulesetError(
            f"{path}：这是省份 {ruleset.province} 的分型标准（{ruleset.name}），而本周期是省份 {province}；"
            "一省的个体工商户按本省的标准分型"
        )
    return ruleset


@cache
def tax_kinds() -> pl.DataFrame:
    """Every delivered spelling of a 税种 → its canonical 税种 and whether it is a tax (``data/tax_kinds.csv``).

    Checked when loaded: one row per spelling, each canonical 税种 classified once (all its spellings agree on
    ``is_tax``) and spelled as itself."""
    path = DATA_DIR / "tax_kinds.csv"
    table = pl.read_csv(path, schema={"spelling": pl.String, "tax_kind": pl.String, "is_tax": pl.Boolean})
    problems = []
    if table["spelling"].is_duplicated().any():
        problems.append(f"写法重复：{sorted(set(table.filter(pl.col('spelling').is_duplicated())['spelling']))}")
    if table.null_count().sum_horizontal().item():
        problems.append("有空单元格")
    mixed = table.group_by("tax_kind").agg(pl.col("is_tax").n_unique()).filter(pl.col("is_tax") > 1)
    if mixed.height:
        problems.append(f"税种既算税又不算税：{sorted(mixed['tax_kind'])}")
    unspelled = set(table["tax_kind"]) - set(table["spelling"])
    if unspelled:
        problems.append(f"税种本身没有列为它的一种写法：{sorted(unspelled)}")
    if problems:
        raise ValueError(f"{path}：" + "；".join(problems))
    return table


def _province_file(folder: Path, province: str, override: Path | None, what: str) -> tuple[Path, str]:
    path = override if override is not None else folder / f"{province}.toml"
    try:
        return path, path.read_text(encoding="utf-8")
    except FileNotFoundError:
        filed = ", ".join(p.stem for p in sorted(folder.glob("*.toml"))) or "无"
        raise MeasuresError(
            f"{path}：没有这个文件——省份 {province} 的{what}未备案（已备案：{filed}）。请参照 "
            f"{folder.relative_to(DATA_DIR.parent)}/41.toml 写一份（docs/measures.md）。"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise MeasuresError(f"{path}：无法按 UTF-8 文本读取（{error}）") from None


def _same_province(path: Path, found: str, province: str) -> None:
    if found != province:
        raise MeasuresError(f"{path}：这是省份 {found} 的文件，但要处理的是省份 {province}")


def measures_for(province: str, override: Path | None = None) -> Measures:
    """The support measures (帮扶措施) of ``province`` (``data/measures/<P>.toml`` or ``override``), validated."""
    path, text = _province_file(MEASURES_DIR, province, override, "帮扶措施（免申即享）")
    measures = parse_measures_text(text, str(path))
    _same_province(path, measures.province, province)
    return measures


def inspection_for(province: str, override: Path | None = None) -> Inspection:
    """The 双随机 sampling ratios and frequencies of ``province`` (``data/inspection/<P>.toml``), validated."""
    path, text = _province_file(INSPECTION_DIR, province, override, "双随机抽查比例和频次")
    inspection = parse_inspection_text(text, str(path))
    _same_province(path, inspection.province, province)
    return inspection


MONITORING_DIR = DATA_DIR / "monitoring"


def monitoring_for(province: str) -> Conversion:
    """The 个转企 criterion of ``province`` (``data/monitoring/<P>.toml``), validated; a province without its own file
    gets province 41's, said in ``Conversion.basis``."""
    path = MONITORING_DIR / f"{province}.toml"
    if not path.is_file():
        fallback = parse_monitoring_text((MONITORING_DIR / "41.toml").read_text(encoding="utf-8"), str(path))
        return dataclasses.replace(fallback, basis=f"{fallback.basis}（本省未设 {path.name}，沿用 41.toml）")
    return parse_monitoring_text(path.read_text(encoding="utf-8"), str(path))
