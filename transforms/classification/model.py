"""The records of classification: what the round and the review read and write.

Dates follow one rule, the contract's "within the N years before" a day: the window is ``[day - N years, day]``,
both ends included (民法典 第1259条: 以内 includes the number itself; 第201/202条: a period in years ends on the
corresponding day). A 29 February counts back to 28 February in a common year, as typing does.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from schemas.classification import CANCELLED, REVOKED, VALID

#: A recognition is valid for 3 years from its recognition date (000 §二(六)), the contract's "3 years less a day".
VALIDITY_YEARS = 3
#: Revoked: no new application for 5 years from the revocation (000 §二(六)).
BAN_YEARS = 5
#: Exclusion A: penalties in the 2 years before the application date (000 §二(四)1 A).
PENALTY_YEARS = 2


def shifted(day: dt.date, years: int) -> dt.date:
    """``day`` moved by whole calendar years (either way); 29 Feb lands on 28 Feb in a common year."""
    year = day.year + years
    if (day.month, day.day) == (2, 29) and not calendar.isleap(year):
        return day.replace(year=year, day=28)
    return day.replace(year=year)


def within_years_before(event: dt.date, day: dt.date, years: int) -> bool:
    """``event`` lies in the ``years`` years before ``day``: ``day - years ≤ event ≤ day``."""
    return shifted(day, -years) <= event <= day


def valid_until_for(recognised_on: dt.date) -> dt.date:
    """The last day of a recognition: 3 years from its date, less a day."""
    return shifted(recognised_on, VALIDITY_YEARS) - dt.timedelta(days=1)


def benefits_from(recognised_on: dt.date) -> dt.date:
    """Benefits start on 1 January after the recognition (000 §二(五)1)."""
    return dt.date(recognised_on.year + 1, 1, 1)


@dataclass(frozen=True)
class Business:
    """A business as the yearly typing cycle saw it (directory + registration + features + annual report)."""

    uscc: str
    name: str | None
    region_code: str
    business_type: str
    operator_key: str | None = None
    industry_code: str | None = None
    features: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Application:
    application_no: str
    uscc: str
    category: str
    applied_on: dt.date
    channel: str  # 自主申报 / 部门推荐
    recommender: str | None = None
    consent: bool | None = None
    relaxation: str | None = None


@dataclass(frozen=True)
class Penalty:
    uscc: str
    decided_on: dt.date
    penalty_kind: str | None
    repaired_on: dt.date | None = None
    decision_no: str | None = None


@dataclass(frozen=True)
class Debtor:
    person_key: str
    listed_on: dt.date
    removed_on: dt.date | None = None

    def listed(self, day: dt.date) -> bool:
        return self.listed_on <= day and (self.removed_on is None or self.removed_on > day)


@dataclass(frozen=True)
class Credential:
    uscc: str
    credential_type: str
    level: str
    obtained_on: dt.date
    valid_until: dt.date | None = None

    def valid_on(self, day: dt.date) -> bool:
        return self.obtained_on <= day and (self.valid_until is None or self.valid_until >= day)


@dataclass(frozen=True)
class ReviewResult:
    """The office's review of one application (review.csv)."""

    application_no: str
    visit_result: str  # 属实 / 不属实
    objection: str  # 无 / 成立 / 不成立

    @property
    def failed(self) -> bool:
        return self.visit_result == "不属实" or self.objection == "成立"


@dataclass(frozen=True)
class InfoReport:
    uscc: str
    report_year: int
    filed_on: dt.date
    operator_changed: bool = False
    new_operator_key: str | None = None


@dataclass(frozen=True)
class OfficeEvent:
    """event.csv: a revocation (撤销) or a recommending department's consent to extend (同意延期)."""

    uscc: str
    event: str
    date: dt.date
    document_no: str | None = None


@dataclass(frozen=True)
class Recognition:
    """One recognition of the register, in its current state; its history is its events."""

    recognition_no: str
    uscc: str
    category: str
    region_code: str
    operator_key: str | None
    application_no: str
    applied_on: dt.date
    recognised_on: dt.date
    valid_until: dt.date
    benefits_from: dt.date
    channel: str
    recommender: str | None
    round_year: int
    status: str = VALID  # the last event's status: 有效, 取消, 撤销, 期满
    ended_on: dt.date | None = None  # cancellation or revocation date: no longer valid from this day
    base_type: str | None = None  # the type in the cycle of recognition (or of the last extension)
    base_sales: object = None
    base_tax: object = None
    base_insured: object = None

    def valid_on(self, day: dt.date) -> bool:
        if not self.recognised_on <= day <= self.valid_until:
            return False
        return not (self.status in (CANCELLED, REVOKED) and self.ended_on is not None and day >= self.ended_on)

    def changed(self, **values: object) -> Recognition:
        return replace(self, **values)


@dataclass(frozen=True)
class Event:
    """One event of the register (认定, 取消, 撤销, 延期, 期满, 经营者变更); nothing is ever deleted."""

    recognition_no: str
    uscc: str
    event: str
    date: dt.date
    reasons: tuple[str, ...] = ()
    document_no: str | None = None
    year: int = 0  # the round or review that recorded it
    step: str = ""  # round / review
