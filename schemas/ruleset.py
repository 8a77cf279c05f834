"""The schema of a province's typing standard (分型标准) as data: ``data/rulesets/<province>.toml``.

A ruleset names the document it implements, the requirement both higher types share (成立2年（含）以上), and
each condition of 成长型 and 发展型: its code as the document numbers it (``成长①``, ``发展C``), its Chinese label,
the feature it reads (``transforms.features.FEATURES``) and its thresholds. ``parse_ruleset`` validates it; every
problem becomes one ``RulesetError`` naming the file and the condition.

Thresholds: ``at_least`` (≥), ``above`` (>), ``at_most`` (≤), ``below`` (<) on a numeric feature, at most one
lower and one upper bound; ``equals = true`` on a yes/no feature. Money is whole yuan (``10000``) or a quoted
decimal (``"10000.50"``), never a float. The conditions on one feature form tiers: they may not overlap, may
not leave a gap between them, must rise in type as the value rises and the top one must have no upper bound —
so raising a value can never lower a type.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from schemas.features import FEATURES
from schemas.problems import refusal
from schemas.vocabulary import TYPE_RANK, ruleset_name

BOUNDS = ("at_least", "above", "at_most", "below")


class RulesetError(ValueError):
    """A ruleset that cannot be used, with a message for the person who filed it."""


@dataclass(frozen=True, order=True)
class Bound:
    value: Decimal
    inclusive: bool


def _bound(numbers: dict[str, Decimal], inclusive: str, exclusive: str) -> Bound | None:
    """The bound a comparison sets on one side: by its inclusive key (at_least, at_most) or its exclusive one."""
    if inclusive in numbers:
        return Bound(numbers[inclusive], True)
    if exclusive in numbers:
        return Bound(numbers[exclusive], False)
    return None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("不能为空")
    return value


def _threshold(name: str, value: Any, feature: str) -> Decimal:
    """A threshold as an exact decimal, checked against the feature's type."""
    dtype = FEATURES[feature].dtype
    if isinstance(value, bool) or not isinstance(value, int | str | float):
        raise ValueError(f"{name} = {value!r} 不是数字")
    if isinstance(value, float):
        raise ValueError(
            f"{name} = {value!r} 是浮点数；请写整数（{int(value)}），金额也可写加引号的小数"
            f'（"{value}"）：浮点数不能精确表示金额'
        )
    if dtype.is_integer() and not isinstance(value, int):
        raise ValueError(f"{name} = {value!r}：{feature} 是整数，它的阈值也应为整数")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{name} = {value!r} 不是数字") from None
    if not number.is_finite() or number.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError(f"{name} = {value!r} 不是最多 2 位小数的数额")
    if number < 0:
        raise ValueError(f"{name} = {value!r} 是负数；条件读取的特征都不小于 0")
    return number


class Comparison(_Strict):
    """A comparison of one feature against thresholds (shared by the requirement and the conditions)."""

    feature: str
    at_least: Any = None
    above: Any = None
    at_most: Any = None
    below: Any = None
    equals: bool | None = None
    interpretations: list[int] = Field(default_factory=list, description="numbers of the notes it relies on")

    @model_validator(mode="after")
    def _thresholds_fit_the_feature(self) -> Comparison:
        if self.feature not in FEATURES:
            raise ValueError(f"未知的特征 {self.feature!r}；可用的特征：{'、'.join(FEATURES)}")
        given = {name: getattr(self, name) for name in BOUNDS if getattr(self, name) is not None}
        if not FEATURES[self.feature].numeric:
            if given or self.equals is not True:
                raise ValueError(f"{self.feature} 是“是/否”特征：条件应写 `equals = true`")
            return self
        if self.equals is not None:
            raise ValueError(f"{self.feature} 是数值：应用 {'、'.join(BOUNDS)} 比较，不能用 equals")
        if not given:
            raise ValueError(f"没有阈值：请为 {self.feature} 给出 {'、'.join(BOUNDS)} 之一")
        if ("at_least" in given and "above" in given) or ("at_most" in given and "below" in given):
            raise ValueError("有两个下限或两个上限；at_least/above 最多给一个，at_most/below 也最多给一个")
        numbers = {name: _threshold(name, value, self.feature) for name, value in given.items()}
        lower, upper = self._bounds(numbers)
        if lower is not None and upper is not None:
            empty = lower.value > upper.value or (
                lower.value == upper.value and not (lower.inclusive and upper.inclusive)
            )
            if empty:
                raise ValueError(f"没有任何值能满足 {'、'.join(f'{n} = {v}' for n, v in given.items())}")
        return self

    def _bounds(self, numbers: dict[str, Decimal]) -> tuple[Bound | None, Bound | None]:
        lower = _bound(numbers, inclusive="at_least", exclusive="above")
        upper = _bound(numbers, inclusive="at_most", exclusive="below")
        if FEATURES[self.feature].dtype.is_integer():  # whole numbers: 'above 5' is 'at least 6'
            if lower is not None and not lower.inclusive:
                lower = Bound(lower.value + 1, True)
            if upper is not None and not upper.inclusive:
                upper = Bound(upper.value - 1, True)
        return lower, upper

    @property
    def lower(self) -> Bound | None:
        return self._bounds(self._numbers())[0]

    @property
    def upper(self) -> Bound | None:
        return self._bounds(self._numbers())[1]

    def _numbers(self) -> dict[str, Decimal]:
        return {n: Decimal(getattr(self, n)) for n in BOUNDS if getattr(self, n) is not None}


class Requirement(Comparison):
    """What both higher types require (e.g. 成立2年（含）以上); a business that misses it is 生存型."""

    label: str

    _label = field_validator("label")(_non_empty)


