"""Contract breaches injected on purpose (``--faults RATE``), each breaking exactly the rule it is recorded under.

A breach is made on the delivered text of one cell, so it is exactly what a validator will read. Rows of the
designed test cases are never touched, so the boundaries they pin stay exact. Duplicates of a keyed row come
in two kinds: identical copies (collapse silently, listed in ``duplicates.csv``) and copies with different
content (``duplicate_conflict``: both rows are to be quarantined, both listed in ``faults.csv``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from schemas.codes import USCC_ALPHABET, resident_id_check_char, uscc_check_char
from schemas.sources import RULES, SOURCES, Column, Kind
from synth import vocab
from synth.layout import LAYOUTS, columns, date_style, headers

_RULES_BY_KIND: dict[Kind, tuple[str, ...]] = {
    Kind.USCC: ("uscc_format", "uscc_check"),
    Kind.REG_NO: ("reg_no_format",),
    Kind.RESIDENT_ID: ("resident_id_format", "resident_id_birth_date", "resident_id_check"),
    Kind.TAXPAYER_ID: ("taxpayer_id_format",),
    Kind.PARTY_ID: ("party_id_format",),
    Kind.DATE: ("date_format",),
    Kind.PERIOD: ("period_format",),
    Kind.YEAR: ("year_format",),
    Kind.MONEY: ("money_format",),
    Kind.COUNT: ("count_format",),
    Kind.FLAG: ("flag_format",),
    Kind.ENUM: ("enum_unknown",),
    Kind.REGION: ("region_format", "region_outside_province", "region_unknown"),
    Kind.INDUSTRY: ("industry_format", "industry_unknown"),
    Kind.NICE_CLASS: ("nice_class_unknown",),
    Kind.TEXT: (),
}
_UNKNOWN_VALUES = {
    "org_form": "合伙经营",
    "status": "停业",
    "penalty_kind": "罚金",
    "tax_kind": "个税",
    "insurance": "生育保险",
    "payment_mode": "灵活就业",
    "trademark_status": "已注册",
    "patent_kind": "发明专利",
    "legal_status": "审中",
}
#: The non-key column a conflicting duplicate changes, per keyed source.
CONFLICT_COLUMN = {
    "registration": "address",
    "annual_report": "staff_count",
    "abnormal_list": "reason",
    "serious_list": "removed_on",
    "suspension": "suspended_until",
    "penalty": "penalty_kind",
    "taxpayer": "taxpayer_name",
    "tax_abnormal": "lifted_on",
    "social_security": "amount_yuan",
    "trademark": "nice_class",
    "patent": "holder_address",
}
DUPLICATE = "duplicate_conflict"


def rules_for(source: str, column: Column) -> tuple[str, ...]:
    """Every rule a delivered value of this column can be made to break, and only that rule."""
    rules = list(_RULES_BY_KIND[column.kind])
    if column.required:
        rules.append("required")
    if column.kind is Kind.USCC and source == "registration":
        rules.append("uscc_not_individual")
    if column.kind in (Kind.DATE, Kind.PERIOD, Kind.YEAR) and column.not_after_extraction:
        rules.append("date_after_extraction")
    if column.kind is Kind.MONEY and not column.negative_allowed:
        rules.append("money_negative")
    return tuple(rules)


def options(source: str) -> list[tuple[str, str]]:
    """(column, rule) pairs a fault in this source can take; a keyed source also takes a conflicting duplicate.

    Never a ``field_only`` column: its broken value quarantines the field, not the row (issue 13), and the truth of
    a row is whole or absent — so a rule is forced only in a source where it can break a row."""
    pairs = [(c.name, rule) for c in columns(source) if not c.field_only for rule in rules_for(source, c)]
    if SOURCES[source].key:
        pairs.append((SOURCES[source].key[0], DUPLICATE))
    return pairs


def covered_rules() -> set[str]:
    return {rule for source in SOURCES for _, rule in options(source)}


@dataclass(frozen=True)
class Breaker:
    """Turns a valid delivered value into one that breaks a given rule and no other.

    ``as_of`` is the bound a date may not pass: the extraction date (extracts.md v2), since dates between the
    cycle's as-of date and the extraction are valid. ``date_after_extraction`` makes a date after it.
    """

    province: str
    as_of: dt.date
    rng: np.random.Generator

    def __call__(self, source: str, column: Column, rule: str, value: str) -> str:
        style = date_style(LAYOUTS[source])
        match rule:
            case "required":
                return ""
            case "uscc_format":
                return value[:9] + "O" + value[10:]  # O is not in the code alphabet
            case "uscc_check":
                check = USCC_ALPHABET[(USCC_ALPHABET.index(value[17]) + 1 + self.rng.integers(0, 29)) % 31]
                return value[:17] + check
            case "uscc_not_individual":
                body = "91" + value[2:17]  # a company's code, valid in every other way
                return body + uscc_check_char(body)
            case "reg_no_format":
                return value[:14]
            case "resident_id_format":
                return value[:6] + value[8:17]  # an old 15-digit ID
            case "resident_id_birth_date":
                body = value[:10] + "13" + value[12:17]
                return body + resident_id_check_char(body)
            case "resident_id_check":
                right = value[17]
                return value[:17] + next(c for c in "1234567890X" if c != right)
            case "taxpayer_id_format" | "party_id_format":
                return self._old_tax_number()
            case "date_format":
                year = str(self.as_of.year - 1)
                return style.replace("%Y", year).replace("%m", "02").replace("%d", "30")  # 30 February
            case "date_after_extraction":
                return self._after_extraction(column, style)
            case "period_format":
                return f"{self.as_of.year - 1}13"
            case "year_format":
                return value[-2:]
            case "money_format":
                return "1.2.3"
            case "money_negative":
                return "-" + value if value and float(value) > 0 else "-100.00"
            case "count_format":
                return "2.5"
            case "flag_format":
                return "T"
            case "enum_unknown":
                return _UNKNOWN_VALUES[column.name]
            case "region_format":
                return value[:5]
            case "region_outside_province":
                return "110105" if self.province != "11" else "410105"
            case "region_unknown":
                return self.province + "9999"
            case "industry_format":
                return value + "0"
            case "industry_unknown":
                return "9810"
            case "nice_class_unknown":
                return "46"
        raise ValueError(f"no way to break {rule!r}")

    def _old_tax_number(self) -> str:
        """A pre-2016 15-digit 税务登记号: neither a USCC nor a resident ID."""
        return str(self.rng.choice(vocab.OTHER_ID_REGIONS)) + "".join(map(str, self.rng.integers(0, 10, 9)))

    def _after_extraction(self, column: Column, style: str) -> str:
        later = self.as_of + dt.timedelta(days=int(self.rng.integers(1, 200)))
        if column.kind is Kind.YEAR:
            return str(self.as_of.year + 1)
        if column.kind is Kind.PERIOD:
            return (self.as_of.replace(day=1) + dt.timedelta(days=32)).strftime("%Y%m")
        return later.strftime(style)


def conflicting(source: str, row: dict[str, str]) -> dict[str, str]:
    """The same key with different, still valid content in the source's conflict column."""
    column = next(c for c in SOURCES[source].columns if c.name == CONFLICT_COLUMN[source])
    header = headers(source)[list(columns(source)).index(column)]
    value = row[header]
    match column.name:
        case "address" | "holder_address":
            new = value + "附1号"
        case "staff_count":
            new = str(int(value) + 1) if value else "1"
        case "reason":
            new = vocab.ABNORMAL_REASONS[(vocab.ABNORMAL_REASONS.index(value) + 1) % 4] if value else "其他"
        case "removed_on" | "lifted_on":
            start = row[headers(source)[1]]  # listed_on / declared_on
            new = "" if value else start
        case "suspended_until":
            new = row[headers(source)[1]]  # the start: a filed end may equal it
        case "penalty_kind":
            new = "通报批评" if value != "通报批评" else "警告"
        case "taxpayer_name":
            new = (value or "个体户") + "（原）"
        case "amount_yuan":
            new = f"{float(value or 0) + 1:.2f}"
        case "nice_class":
            new = str(int(value) % 45 + 1)
        case _:
            raise ValueError(column.name)
    return {**row, header: new}


