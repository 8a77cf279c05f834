"""Pure parts of objection handling (../shared/spec/objections.md): the intake checks, how confirmed corrections
enter a cycle's accepted tables, and the before/after comparison a handler reads.

Nothing here types a business: re-judgment calls the cycle's own transforms (``transforms.link``,
``transforms.features``, ``transforms.business_types``) on the corrected tables (``flows.objections.rejudge``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from schemas.objections import Refusal
from schemas.ruleset import Ruleset
from schemas.vocabulary import CRITERIA_LABELS, MIN_AGE, NO_CONDITION, REASON_LABELS
from transforms.features import by_business
from transforms.link import LINKED, TAX_IDENTITY, tax_identity
from transforms.personal import masked_ids_in_text
from transforms.validate import _duplicate_key

#: Which sources feed which feature: a changed feature is traced to the corrections of these sources.
FEATURE_SOURCES: dict[str, tuple[str, ...]] = {
    "years_established": ("registration",),
    "status_active": ("registration",),
    "seasonal": ("registration",),
    "annual_report_filed": ("annual_report", "registration"),
    "employees_prev_year": ("annual_report",),
    "sales_prev_year": ("annual_report",),
    "on_abnormal_list": ("abnormal_list",),
    "on_serious_list": ("serious_list",),
    "suspended": ("suspension",),
    "tax_abnormal": ("tax_abnormal", "taxpayer"),
    "tax_paid_prev_year": ("tax_payment", "taxpayer"),
    "general_taxpayer": ("taxpayer",),
    "insured_incl_operator": ("social_security", "registration"),
    "insured_excl_operator": ("social_security", "registration"),
    "valid_trademarks": ("trademark",),
    "valid_patents": ("patent",),
}

#: The column of each source that names the business a row belongs to (a USCC); sources without one
#: (trademark, patent: holders by name or personal ID) reach the business only through linkage.
BUSINESS_COLUMN: dict[str, str] = {
    "registration": "business_key",
    "annual_report": "uscc",
    "abnormal_list": "uscc",
    "serious_list": "uscc",
    "suspension": "uscc",
    "penalty": "uscc",
    "taxpayer": "taxpayer_uscc",
    "tax_abnormal": "taxpayer_uscc",
    "tax_payment": "taxpayer_uscc",
    "social_security": "employer_uscc",
    "trademark": "holder_uscc",
}


def reason_labels(ruleset: Ruleset) -> dict[str, str]:
    """Every code a directory's reasons can hold under ``ruleset``, with its Chinese label (for the handler)."""
    return (
        dict(CRITERIA_LABELS)
        | {c.code: c.label for c in ruleset.conditions}
        | {
            MIN_AGE: f"未满足成长型、发展型的共同要求：{ruleset.requirement.label}",
            NO_CONDITION: REASON_LABELS[NO_CONDITION],
        }
    )


def masked_phone(phone: pl.Expr) -> pl.Expr:
    """A phone number masked as handlers see it: ``138****5678`` (first 3 and last 4 of 11 or more digits),
    shorter numbers all ``*`` but the last 2. Only this form is ever kept."""
    digits = phone.str.replace_all(r"[^0-9]", "")
    length = digits.str.len_chars()
    long = digits.str.head(3) + pl.lit("").str.pad_end(length - 7, "*") + digits.str.tail(4)
    short = pl.lit("").str.pad_end((length - 2).clip(lower_bound=0), "*") + digits.str.tail(2)
    return pl.when(length == 0).then(None).when(length >= 11).then(long).otherwise(short)


#: A phone number written in free text: a mobile (11 digits from 13–19, +86 allowed, spaces or hyphens between the
#: groups) or a fixed line with its area code (0371-65432198).
_PHONE_IN_TEXT = re.compile(
    r"(?<![0-9])(?:(?:\+?86[- ]?)?1[3-9][0-9][- ]?[0-9]{4}[- ]?[0-9]{4}|0[1-9][0-9]{1,2}[- ]?[0-9]{7,8})(?![0-9])"
)


def _masked_phone_text(match: re.Match[str]) -> str:
    digits = re.sub(r"[^0-9]", "", match[0])
    if match[0].startswith("+") or (len(digits) == 13 and digits.startswith("86")):
        digits = digits[2:]
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def personal_data_masked(text: pl.Expr) -> pl.Expr:
    """Free text an operator wrote (异议理由, 提出人, 材料) with every phone number masked as ``masked_phone`` masks
    联系电话 and every resident-ID-shaped run masked as the quarantine shows one: an operator who writes their
    身份证号 or a second number into the grounds must not have it kept in clear."""

    def masked(value: str) -> str:
        return masked_ids_in_text(_PHONE_IN_TEXT.sub(_masked_phone_text, value))

    return text.map_elements(masked, return_dtype=pl.String, skip_nulls=True)


