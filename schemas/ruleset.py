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
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from schemas.features import FEATURES
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
        raise ValueError("must not be empty")
    return value


def _threshold(name: str, value: Any, feature: str) -> Decimal:
    """A threshold as an exact decimal, checked against the feature's type."""
    dtype = FEATURES[feature].dtype
    if isinstance(value, bool) or not isinstance(value, int | str | float):
        raise ValueError(f"{name} = {value!r} is not a number")
    if isinstance(value, float):
        raise ValueError(
            f"{name} = {value!r} is a float; write whole numbers ({int(value)}) or, for money, a quoted decimal "
            f'("{value}"): a float cannot hold an amount exactly'
        )
    if dtype.is_integer() and not isinstance(value, int):
        raise ValueError(f"{name} = {value!r}: {feature} is a whole number, so its thresholds are too")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{name} = {value!r} is not a number") from None
    if not number.is_finite() or number.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError(f"{name} = {value!r} is not an amount with at most 2 decimals")
    if number < 0:
        raise ValueError(f"{name} = {value!r} is negative; no feature a condition reads is below 0")
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
            raise ValueError(f"unknown feature {self.feature!r}; the features are: {', '.join(FEATURES)}")
        given = {name: getattr(self, name) for name in BOUNDS if getattr(self, name) is not None}
        if not FEATURES[self.feature].numeric:
            if given or self.equals is not True:
                raise ValueError(f"{self.feature} is a yes/no feature: the condition is `equals = true`")
            return self
        if self.equals is not None:
            raise ValueError(f"{self.feature} is a number: compare it with {', '.join(BOUNDS)}, not equals")
        if not given:
            raise ValueError(f"no threshold: give one of {', '.join(BOUNDS)} for {self.feature}")
        if ("at_least" in given and "above" in given) or ("at_most" in given and "below" in given):
            raise ValueError("two lower or two upper bounds; give at most one of at_least/above and of at_most/below")
        numbers = {name: _threshold(name, value, self.feature) for name, value in given.items()}
        lower, upper = self._bounds(numbers)
        if lower is not None and upper is not None:
            empty = lower.value > upper.value or (
                lower.value == upper.value and not (lower.inclusive and upper.inclusive)
            )
            if empty:
                raise ValueError(f"no value meets {', '.join(f'{n} = {v}' for n, v in given.items())}")
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
            raise ValueError(f"condition code(s) used twice: {', '.join(duplicates)}")
        numbers = {n.number for n in self.interpretations}
        for comparison, name in [
            (self.requirement, "the requirement"),
            *((c, f"condition {c.code}") for c in self.conditions),
        ]:
            if missing := sorted(set(comparison.interpretations) - numbers):
                raise ValueError(f"{name} relies on interpretation(s) {missing}, which the file does not define")
        for feature in dict.fromkeys(c.feature for c in self.conditions):
            _check_tiers([c for c in self.conditions if c.feature == feature])
        return self


def _check_tiers(tiers: list[Condition]) -> None:
    """The conditions on one feature: no overlap, no gap, rising types, the top one open-ended."""
    feature = tiers[0].feature
    if not FEATURES[feature].numeric:
        if len(tiers) > 1:
            raise ValueError(f"conditions {', '.join(c.code for c in tiers)} overlap: all read {feature} = true")
        return
    ordered = sorted(tiers, key=lambda c: (c.lower is not None, c.lower or Bound(Decimal(0), True)))
    whole = FEATURES[feature].dtype.is_integer()
    for low, high in pairwise(ordered):
        pair = f"conditions {low.code} and {high.code} on {feature}"
        if low.upper is None or high.lower is None:
            raise ValueError(f"{pair} overlap")
        top, bottom = low.upper, high.lower
        if whole:
            if bottom.value <= top.value:
                raise ValueError(f"{pair} overlap: both include {bottom.value}")
            if bottom.value > top.value + 1:
                raise ValueError(f"{pair} leave a gap: {top.value + 1} to {bottom.value - 1} meets neither")
        elif bottom.value < top.value or (bottom.value == top.value and top.inclusive and bottom.inclusive):
            raise ValueError(f"{pair} overlap at {bottom.value}")
        elif bottom.value > top.value or not (top.inclusive or bottom.inclusive):
            raise ValueError(f"{pair} leave a gap: values between {top.value} and {bottom.value} meet neither")
        if TYPE_RANK[high.type] < TYPE_RANK[low.type]:
            raise ValueError(f"{pair} are out of order: the higher values would give the lower type {high.type}")
    if ordered[-1].upper is not None:
        raise ValueError(
            f"condition {ordered[-1].code} caps {feature} and no condition covers the values above it: "
            "raising the value would lower the type"
        )


# --- parsing, with messages a person can act on ----------------------------------------------------------


def _where(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    if len(loc) >= 2 and loc[0] == "conditions" and isinstance(loc[1], int):
        raw = data.get("conditions", [])
        entry = raw[loc[1]] if loc[1] < len(raw) and isinstance(raw[loc[1]], dict) else {}
        code = entry.get("code")
        where = f"condition {code} ([[conditions]] #{loc[1] + 1})" if code else f"[[conditions]] #{loc[1] + 1}"
        rest = loc[2:]
    elif loc and loc[0] in ("requirement", "interpretations"):
        where, rest = str(loc[0]), loc[1:]
    else:
        where, rest = "", loc
    field = ".".join(str(part) for part in rest)
    return ", ".join(part for part in (where, field) if part)


def validation_problems(
    error: ValidationError, data: dict[str, Any], where: Callable[[tuple[Any, ...], dict[str, Any]], str]
) -> str:
    """Every problem pydantic found in a parsed TOML file, each named by ``where`` (the entry a person finds in the
    file: a condition's code, an indicator's code), joined for one message."""
    problems = []
    for problem in error.errors(include_url=False):
        message = problem["msg"].removeprefix("Value error, ")
        place = where(problem["loc"], data)
        problems.append(f"{place}: {message}" if place else message)
    return "; ".join(problems)


def parse_ruleset(data: dict[str, Any], origin: str) -> Ruleset:
    """A validated ruleset from the parsed TOML of ``origin`` (a file name used in messages)."""
    try:
        return Ruleset.model_validate(data)
    except ValidationError as error:
        raise RulesetError(f"{origin}: {validation_problems(error, data, _where)}") from None


def parse_ruleset_text(text: str, origin: str) -> Ruleset:
    """A validated ruleset from TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RulesetError(f"{origin}: not valid TOML: {error}") from None
    return parse_ruleset(data, origin)
