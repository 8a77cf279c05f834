"""Support measures (帮扶措施, "免申即享") and inspection sampling (双随机、一公开) of a province, as data.

- ``data/measures/<P>.toml``: each measure of the province's plan with its department, the seeds' words (quoted
  and cited) and who qualifies — business types, optionally 名特优新 categories, and simple conditions on the
  typing features (``schemas/features.py``), written like a ruleset's (``feature`` with ``at_least``, ``above``,
  ``at_most``, ``below``, or ``equals = true`` on a yes/no feature). A business qualifies when its type is one of
  ``types``, it holds a 名特优新 recognition valid on the cycle's as-of date in one of ``categories`` (when
  given), and it meets every condition.
- ``data/inspection/<P>.toml``: per business type the sampling ratio of the 双随机 inspections (and, optionally,
  another ratio for a business holding a valid 名特优新 recognition) and the inspection frequency per year.

Both are checked when loaded; every problem becomes one ``MeasuresError`` in Chinese naming the file and the
measure (or the type), e.g. ``41.toml：措施 HA-成长-02（第 7 条 [[measures]]）：未知的特征 insured``.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from schemas.classification import CATEGORIES
from schemas.features import FEATURES
from schemas.problems import refusal
from schemas.ruleset import BOUNDS, Comparison
from schemas.vocabulary import BUSINESS_TYPES

#: How a condition's comparison reads in Chinese (the departments' files and the docs print it).
BOUND_SIGNS = {"at_least": "≥", "above": ">", "at_most": "≤", "below": "<"}


class MeasuresError(ValueError):
    """A measures or inspection file that cannot be used, with a Chinese message naming the file and the entry."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _texts_not_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("不能为空")
    return value


def _known_types(types: list[str]) -> list[str]:
    if unknown := [t for t in types if t not in BUSINESS_TYPES]:
        raise ValueError(f"未知的分型结果 {'、'.join(unknown)}；可用的是：{'、'.join(BUSINESS_TYPES)}")
    if len(set(types)) != len(types):
        raise ValueError("同一分型结果写了两次")
    return types


class MeasureCondition(Comparison):
    """One condition on a typing feature (the comparison of ``schemas.ruleset``, so typing's compiler applies)."""

    @model_validator(mode="before")
    @classmethod
    def _feature_known(cls, data: Any) -> Any:
        if isinstance(data, dict):
            feature = data.get("feature")
            if feature is None:
                raise ValueError("缺少 feature（特征名，见 schemas/features.py）")
            if "interpretations" in data:
                raise ValueError("措施的条件没有 interpretations；依据写在措施的 quote、cite 和 note 中")
            if feature not in FEATURES:
                raise ValueError(f"未知的特征 {feature!r}；可用的特征见 schemas/features.py：{'、'.join(FEATURES)}")
            if not FEATURES[feature].numeric and (data.get("equals") is not True or set(data) & set(BOUNDS)):
                raise ValueError(f"{feature} 是“是/否”特征，条件只能写 equals = true")
            if FEATURES[feature].numeric and not set(data) & set(BOUNDS):
                raise ValueError(f"{feature} 是数值特征，请给出 {'、'.join(BOUNDS)} 之一作为阈值")
        return data

    @property
    def label(self) -> str:
        """The condition in Chinese: the feature's label and its thresholds (``报告年度…参保人数（含经营者） ≥ 5``)."""
        name = FEATURES[self.feature].label
        if self.equals is not None:
            return name
        parts = [f"{BOUND_SIGNS[b]} {getattr(self, b)}" for b in BOUNDS if getattr(self, b) is not None]
        return f"{name} {' 且 '.join(parts)}"


