"""An application's score under its business's classification standard (classification.md, "Round" 5).

The most specific standard covering the business's 行政区划代码 gives the applied category's indicators and pass
mark; the score is the sum of the points of the indicators met, every indicator met is kept. Credentials count
when valid on the application date and of at least the indicator's level.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from schemas.classification import LEVELS, Category, Indicator, Standards
from transforms.classification.model import Business, Credential


@dataclass(frozen=True)
class Score:
    points: int
    met: tuple[str, ...]  # indicator codes, in the standard's order
    pass_mark: int
    standard: str  # <id>-<version> of the file the category came from

    @property
    def passed(self) -> bool:
        return self.points >= self.pass_mark


def _industry_digits(code: str | None) -> str:
    return (code or "").lstrip("ABCDEFGHIJKLMNOPQRST")


def indicator_met(indicator: Indicator, business: Business, credentials: Sequence[Credential], on: dt.date) -> bool:
    if indicator.feature is not None:
        value = business.features.get(indicator.feature)
        if value is None:
            return False
        if indicator.at_least is None:
            return value is True
        return Decimal(str(value)) >= Decimal(str(indicator.at_least))
    if indicator.industries is not None:
        digits = _industry_digits(business.industry_code)
        return any(digits.startswith(prefix) for prefix in indicator.industries)
    minimum = LEVELS[indicator.min_level] if indicator.min_level else 0
    return any(
        c.credential_type == indicator.credential and LEVELS.get(c.level, 0) >= minimum and c.valid_on(on)
        for c in credentials
    )


def category_score(
    category: Category, standard: str, business: Business, credentials: Sequence[Credential], on: dt.date
) -> Score:
    met = tuple(i.code for i in category.indicators if indicator_met(i, business, credentials, on))
    points = sum(i.points for i in category.indicators if i.code in met)
    return Score(points=points, met=met, pass_mark=category.pass_mark, standard=standard)


def score(
    standards: Standards, business: Business, category: str, credentials: Sequence[Credential], on: dt.date
) -> Score:
    source, rules = standards.category(business.region_code, category)
    return category_score(rules, source.name, business, credentials, on)