@dataclass(frozen=True)
class IntakeFacts:
    """What intake knows about one objection: the cycle it names, the business, and open objections."""

    cycle_published_on: dt.date | None  # None: no published cycle of the province has the as-of date
    business_in_cycle: bool  # the USCC is the business_key or uscc of a business of that cycle
    filed_on: dt.date
    filing_deadline: dt.date | None  # last day to file (from the publication)
    open_objections: tuple[str, ...]  # other open objections on the same business and cycle


def refusal(facts: IntakeFacts) -> Refusal | None:
    """The refusal reason of objections.md, "The procedure" 1, or None when the objection is to be accepted.
    The reasons are tried in the order a handler checks them: the cycle, the business, the time, duplicates."""
    if facts.cycle_published_on is None:
        return Refusal.UNKNOWN_CYCLE
    if not facts.business_in_cycle:
        return Refusal.UNKNOWN_BUSINESS
    if facts.filing_deadline is not None and facts.filed_on > facts.filing_deadline:
        return Refusal.LATE
    if facts.open_objections:
        return Refusal.DUPLICATE
    return None


def not_of_business(rows: pl.DataFrame, source: str, business_uscc: str | None) -> pl.DataFrame:
    """Rows of a correction that name another business than the one objected to (corrections add or replace
    records of that business only)."""
    column = BUSINESS_COLUMN.get(source)
    if column is None or column not in rows.columns:
        return rows.clear()
    if source == "trademark":  # held by the business (USCC) or by its operator (personal ID): only a USCC is checked
        return rows.filter(pl.col(column).is_not_null() & (pl.col(column) != pl.lit(business_uscc)))
    return rows.filter(pl.col(column).is_null() | (pl.col(column) != pl.lit(business_uscc)))


def corrected(
    accepted: pl.LazyFrame, corrections: pl.DataFrame, source, registration: pl.LazyFrame | None = None
) -> pl.LazyFrame:
    """``accepted`` with ``corrections`` applied: a correction row replaces the accepted row with the same record
    key (the source's duplicate key, as validate uses it), and is added where there is none. A source keyed by the
    business (统一社会信用代码 and 注册号) names its records by the business they belong to, whichever of the two
    codes a row carries (``transforms.features.by_business`` over ``registration``): a correction replaces every
    version of that business's record — of an episode source, the episode (same business and start date, rules.md
    "Amended and repeated records") — delivered with the USCC, with the 注册号 only, or with both. A source
    without a record key (tax_payment) only gains rows."""
    if corrections.is_empty():
        return accepted
    schema = accepted.collect_schema()
    rows = corrections.select(pl.col(n).cast(t) for n, t in schema.items()).lazy()
    key = _duplicate_key(source) if source.key else []
    kept = accepted.join(rows.select(key).unique(), on=key, how="anti", nulls_equal=True) if key else accepted
    if {"uscc", "reg_no"} <= set(key):
        # a confirmation that names the business otherwise than the delivered version must not stand beside it
        # as a second, conflicting version (an episode stays in force while any version says so)
        if registration is None:
            registration = pl.LazyFrame(schema={"business_key": pl.String, "reg_no": pl.String})
        record = ["business_key", *(k for k in key if k not in ("uscc", "reg_no"))]
        named = by_business(rows, registration).filter(pl.col("business_key").is_not_null()).select(record).unique()
        kept = by_business(kept, registration).join(named, on=record, how="anti", nulls_equal=True).drop("business_key")
    return pl.concat([kept, rows], how="vertical")


_BY_USCC = ("annual_report", "abnormal_list", "serious_list", "suspension", "penalty")
#: The key under which ``business_slice`` also slices the annual-report conflicts, when given.
REPORT_CONFLICTS = "annual_report_conflicts"
_BY_TAX_IDENTITY = ("taxpayer", "tax_abnormal", "tax_payment")
_BY_RECORD = {"trademark": "trademark_no", "patent": "application_no"}