class Measure(_Strict):
    id: str = Field(pattern=r"^[0-9A-Za-z\u4e00-\u9fff_-]{1,40}$", description="unique in the file, e.g. HA-成长-01")
    name: str = Field(description="the measure in a few words, as the department's file names it")
    department: str = Field(description="the department that acts on it; one file per department")
    quote: str = Field(description="the seed's words, verbatim")
    cite: str = Field(description="document and section the quote is from")
    types: list[str] = Field(description="the business types it applies to")
    categories: list[str] = Field(default_factory=list, description="名特优新 categories; empty: any business")
    conditions: list[MeasureCondition] = Field(default_factory=list, description="all must hold")
    note: str = ""

    _texts = field_validator("name", "department", "quote", "cite")(_texts_not_empty)

    @field_validator("department")
    @classmethod
    def _file_name(cls, value: str) -> str:
        if any(c in value for c in '/\\:*?"<>|') or value.startswith("."):
            raise ValueError(f'部门名称 {value!r} 不能含 / \\ : * ? " < > | 或以 . 开头（它也是文件名）')
        return value

    @field_validator("types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("至少要有一个分型结果（types）")
        return _known_types(value)

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: list[str]) -> list[str]:
        if unknown := [c for c in value if c not in CATEGORIES]:
            raise ValueError(f"未知的名特优新类别 {'、'.join(unknown)}；可用的是：{'、'.join(CATEGORIES)}")
        return value

    @property
    def who(self) -> str:
        """Who qualifies, in Chinese (the departments' files print it)."""
        parts = ["分型结果为" + "或".join(self.types)]
        if self.categories:
            parts.append("持有有效的名特优新认定（" + "、".join(f"{c}类" for c in self.categories) + "）")
        parts += [c.label for c in self.conditions]
        return "；".join(parts)


class _ProvinceFile(_Strict):
    """What a province's measures file and inspection file both say of themselves, first."""

    province: str = Field(pattern=r"^\d{2}$")
    version: str = Field(pattern=r"^\d{4}\.\d+$", description="<year of the plan>.<revision of this file>")
    title: str
    document: str = Field(description="the plan the file's contents come from")
    source: str = Field(description="where its text was read: the seed file and section")
    note: str = ""

    _texts = field_validator("title", "document", "source")(_texts_not_empty)


class Measures(_ProvinceFile):
    measures: list[Measure]

    @field_validator("measures")
    @classmethod
    def _some_unique(cls, value: list[Measure]) -> list[Measure]:
        if not value:
            raise ValueError("没有任何措施（[[measures]]）；一个省的措施文件至少要有一条措施")
        ids = [m.id for m in value]
        if twice := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"措施编号重复：{'、'.join(twice)}")
        return value

    def departments(self) -> list[str]:
        return sorted({m.department for m in self.measures})


# --- inspection sampling --------------------------------------------------------------------------------


def _ratio(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f'{name} = {value!r}：比例请写成带引号的小数（如 "0.05"）或 0、1，不用浮点数')
    try:
        ratio = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{name} = {value!r} 不是数") from None
    if not ratio.is_finite() or not Decimal(0) <= ratio <= Decimal(1):
        raise ValueError(f"{name} = {value!r}：比例应在 0 到 1 之间（0.05 即 5%）")
    return ratio


class TypeRatio(_Strict):
    type: str
    ratio: Any = Field(description="share of the type's businesses inspected in a year, a quoted decimal")
    recognised_ratio: Any = Field(default=None, description="the same for a holder of a valid 名特优新 recognition")
    frequency: int = Field(ge=0, le=12, description="inspection rounds per year")
    note: str = ""

    @model_validator(mode="after")
    def _known(self) -> TypeRatio:
        _known_types([self.type])
        _ratio(self.ratio, "ratio")
        if self.recognised_ratio is not None:
            _ratio(self.recognised_ratio, "recognised_ratio")
        return self

    def ratio_for(self, recognised: bool) -> Decimal:
        if recognised and self.recognised_ratio is not None:
            return _ratio(self.recognised_ratio, "recognised_ratio")
        return _ratio(self.ratio, "ratio")


class Inspection(_ProvinceFile):
    types: list[TypeRatio]

    @field_validator("types")
    @classmethod
    def _every_type_once(cls, value: list[TypeRatio]) -> list[TypeRatio]:
        named = [t.type for t in value]
        if twice := sorted({t for t in named if named.count(t) > 1}):
            raise ValueError(f"分型结果写了两次：{'、'.join(twice)}")
        if missing := [t for t in BUSINESS_TYPES if t not in named]:
            raise ValueError(f"缺少分型结果 {'、'.join(missing)} 的抽查比例；四种结果都要写（不抽查的写 ratio = 0）")
        return value

    def of(self, business_type: str) -> TypeRatio:
        return next(t for t in self.types if t.type == business_type)


