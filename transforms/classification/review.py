"""The register's yearly review (classification.md, "The register and the yearly review").

After the typing cycle of ``year`` (as of ``review_on``, 31 July by default), for every recognition of an earlier
round still valid on that day:

1. revocations of event.csv (撤销) end a recognition from their date, with the 5-year ban (``REVOKED``);
2. a change of operator (information report, or the cycle's registration) is recorded and reruns the
   one-per-person rule: the recognition recognised first keeps its place (``ONE_PER_OPERATOR``);
3. cancelled (取消认定) — with every code that applies — when no information report for ``year`` was filed by
   31 July (``NO_INFO_REPORT``), the business is 不符合分型条件 or gone from the cycle (``NOT_ELIGIBLE``), or an
   exclusion now applies: a penalty of 罚款 or heavier decided after the application, in the 2 years before
   ``review_on`` and not repaired (``EXCLUDED_PENALTY``), the operator on the 失信被执行人 list (``EXCLUDED_DEBTOR``);
4. a fall to 生存型 is flagged (``FELL_TO_SURVIVAL``), not cancelled (the seeds' 原则上);
5. in the last year of validity: extended by 3 years on any of A–D (``EXT_A``…``EXT_D``), else it expires on its
   last day (``EXPIRED``).

Every change is an event; nothing is deleted.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from schemas.classification import (
    CANCELLED,
    EXCLUDING_PENALTIES,
    EXPIRED,
    GOVERNMENT_HONOUR,
    LEVELS,
    RECOMMENDED,
    REVIEW_REASONS,
    REVOKED,
    TYPE_RANK,
    VALID,
    Standards,
)
from transforms.classification.model import (
    PENALTY_YEARS,
    VALIDITY_YEARS,
    Business,
    Credential,
    Debtor,
    Event,
    InfoReport,
    OfficeEvent,
    Penalty,
    Recognition,
    shifted,
    within_years_before,
)
from transforms.classification.round import _grouped

INELIGIBLE, SURVIVAL = "不符合分型条件", "生存型"
CANCELLATION_CODES = ("NO_INFO_REPORT", "NOT_ELIGIBLE", "EXCLUDED_PENALTY", "EXCLUDED_DEBTOR", "ONE_PER_OPERATOR")


@dataclass(frozen=True)
class ReviewRow:
    """One line of review.csv."""

    recognition: Recognition  # its state after the review
    result: str  # 继续有效, 提示关注, 取消认定, 延期, 期满, 撤销
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ReviewOutcome:
    recognitions: tuple[Recognition, ...]  # the whole register after the review, by recognition number
    events: tuple[Event, ...]  # the new events
    rows: tuple[ReviewRow, ...]  # the recognitions reviewed, by recognition number


def report_deadline(year: int) -> dt.date:
    return dt.date(year, 7, 31)


def last_year_of(r: Recognition, day: dt.date) -> bool:
    """``day`` lies in the last year of validity: after valid_until less a year, up to valid_until."""
    return shifted(r.valid_until, -1) < day <= r.valid_until


def period_start(r: Recognition) -> dt.date:
    """First day of the current 3-year period (the recognition, or the day after the previous period ended)."""
    return shifted(r.valid_until + dt.timedelta(days=1), -VALIDITY_YEARS)


def grew(base: object, now: object, share: Decimal) -> bool:
    """Extension A: ``now`` ≥ ``base`` × (1 + share); from 0, any rise counts; unknown values never do."""
    if base is None or now is None:
        return False
    base_d, now_d = Decimal(str(base)), Decimal(str(now))
    if base_d <= 0:
        return now_d > 0 and base_d == 0
    return now_d >= base_d * (1 + share)


def extension_codes(
    r: Recognition,
    business: Business | None,
    credentials: Sequence[Credential],
    consents: Sequence[OfficeEvent],
    standards: Standards,
    on: dt.date,
) -> tuple[str, ...]:
    codes = []
    start = period_start(r)
    if business is not None:
        share = standards.growth_share(business.region_code)
        f = business.features
        if any(
            grew(base, f.get(name), share)
            for base, name in (
                (r.base_sales, "sales_prev_year"),
                (r.base_tax, "tax_paid_prev_year"),
                (r.base_insured, "insured_incl_operator"),
            )
        ):
            codes.append("EXT_A")
    if any(
        c.credential_type == GOVERNMENT_HONOUR
        and LEVELS.get(c.level, 0) >= LEVELS["县"]
        and start <= c.obtained_on <= on
        for c in credentials
    ):
        codes.append("EXT_B")
    if (
        business is not None
        and r.base_type in TYPE_RANK
        and TYPE_RANK[r.base_type] >= 1
        and TYPE_RANK.get(business.business_type, 0) > TYPE_RANK[r.base_type]
    ):
        codes.append("EXT_C")
    if r.channel == RECOMMENDED and any(e.event == "同意延期" and start <= e.date <= r.valid_until for e in consents):
        codes.append("EXT_D")
    return tuple(codes)


def yearly_review(
    year: int,
    register: Sequence[Recognition],
    businesses: Mapping[str, Business],
    info_reports: Sequence[InfoReport],
    penalties: Sequence[Penalty],
    debtors: Sequence[Debtor],
    credentials: Sequence[Credential],
    office_events: Sequence[OfficeEvent],
    standards: Standards,
    review_on: dt.date | None = None,
) -> ReviewOutcome:
    """The review of ``year``; ``businesses``: the cycle of ``year`` for every business of the register."""
    on = review_on or report_deadline(year)
    deadline = report_deadline(year)
    reports = _grouped([i for i in info_reports if i.report_year == year], lambda i: i.uscc)
    penalties_of = _grouped(penalties, lambda p: p.uscc)
    debtors_of = _grouped(debtors, lambda d: d.person_key)
    credentials_of = _grouped(credentials, lambda c: c.uscc)
    events_of = _grouped(office_events, lambda e: e.uscc)
    state = {r.recognition_no: r for r in register}
    events: list[Event] = []
    rows: dict[str, ReviewRow] = {}

    def record(r: Recognition, kind: str, day: dt.date, reasons: tuple[str, ...], doc: str | None = None) -> None:
        events.append(Event(r.recognition_no, r.uscc, kind, day, reasons, doc, year, "review"))

    # 1. revocations: the recognition valid on the revocation's date (or the latest before it) is revoked
    for e in sorted((e for e in office_events if e.event == "撤销"), key=lambda e: (e.date, e.uscc)):
        mine = sorted(
            (r for r in state.values() if r.uscc == e.uscc and r.recognised_on <= e.date and r.status != REVOKED),
            key=lambda r: r.recognised_on,
        )
        target = next((r for r in reversed(mine) if r.valid_on(e.date)), None)
        if target is None:
            continue
        state[target.recognition_no] = target.changed(status=REVOKED, ended_on=e.date)
        record(target, "撤销", e.date, ("REVOKED",), e.document_no)
        rows[target.recognition_no] = ReviewRow(state[target.recognition_no], "撤销", ("REVOKED",))

    reviewed = sorted(
        (r for r in state.values() if r.recognised_on.year < year and r.valid_on(on)), key=lambda r: r.recognition_no
    )
    # 2. operator changes
    for r in reviewed:
        business = businesses.get(r.uscc)
        new_key = next(
            (i.new_operator_key for i in reports.get(r.uscc, ()) if i.operator_changed and i.new_operator_key), None
        )
        if new_key is None and business is not None and business.operator_key not in (None, r.operator_key):
            new_key = business.operator_key
        if new_key is not None and new_key != r.operator_key:
            state[r.recognition_no] = state[r.recognition_no].changed(operator_key=new_key)
            record(r, "经营者变更", on, ("OPERATOR_CHANGED",))
    # 3. cancellations
    cancel: dict[str, list[str]] = defaultdict(list)
    for r in reviewed:
        r = state[r.recognition_no]
        business = businesses.get(r.uscc)
        filed = [i for i in reports.get(r.uscc, ()) if i.filed_on <= deadline]
        if not filed:
            cancel[r.recognition_no].append("NO_INFO_REPORT")
        if business is None or business.business_type == INELIGIBLE:
            cancel[r.recognition_no].append("NOT_ELIGIBLE")
        if any(
            p.penalty_kind in EXCLUDING_PENALTIES
            and p.decided_on > r.applied_on
            and within_years_before(p.decided_on, on, PENALTY_YEARS)
            and (p.repaired_on is None or p.repaired_on > on)
            for p in penalties_of.get(r.uscc, ())
        ):
            cancel[r.recognition_no].append("EXCLUDED_PENALTY")
        if r.operator_key is not None and any(d.listed(on) for d in debtors_of.get(r.operator_key, ())):
            cancel[r.recognition_no].append("EXCLUDED_DEBTOR")
    # one per operator per county among those still standing: the earliest recognition keeps its place
    standing = [state[r.recognition_no] for r in reviewed if r.recognition_no not in cancel]
    for _, group in _grouped(
        [r for r in standing if r.operator_key is not None],
        lambda r: ((businesses[r.uscc].region_code if r.uscc in businesses else r.region_code), r.operator_key),
    ).items():
        for later in sorted(group, key=lambda r: (r.recognised_on, r.recognition_no))[1:]:
            cancel[later.recognition_no].append("ONE_PER_OPERATOR")
    for number, codes in cancel.items():
        r = state[number].changed(status=CANCELLED, ended_on=on)
        state[number] = r
        ordered = tuple(sorted(codes, key=list(REVIEW_REASONS).index))
        record(r, "取消", on, ordered)
        rows[number] = ReviewRow(r, "取消认定", ordered)
    # 4.–5. the flag, extension and expiry
    for r in reviewed:
        if r.recognition_no in cancel:
            continue
        r = state[r.recognition_no]
        business = businesses.get(r.uscc)
        flags = ("FELL_TO_SURVIVAL",) if business is not None and business.business_type == SURVIVAL else ()
        if last_year_of(r, on):
            codes = extension_codes(
                r, business, credentials_of.get(r.uscc, ()), events_of.get(r.uscc, ()), standards, on
            )
            if codes:
                f = business.features if business else {}
                r = r.changed(
                    valid_until=shifted(r.valid_until, VALIDITY_YEARS),
                    base_type=business.business_type if business else r.base_type,
                    base_sales=f.get("sales_prev_year"),
                    base_tax=f.get("tax_paid_prev_year"),
                    base_insured=f.get("insured_incl_operator"),
                )
                state[r.recognition_no] = r
                record(r, "延期", on, codes)
                rows[r.recognition_no] = ReviewRow(r, "延期", codes + flags)
            else:
                r = r.changed(status=EXPIRED)
                state[r.recognition_no] = r
                record(r, "期满", r.valid_until, ("EXPIRED",))
                rows[r.recognition_no] = ReviewRow(r, "期满", ("EXPIRED", *flags))
        elif flags:
            rows[r.recognition_no] = ReviewRow(r, "提示关注", flags)
        else:
            rows[r.recognition_no] = ReviewRow(r, "继续有效", ())
    assert all(r.status in (VALID, CANCELLED, REVOKED, EXPIRED) for r in state.values())
    return ReviewOutcome(
        tuple(sorted(state.values(), key=lambda r: r.recognition_no)),
        tuple(events),
        tuple(rows[k] for k in sorted(rows)),
    )