def business_slice(
    tables: Mapping[str, pl.LazyFrame], links: pl.LazyFrame, business_key: str
) -> tuple[dict[str, pl.LazyFrame], pl.LazyFrame]:
    """The rows of every source and of the linkage table that can reach one business's features: its
    registration, the rows carrying its USCC, and the tax identities, trademarks and patents linked to it.
    ``transforms.features`` computes the same features from these as from the whole tables (every fact is per
    business), only without reading the rest of the province (re-judgment of one business at a time).

    The business's USCC and linked records are looked up first, so that every other table is filtered by
    literal values, which Parquet scans push down to their row groups."""
    registration = tables["registration"].filter(pl.col("business_key") == business_key).collect()
    mine = links.filter((pl.col("business_key") == business_key) & (pl.col("status") == LINKED)).collect()
    usccs = registration["uscc"].drop_nulls().to_list()
    # a record without USCC reaches the business by its 注册号, when no other registration has that 注册号
    # (transforms.features.by_business looks over the whole province; the slice has one registration)
    numbers = registration["reg_no"].drop_nulls().to_list()
    shared = tables["registration"].filter(pl.col("reg_no").is_in(numbers)).select(pl.len()).collect().item()
    reg_nos = numbers if shared == len(numbers) else []
    sliced = dict(tables)
    sliced["registration"] = registration.lazy()
    for name in (*_BY_USCC, REPORT_CONFLICTS):
        if name not in tables:
            continue
        table = tables[name]
        mine_only = pl.col("uscc").is_in(usccs)
        if "reg_no" in table.collect_schema():
            mine_only = mine_only | (pl.col("uscc").is_null() & pl.col("reg_no").is_in(reg_nos))
        sliced[name] = table.filter(mine_only)
    if "reg_no" in tables["annual_report"].collect_schema():
        # whether the province's reports carry 注册号 at all decides UNMATCHABLE: one row that does says so;
        # it belongs to nobody in the slice (another business's, or matched to no registration)
        witness = tables["annual_report"].filter(pl.col("reg_no").is_not_null()).head(1)
        sliced["annual_report"] = pl.concat([sliced["annual_report"], witness]).unique(maintain_order=True)
    sliced["social_security"] = tables["social_security"].filter(pl.col("employer_uscc").is_in(usccs))
    identities = mine.filter(pl.col("source") == TAX_IDENTITY)["record"].to_list()
    keys = [record.split("/")[0] for record in identities]
    for name in _BY_TAX_IDENTITY:
        sliced[name] = tables[name].filter(
            (pl.col("taxpayer_uscc").is_in(identities) | pl.col("taxpayer_key").is_in(keys))
            & tax_identity(pl.col("taxpayer_uscc"), pl.col("taxpayer_key"), pl.col("taxpayer_suffix")).is_in(identities)
        )
    for name, column in _BY_RECORD.items():
        records = mine.filter(pl.col("source") == name)["record"].to_list()
        sliced[name] = tables[name].filter(pl.col(column).is_in(records))
    return sliced, mine.lazy()


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class Typed:
    """One business's features row and typing result (the classify output row)."""

    features: Mapping[str, object]
    business_type: str
    reasons: tuple[str, ...]
    conditions_met: tuple[str, ...]
    criteria_failed: tuple[str, ...]


def comparison(
    before: Typed,
    after: Typed,
    feature_labels: Mapping[str, str],
    reason_labels: Mapping[str, str],
    corrections: Iterable[Mapping[str, object]],
) -> dict:
    """Before and after side by side, as the handler sees them and the store keeps them (JSON-ready).

    ``corrections``: one entry per corrected record (source, file, line, 确认部门, 确认文号); each changed
    feature lists the corrected records of the sources that feed it."""
    corrections = list(corrections)
    features = []
    for name, label in feature_labels.items():
        old, new = _plain(before.features.get(name)), _plain(after.features.get(name))
        changed = old != new
        by = [c for c in corrections if c["source"] in FEATURE_SOURCES.get(name, ())] if changed else []
        features.append({"feature": name, "label": label, "before": old, "after": new, "changed": changed, "by": by})

    def codes(items: Iterable[str]) -> list[dict]:
        return [{"code": c, "label": reason_labels.get(c, c)} for c in items]

    return {
        "type_before": before.business_type,
        "type_after": after.business_type,
        "changed": before.business_type != after.business_type,
        "reasons_before": codes(before.reasons),
        "reasons_after": codes(after.reasons),
        "conditions_met_before": codes(before.conditions_met),
        "conditions_met_after": codes(after.conditions_met),
        "criteria_failed_before": codes(before.criteria_failed),
        "criteria_failed_after": codes(after.criteria_failed),
        "features": features,
        "corrections": corrections,
    }