# --- parsing, with messages a person can act on ----------------------------------------------------------


def _where(loc: tuple[Any, ...], data: dict[str, Any], key: str) -> str:
    if len(loc) >= 2 and loc[0] == key and isinstance(loc[1], int):
        raw = data.get(key, [])
        entry = raw[loc[1]] if loc[1] < len(raw) and isinstance(raw[loc[1]], dict) else {}
        table = f"第 {loc[1] + 1} 条 [[{key}]]"
        named = entry.get("id") if key == "measures" else entry.get("type")
        where = (
            (f"措施 {named}（{table}）" if key == "measures" else f"分型结果 {named}（{table}）") if named else table
        )
        rest = loc[2:]
        if len(rest) >= 2 and rest[0] == "conditions" and isinstance(rest[1], int):
            where += f"，第 {rest[1] + 1} 个条件"
            rest = rest[2:]
    else:
        where, rest = "", loc
    field = ".".join(str(part) for part in rest)
    return f"{where}的 {field}" if where and field else where or field


#: What the fields with a pattern hold, for a value that does not match it.
_PATTERN_MEANINGS = {
    "id": "应为 1 到 40 个字母、数字、汉字、_ 或 -，如 HA-成长-01",
    "province": "应为两位数字的省级行政区划代码（GB/T 2260），如 41",
    "version": "应为“年份.本文件修订号”，如 2024.1",
}


def _parse(model: type[BaseModel], data: dict[str, Any], origin: str, key: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise MeasuresError(refusal(error, origin, lambda loc: _where(loc, data, key), _PATTERN_MEANINGS)) from None


def _toml(text: str, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise MeasuresError(f"{origin}：不是有效的 TOML：{error}") from None


def parse_measures_text(text: str, origin: str) -> Measures:
    """A validated measures file from TOML text; ``origin`` names the file in messages."""
    return _parse(Measures, _toml(text, origin), origin, "measures")


def parse_inspection_text(text: str, origin: str) -> Inspection:
    """A validated inspection file from TOML text; ``origin`` names the file in messages."""
    return _parse(Inspection, _toml(text, origin), origin, "types")


# --- the files for people: headers (no money, no personal data: identity, place, type, measure) ---------------

#: A department's list (``<部门>.xlsx`` sheet 名单, ``<部门>.csv``): column → Chinese header, in file order.
ELIGIBILITY_HEADERS = {
    "measure_id": "措施编号",
    "measure_name": "措施名称",
    "uscc": "统一社会信用代码",
    "reg_no": "注册号",
    "name": "名称",
    "region_code": "行政区划代码",
    "region_name": "行政区划名称",
    "business_type": "分型结果",
    "categories": "名特优新类别",
}

#: The inspection sample (``sample-<种子>-n<N>.csv``, sheet 样本): column → Chinese header, in file order.
SAMPLE_HEADERS = {
    "region_code": "行政区划代码",
    "region_name": "行政区划名称",
    "business_type": "分型结果",
    "recognised": "名特优新",
    "rank": "层内排序",
    "draw_key": "抽签码",
    "business_key": "主体键",
    "uscc": "统一社会信用代码",
    "reg_no": "注册号",
    "name": "名称",
    "frequency": "抽查频次（次/年）",
}

#: The sampling frame (``sample-<种子>-n<N>-frame.csv``): every business that could be drawn and its stratum —
#: with the manifest, all a verifier needs.
FRAME_HEADERS = {
    "business_key": "主体键",
    "region_code": "行政区划代码",
    "business_type": "分型结果",
    "recognised": "名特优新",
}

#: The strata (sheet 分层 of the sample's workbook).
STRATA_HEADERS = {
    "region_code": "行政区划代码",
    "region_name": "行政区划名称",
    "business_type": "分型结果",
    "recognised": "名特优新",
    "population": "户数",
    "ratio": "抽查比例",
    "weight": "权重（户数×比例）",
    "places": "抽取户数",
    "frequency": "抽查频次（次/年）",
}

#: A published seed: letters, digits, ``-`` and ``_`` (it is part of the file names).
SEED_PATTERN = r"^[0-9A-Za-z_-]{1,64}$"