@dataclass
class Injected:
    """One source's chunk after injection: the rows to write and what was done to them."""

    frame: pl.DataFrame  # delivered text, with the copies appended
    faults: pl.DataFrame  # _rid, column, rule, value
    duplicates: pl.DataFrame  # _rid of identical copies
    quarantined: pl.Series  # _rid of typed rows a validator must not accept


def _applicable(source: str, row: dict[str, str], pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    header_of = dict(zip([c.name for c in columns(source)], headers(source), strict=False))
    # extracts.md v2: a row that carries a 注册号 needs no USCC, so an empty USCC there breaks nothing
    keyed_by_reg_no = bool(row.get("注册号"))
    return [
        (name, rule)
        for name, rule in pairs
        if row[header_of[name]] and not (keyed_by_reg_no and name == "uscc" and rule == "required")
    ]


def inject(
    source: str, frame: pl.DataFrame, rate: float, rng: np.random.Generator, breaker: Breaker,
    protected: int, forced: list[str], spared: pl.Series | None = None,
) -> Injected:  # fmt: skip
    """Break ``rate`` of the rows (never those of businesses below ``protected``, nor the ``_rid`` in ``spared``),
    and each rule in ``forced`` once."""
    by_name = {c.name: (c, h) for c, h in zip(columns(source), headers(source), strict=False)}
    pairs = options(source)
    touchable = frame["_bidx"].is_null() | (frame["_bidx"] >= protected)
    if spared is not None:
        touchable &= ~frame["_rid"].is_in(spared.implode())
    eligible = np.flatnonzero(touchable.to_numpy())
    picks: list[tuple[int, str, str]] = []  # (position, column name, rule)
    for rule in forced:  # the first row (in a random order) where the rule can apply
        for position in rng.permutation(eligible).tolist():
            # a small source may have a single touchable row: it may then break several columns (a duplicate breaks
            # the whole row, so it shares it with nothing)
            taken = {name for p, name, r in picks if p == position}
            if (rule == DUPLICATE and taken) or any(r == DUPLICATE for p, _, r in picks if p == position):
                continue
            candidates = _applicable(source, frame.row(position, named=True), [p for p in pairs if p[1] == rule])
            candidates = [c for c in candidates if c[0] not in taken]
            if candidates:
                picks.append((position, *candidates[rng.integers(0, len(candidates))]))
                break
    free = np.setdiff1d(eligible, [p for p, _, _ in picks])
    wanted = rng.binomial(len(free), rate)
    for position in rng.choice(free, size=wanted, replace=False).tolist() if wanted else []:
        candidates = _applicable(source, frame.row(position, named=True), pairs)
        if candidates:
            picks.append((position, *candidates[rng.integers(0, len(candidates))]))
    faults: list[dict] = []
    changes: dict[str, dict[int, str]] = {}
    copies: list[dict] = []
    quarantined: list[int] = []
    next_rid = int(frame["_rid"].max()) + 1 if frame.height else 0
    for position, name, rule in picks:
        row = frame.row(position, named=True)
        column, header = by_name[name]
        if rule == DUPLICATE:
            copy = conflicting(source, row) | {"_rid": next_rid}
            next_rid += 1
            copies.append(copy)
            quarantined.append(row["_rid"])
            for r in (row, copy):
                faults.append({"_rid": r["_rid"], "column": header, "rule": rule, "value": r[header]})
            continue
        value = breaker(source, column, rule, row[header])
        changes.setdefault(header, {})[position] = value
        faults.append({"_rid": row["_rid"], "column": header, "rule": rule, "value": value})
        quarantined.append(row["_rid"])
    for header, cells in changes.items():
        frame = frame.with_columns(frame[header].scatter(list(cells), pl.Series(list(cells.values()), dtype=pl.String)))
    duplicates: list[int] = []
    if SOURCES[source].key:
        untouched = np.setdiff1d(eligible, [p for p, _, _ in picks])
        wanted = min(len(untouched), rng.binomial(len(untouched), rate / 4))
        for position in sorted(rng.choice(untouched, size=wanted, replace=False).tolist()):
            copies.append(frame.row(position, named=True) | {"_rid": next_rid})
            duplicates.append(next_rid)
            next_rid += 1
    if copies:
        frame = pl.concat([frame, pl.DataFrame(copies, schema=frame.schema)])
    return Injected(
        frame=frame,
        faults=pl.DataFrame(
            faults, schema={"_rid": pl.Int64, "column": pl.String, "rule": pl.String, "value": pl.String}
        ),
        duplicates=pl.DataFrame({"_rid": duplicates}, schema={"_rid": pl.Int64}),
        quarantined=pl.Series("_rid", quarantined, dtype=pl.Int64),
    )


def forced_rules(sizes: dict[str, int]) -> dict[str, list[str]]:
    """Every rule once, each in the largest source where it applies, so a small inbox still shows them all."""
    forced: dict[str, list[str]] = {}
    for rule in RULES:
        where = [s for s in SOURCES if any(r == rule for _, r in options(s)) and sizes.get(s, 0)]
        if where:
            forced.setdefault(max(where, key=lambda s: sizes[s]), []).append(rule)
    return forced