class Condition(Comparison):
    code: str = Field(description="the document's own numbering, e.g. 成长① or 发展C")
    type: Literal["成长型", "发展型"]
    label: str = Field(description="the condition in the document's words")

    _texts = field_validator("code", "label")(_non_empty)


class Interpretation(_Strict):
    number: int
    text: str

    _text = field_validator("text")(_non_empty)


class Ruleset(_Strict):
    id: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-2:CN subdivision letters, e.g. HA for Henan")
    version: str = Field(pattern=r"^\d{4}\.\d+$", description="<year of the standard>.<revision of this file>")
    province: str = Field(pattern=r"^\d{2}$", description="GB/T 2260 province code")
    title: str
    document: str = Field(description="the document that fixes the standard")
    source: str = Field(description="where its text was read: the seed file and section")
    version_note: str = Field(description="why this version")
    requirement: Requirement
    conditions: list[Condition] = Field(min_length=1, max_length=64)  # typing keeps the met ones as bits of a UInt64
    interpretations: list[Interpretation] = Field(default_factory=list)

    _texts = field_validator("title", "document", "source", "version_note")(_non_empty)

    @property
    def name(self) -> str:
        """``<id>-<version>``, as 分型标准 prints it."""
        return ruleset_name(self.id, self.version)

    @model_validator(mode="after")
    def _codes_notes_and_tiers(self) -> Ruleset:
        codes = [c.code for c in self.conditions]
        if duplicates := sorted({c for c in codes if codes.count(c) > 1}):
            raise ValueError(f"条件编号重复使用：{'、'.join(duplicates)}")
        numbers = {n.number for n in self.interpretations}
        for comparison, name in [
            (self.requirement, "requirement（共同要求）"),
            *((c, f"条件 {c.code}") for c in self.conditions),
        ]:
            if missing := sorted(set(comparison.interpretations) - numbers):
                raise ValueError(f"{name} 引用了解释 {missing}，但文件中没有定义（[[interpretations]]）")
        for feature in dict.fromkeys(c.feature for c in self.conditions):
            _check_tiers([c for c in self.conditions if c.feature == feature])
        return self


def _check_tiers(tiers: list[Condition]) -> None:
    """The conditions on one feature: no overlap, no gap, rising types, the top one open-ended."""
    feature = tiers[0].feature
    if not FEATURES[feature].numeric:
        if len(tiers) > 1:
            raise ValueError(f"条件 {'、'.join(c.code for c in tiers)} 重叠：都读取 {feature} = true")
        return
    ordered = sorted(tiers, key=lambda c: (c.lower is not None, c.lower or Bound(Decimal(0), True)))
    whole = FEATURES[feature].dtype.is_integer()
    for low, high in pairwise(ordered):
        pair = f"{feature} 上的条件 {low.code} 和 {high.code}"
        if low.upper is None or high.lower is None:
            raise ValueError(f"{pair} 重叠")
        top, bottom = low.upper, high.lower
        if whole:
            if bottom.value <= top.value:
                raise ValueError(f"{pair} 重叠：都包含 {bottom.value}")
            if bottom.value > top.value + 1:
                first, last = top.value + 1, bottom.value - 1
                gap = f"{first}" if first == last else f"{first} 到 {last}"
                raise ValueError(f"{pair} 之间有空缺：{gap} 两个条件都不满足")
        elif bottom.value < top.value or (bottom.value == top.value and top.inclusive and bottom.inclusive):
            raise ValueError(f"{pair} 在 {bottom.value} 处重叠")
        elif bottom.value == top.value and not (top.inclusive or bottom.inclusive):
            raise ValueError(f"{pair} 之间有空缺：{top.value} 本身两个条件都不满足")
        elif bottom.value > top.value:
            raise ValueError(f"{pair} 之间有空缺：{top.value} 与 {bottom.value} 之间的值两个条件都不满足")
        if TYPE_RANK[high.type] < TYPE_RANK[low.type]:
            raise ValueError(f"{pair} 顺序颠倒：较高的值反而得到较低的类型 {high.type}")
    if ordered[-1].upper is not None:
        raise ValueError(
            f"条件 {ordered[-1].code} 给 {feature} 设了上限，而没有条件覆盖高于上限的值：数值升高反而会降低类型"
        )


# --- parsing, with messages a person can act on ----------------------------------------------------------


def _where(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    if len(loc) >= 2 and loc[0] == "conditions" and isinstance(loc[1], int):
        raw = data.get("conditions", [])
        entry = raw[loc[1]] if loc[1] < len(raw) and isinstance(raw[loc[1]], dict) else {}
        code = entry.get("code")
        number = f"第 {loc[1] + 1} 个 [[conditions]]"
        where = f"条件 {code}（{number}）" if code else number
        field = ".".join(str(part) for part in loc[2:])
        return f"{where}的 {field}" if field else where
    return ".".join(str(part) for part in loc)


#: What the fields with a pattern hold, for a value that does not match it.
_PATTERN_MEANINGS = {
    "id": "应为两个大写字母：省份的 ISO 3166-2:CN 代码，如河南为 HA",
    "version": "应为“标准年份.本文件修订号”，如 2024.1",
    "province": "应为两位数字的省级行政区划代码（GB/T 2260），如 41",
}


def parse_ruleset(data: dict[str, Any], origin: str) -> Ruleset:
    """A validated ruleset from the parsed TOML of ``origin`` (a file name used in messages)."""
    try:
        return Ruleset.model_validate(data)
    except ValidationError as error:
        raise RulesetError(refusal(error, origin, lambda loc: _where(loc, data), _PATTERN_MEANINGS)) from None


def parse_ruleset_text(text: str, origin: str) -> Ruleset:
    """A validated ruleset from TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RulesetError(f"{origin}：不是有效的 TOML（{error}）") from None
    return parse_ruleset(data, origin)
