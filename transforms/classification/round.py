"""The yearly round (classification.md, "The round"): every application exactly one outcome, every reason code.

Steps 1–5 look at each application on its own and collect every code that applies (the order of
``ROUND_REASONS``). Steps 6 and 7 choose among the applications that passed 1–5, in ranking order (higher score,
发展型 before 成长型, earlier application date, then the USCC): one business per operator per county, counting
recognitions still valid on the round's recognition date; then the quota of each unit, counting those valid
recognitions too. With the office's review, candidates whose visit found 不属实 or whose objection was upheld
become 不予认定 (REVIEW_FAILED) and free their place; freed places are reported, never refilled.

Pure: the same inputs in any order give the same result.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from schemas.classification import (
    CANDIDATE,
    DEVELOPMENT_TYPES,
    EXCLUDING_PENALTIES,
    RECOGNISED,
    RECOMMENDED,
    REJECTED,
    ROUND_REASONS,
    TYPE_RANK,
    Standards,
)
from transforms.classification.model import (
    BAN_YEARS,
    PENALTY_YEARS,
    Application,
    Business,
    Credential,
    Debtor,
    Event,
    OfficeEvent,
    Penalty,
    Recognition,
    ReviewResult,
    benefits_from,
    valid_until_for,
    within_years_before,
)
from transforms.classification.standard import Score, score

SURVIVAL = "生存型"


@dataclass(frozen=True)
class Decision:
    application: Application
    business: Business | None
    score: Score | None
    outcome: str
    reasons: tuple[str, ...]
    unit: str | None
    rank: int | None  # position in the round's ranking among the applications that passed steps 1–5


@dataclass(frozen=True)
class QuotaUse:
    unit: str
    base: int  # 成长型 + 发展型 of the unit in the yearly cycle
    places: int  # floor(share × base)
    held: int  # recognitions of earlier rounds valid on the round's recognition date
    candidates: int  # 拟认定 of this round (before the review)
    recognised: int  # 认定 of this round (after the review)
    freed: int  # candidates the review turned down: places the office may fill, never refilled here
    reviewed: bool  # the office's review was applied

    @property
    def remaining(self) -> int:
        """Places left after this round (freed places included); never below 0 when a quota shrank."""
        return max(0, self.places - self.held - (self.recognised if self.reviewed else self.candidates))


@dataclass(frozen=True)
class RoundResult:
    decisions: tuple[Decision, ...]  # sorted by application number
    quota: tuple[QuotaUse, ...]  # sorted by unit
    recognitions: tuple[Recognition, ...]  # the new ones (with the review only)
    events: tuple[Event, ...]


def excluded_by_penalty(penalties: Iterable[Penalty], on: dt.date) -> bool:
    """Exclusion A: a penalty of 罚款 or heavier decided in the 2 years before ``on``, not repaired by ``on``."""
    return any(
        p.penalty_kind in EXCLUDING_PENALTIES
        and within_years_before(p.decided_on, on, PENALTY_YEARS)
        and (p.repaired_on is None or p.repaired_on > on)
        for p in penalties
    )


def excluded_as_debtor(operator_key: str | None, debtors: Mapping[str, Sequence[Debtor]], on: dt.date) -> bool:
    """Exclusion B: the operator is on the 失信被执行人 list on ``on``."""
    return operator_key is not None and any(d.listed(on) for d in debtors.get(operator_key, ()))


def banned(revocations: Iterable[dt.date], on: dt.date) -> bool:
    """Revoked in the 5 years before ``on`` (a revocation 5 years ago to the day still bans)."""
    return any(within_years_before(day, on, BAN_YEARS) for day in revocations)


def in_pool(application: Application, business: Business | None) -> bool:
    if business is None or business.business_type not in TYPE_RANK or TYPE_RANK[business.business_type] == 0:
        return False
    if business.business_type in DEVELOPMENT_TYPES:
        return True
    widened = application.channel == RECOMMENDED or bool(application.relaxation)
    return business.business_type == SURVIVAL and widened


def _grouped(items: Iterable, key) -> dict:
    groups: dict = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return groups


def ranking_key(application: Application, business: Business | None, points: int | None) -> tuple:
    """Higher score, then 发展型 before 成长型, then the earlier application date, then the USCC (and number)."""
    type_rank = TYPE_RANK.get(business.business_type, 0) if business else 0
    return (-(points or 0), -type_rank, application.applied_on, application.uscc, application.application_no)


def places_of(standards: Standards, unit: str, base: int) -> int:
    share = standards.quota.share_of(unit)
    return int((share * Decimal(base)).to_integral_value(rounding=ROUND_FLOOR))


def classification_round(
    year: int,
    applications: Sequence[Application],
    businesses: Mapping[str, Business],
    typed_counts: Mapping[str, int],
    penalties: Sequence[Penalty],
    debtors: Sequence[Debtor],
    credentials: Sequence[Credential],
    register: Sequence[Recognition],
    office_events: Sequence[OfficeEvent],
    standards: Standards,
    recognised_on: dt.date,
    reviews: Mapping[str, ReviewResult] | None = None,
) -> RoundResult:
    """The round of ``year``.

    ``businesses``: the cycle of ``year`` for every applicant and every holder of a recognition (by USCC);
    ``typed_counts``: 成长型 + 发展型 per county in that cycle; ``register``: recognitions of earlier rounds;
    ``office_events``: revocations (for the ban) — the register's own 撤销 count too; ``reviews``: the office's
    review by application number, or None before the review (then the outcome is 拟认定).
    """
    penalties_of = _grouped(penalties, lambda p: p.uscc)
    debtors_of = _grouped(debtors, lambda d: d.person_key)
    credentials_of = _grouped(credentials, lambda c: c.uscc)
    revoked_on: dict[str, set[dt.date]] = defaultdict(set)
    for e in office_events:
        if e.event == "撤销":
            revoked_on[e.uscc].add(e.date)
    for r in register:
        if r.status == "撤销" and r.ended_on is not None:
            revoked_on[r.uscc].add(r.ended_on)
    held = [r for r in register if r.valid_on(recognised_on)]
    held_by_uscc = {r.uscc for r in held}

    def current(r: Recognition) -> tuple[str, str | None]:
        b = businesses.get(r.uscc)
        return (b.region_code, b.operator_key) if b else (r.region_code, r.operator_key)

    operators_holding = {(region, op) for region, op in map(current, held) if op is not None}
    held_per_unit: dict[str, int] = defaultdict(int)
    for r in held:
        held_per_unit[standards.unit_of(current(r)[0])] += 1

    first_of: dict[str, Application] = {}
    for a in sorted(applications, key=lambda a: (a.applied_on, a.application_no)):
        first_of.setdefault(a.uscc, a)

    codes: dict[str, list[str]] = {}
    scores: dict[str, Score | None] = {}
    for a in applications:
        b = businesses.get(a.uscc)
        found: list[str] = []
        if not in_pool(a, b):
            found.append("NOT_IN_POOL")
        if excluded_by_penalty(penalties_of.get(a.uscc, ()), a.applied_on):
            found.append("EXCLUDED_PENALTY")
        if b is not None and excluded_as_debtor(b.operator_key, debtors_of, a.applied_on):
            found.append("EXCLUDED_DEBTOR")
        if banned(revoked_on.get(a.uscc, ()), a.applied_on):
            found.append("BANNED")
        if a.channel == RECOMMENDED and a.consent is not True:
            found.append("NO_CONSENT")
        if a.uscc in held_by_uscc:
            found.append("ALREADY_RECOGNISED")
        if first_of[a.uscc] is not a:
            found.append("DUPLICATE")
        s = score(standards, b, a.category, credentials_of.get(a.uscc, ()), a.applied_on) if b else None
        if s is not None and not s.passed:
            found.append("BELOW_PASS_MARK")
        codes[a.application_no] = found
        scores[a.application_no] = s

    passed = [a for a in applications if not codes[a.application_no]]
    ranked = sorted(
        passed,
        key=lambda a: ranking_key(a, businesses[a.uscc], scores[a.application_no].points),  # type: ignore[union-attr]
    )
    rank = {a.application_no: i + 1 for i, a in enumerate(ranked)}

    chosen_operators: set[tuple[str, str]] = set()
    taken: dict[str, int] = defaultdict(int)
    bases: dict[str, int] = defaultdict(int)
    for region, count in typed_counts.items():
        bases[standards.unit_of(region)] += count
    places = {unit: places_of(standards, unit, base) for unit, base in bases.items()}
    for a in ranked:
        b = businesses[a.uscc]
        if b.operator_key is not None:
            pair = (b.region_code, b.operator_key)
            if pair in operators_holding or pair in chosen_operators:
                codes[a.application_no].append("ONE_PER_OPERATOR")
                continue
            chosen_operators.add(pair)
        unit = standards.unit_of(b.region_code)
        if held_per_unit[unit] + taken[unit] >= places.get(unit, 0):
            codes[a.application_no].append("OVER_QUOTA")
            continue
        taken[unit] += 1

    order = list(ROUND_REASONS)
    decisions: list[Decision] = []
    recognitions: list[Recognition] = []
    freed: dict[str, int] = defaultdict(int)
    recognised_per_unit: dict[str, int] = defaultdict(int)
    for a in sorted(applications, key=lambda a: a.application_no):
        b = businesses.get(a.uscc)
        found = sorted(codes[a.application_no], key=order.index)
        unit = standards.unit_of(b.region_code) if b else None
        outcome = REJECTED if found else CANDIDATE
        if outcome == CANDIDATE and reviews is not None and a.application_no in reviews:
            if reviews[a.application_no].failed:
                outcome, found = REJECTED, ["REVIEW_FAILED"]
                freed[unit] += 1  # type: ignore[index]
            else:
                outcome = RECOGNISED
                recognised_per_unit[unit] += 1  # type: ignore[index]
        decisions.append(
            Decision(a, b, scores[a.application_no], outcome, tuple(found), unit, rank.get(a.application_no))
        )
    recognitions, events = _recognitions(year, [d for d in decisions if d.outcome == RECOGNISED], recognised_on)
    quota = tuple(
        QuotaUse(
            unit=unit,
            base=bases.get(unit, 0),
            places=places.get(unit, 0),
            held=held_per_unit.get(unit, 0),
            candidates=taken.get(unit, 0),
            recognised=recognised_per_unit.get(unit, 0),
            freed=freed.get(unit, 0),
            reviewed=reviews is not None,
        )
        for unit in sorted(set(bases) | set(held_per_unit) | set(taken))
    )
    return RoundResult(tuple(decisions), quota, tuple(recognitions), tuple(events))


def recognition_number(year: int, region: str, sequence: int) -> str:
    return f"MTYX-{region}-{year}-{sequence:04d}"


def _recognitions(
    year: int, decisions: Sequence[Decision], recognised_on: dt.date
) -> tuple[list[Recognition], list[Event]]:
    """The new recognitions, numbered per county in USCC order (independent of row order)."""
    recognitions: list[Recognition] = []
    events: list[Event] = []
    for region, group in sorted(_grouped(decisions, lambda d: d.business.region_code).items()):
        for i, d in enumerate(sorted(group, key=lambda d: d.application.uscc), start=1):
            a, b = d.application, d.business
            assert b is not None
            number = recognition_number(year, region, i)
            recognitions.append(
                Recognition(
                    recognition_no=number,
                    uscc=a.uscc,
                    category=a.category,
                    region_code=region,
                    operator_key=b.operator_key,
                    application_no=a.application_no,
                    applied_on=a.applied_on,
                    recognised_on=recognised_on,
                    valid_until=valid_until_for(recognised_on),
                    benefits_from=benefits_from(recognised_on),
                    channel=a.channel,
                    recommender=a.recommender,
                    round_year=year,
                    base_type=b.business_type,
                    base_sales=b.features.get("sales_prev_year"),
                    base_tax=b.features.get("tax_paid_prev_year"),
                    base_insured=b.features.get("insured_incl_operator"),
                )
            )
            events.append(Event(number, a.uscc, "认定", recognised_on, (), None, year, "round"))
    return recognitions, events
