"""The row rules of extracts.md: every delivered row of a source either accepted, quarantined or collapsed.

Input: a source's raw rows as the raw layer holds them — lineage ``_file`` and ``_line``, every
non-personal canonical column as delivered text (null when the file lacked it), a ``_factor_<money column>``
per row (the unit of its file's header), and every personal column already keyed (``transforms.personal``).

A row is quarantined when any column breaks a rule (one quarantine entry per broken column, the first rule
that column breaks), or when it shares its ``Source.key`` with another valid row of different content
(``duplicate_conflict``, every row of the key). Valid rows identical in content to an earlier row of the
same key (by file, line) are collapsed into it and counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import polars as pl

from schemas.accepted import value_columns
from schemas.sources import Column, Kind, Source, kept_columns, masked_name, rule_name
from schemas.work_files import QUARANTINE_SCHEMA
from transforms import normalise
from transforms.headers import ONE_OF_REQUIRED
from transforms.personal import ids_masked_expr

LINEAGE = ("_file", "_line")
_BY_ROW_SHARE = 0.5  # distinct values above this share of the rows: checked row by row (_per_distinct)
KEY_SEPARATOR = "+"  # joins the headers and values of a composite key in a duplicate_conflict entry


@dataclass(frozen=True)
class Context:
    """What the rules need from outside the row: the extraction date, the province and the reference lists.

    Validation does not depend on the cycle's as-of date: a date after it is normal (rules.md v2, Terms); only a
    date after ``extracted_on`` is impossible. ``values`` gives the values of an ENUM column whose list is
    reference data (``Column.reference_values``); ``value_aliases`` adds configured spellings (``inbox.toml``
    ``values``, the reference list's spellings) to a column's own, both keyed by (source, column).
    """

    extracted_on: dt.date
    province: str
    regions: tuple[str, ...]  # the province's county-level codes
    sections: Mapping[str, str]  # GB/T 4754 division -> section letter
    values: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    value_aliases: Mapping[tuple[str, str], Mapping[str, str]] = field(default_factory=dict)

    def enum_values(self, source: Source, column: Column) -> tuple[tuple[str, ...], dict[str, str]]:
        """The canonical values of an ENUM column and every delivered spelling of them (spelling → value)."""
        key = (source.name, column.name)
        values = column.values or tuple(self.values.get(key, ()))
        return values, {**column.value_aliases, **self.value_aliases.get(key, {})}


def factor_name(column: Column) -> str:
    return f"_factor_{column.name}"


def _rule(column: Column) -> str:
    return f"_rule_{column.name}"


def _text(column: Column) -> str:
    return f"_text_{column.name}"


def _check(source: Source, column: Column, context: Context) -> Callable[[pl.Expr], normalise.Checked]:
    """The check of one column, as a function of its normalised form, the cycle's rules included."""

    def kind_check(form: pl.Expr) -> normalise.Checked:
        match column.kind:
            case Kind.USCC:
                return normalise.uscc(form, individual=source.name == "registration")
            case Kind.REG_NO:
                return normalise.reg_no(form)
            case Kind.DATE:
                return normalise.date(form)
            case Kind.PERIOD:
                return normalise.period(form)
            case Kind.YEAR:
                return normalise.year(form)
            case Kind.MONEY:
                return normalise.money_number(form)
            case Kind.COUNT:
                return normalise.count(form)
            case Kind.FLAG:
                return normalise.flag(form)
            case Kind.ENUM:
                return normalise.enum(form, *context.enum_values(source, column))
            case Kind.REGION:
                return normalise.region(form, context.province, context.regions)
            case Kind.INDUSTRY:
                return normalise.industry(form, context.sections)
            case Kind.NICE_CLASS:
                return normalise.nice_class(form)
        raise ValueError(f"{column.name}: {column.kind} is not checked on distinct values")

    def check(form: pl.Expr) -> normalise.Checked:
        checked = kind_check(form)
        if not column.not_after_extraction:
            return checked
        after = normalise.after(checked.value, context.extracted_on, kind_is_year=column.kind is Kind.YEAR)
        return normalise.Checked(checked.value, pl.coalesce(checked.rule, after))

    return check


def _per_distinct(frame: pl.DataFrame, column: Column, check: Callable[[pl.Expr], normalise.Checked]) -> pl.DataFrame:
    """``value``, ``rule`` and ``empty`` of every row, each distinct text normalised and checked once.

    Columns repeat a few values over millions of rows (dates, kinds, codes), so this is much cheaper than
    working row by row. A column of mostly distinct values (a registration's USCCs) is checked row by row
    instead: the same expressions, without joining millions of results back.
    """
    name = column.name
    # An estimate decides, as both ways give the same result: counting exactly costs as much as the check.
    by_row = frame[name].approx_n_unique() > frame.height * _BY_ROW_SHARE
    values = frame.select(name) if by_row else frame.select(pl.col(name).drop_nulls().unique())
    forms = values.with_columns(normalise.normalised_values(column.kind, values[name]).alias("_form"))
    checked = check(pl.col("_form"))
    parsed = forms.with_columns(checked.rule.alias("rule")).select(
        name,
        pl.when(pl.col("rule").is_null()).then(checked.value).alias("value"),
        "rule",
        pl.col("_form").is_null().alias("empty"),
    )
    if by_row:
        return parsed.drop(name)
    # a join, not replace_strict: with a million distinct values replace_strict takes a minute, a join a second
    return frame.select(name).join(parsed, on=name, how="left", maintain_order="left").drop(name)


def _checked_column(frame: pl.DataFrame, source: Source, column: Column, context: Context) -> pl.DataFrame:
    """``value``, ``rule`` (all but ``required``) and ``empty`` of one delivered column, one row per row."""
    raw = pl.col(column.name)
    if column.kind is Kind.TEXT:  # nearly every name and address is distinct: normalise in place
        return frame.select(
            normalise.normalised_text(raw).alias("value"), pl.lit(None, dtype=pl.String).alias("rule")
        ).with_columns(empty=pl.col("value").is_null())
    check = _check(source, column, context)
    if column.kind is Kind.MONEY:
        # Most amounts are plain numbers: parse those directly, and only the rest through normalisation.
        number = frame.select(normalise.money_plain(raw)).to_series().alias("value")
        rule = pl.Series("rule", [], dtype=pl.String).extend_constant(None, frame.height)
        empty = frame[column.name].is_null().alias("empty")
        slow_rows = (number.is_null() & ~empty).arg_true()
        if len(slow_rows):
            slow = _per_distinct(frame[slow_rows], column, check).with_columns(pl.col("empty").fill_null(True))
            number, rule, empty = (s.scatter(slow_rows, slow[s.name]) for s in (number, rule, empty))
        in_yuan = normalise.money_in_yuan(pl.col("value"), pl.col(factor_name(column)), column.negative_allowed)
        return (
            frame.select(factor_name(column))
            .with_columns(number, rule, empty)
            .select(
                pl.when(pl.coalesce("rule", in_yuan.rule).is_null()).then(in_yuan.value).alias("value"),
                pl.coalesce("rule", in_yuan.rule).alias("rule"),
                "empty",
            )
        )
    return _per_distinct(frame, column, check).with_columns(pl.col("empty").fill_null(True))


def checked(frame: pl.DataFrame, source: Source, context: Context) -> pl.DataFrame:
    """Every column typed (under its canonical name), with its rule (``_rule_<name>``) and delivered text
    (``_text_<name>``: the masked value for a personal column)."""
    missing = [c.name for c in source.columns if not c.personal and c.name not in frame.columns]
    frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(n) for n in missing)
    values: list[pl.Series] = []
    rules: dict[str, pl.Series] = {}
    empty: dict[str, pl.Series] = {}
    for column in source.columns:
        if column.personal:
            rules[column.name] = frame[rule_name(column)]
            empty[column.name] = frame[masked_name(column)].is_null()
            continue
        parts = _checked_column(frame, source, column, context)
        values.append(parts["value"].alias(column.name))
        rules[column.name] = parts["rule"]
        empty[column.name] = parts["empty"]
    one_of = ONE_OF_REQUIRED.get(source.name, ())
    for column in source.columns:
        if column.required or (one_of and column.name == one_of[0]):
            missing_value = (
                pl.all_horizontal([empty[n] for n in one_of]) if column.name in one_of else empty[column.name]
            )
            required = frame.select(pl.when(missing_value).then(pl.lit("required")).alias("r"))["r"]
            rules[column.name] = required.fill_null(rules[column.name])
    texts = [frame[masked_name(c) if c.personal else c.name].alias(_text(c)) for c in source.columns]
    return frame.with_columns(*values, *(r.alias(_rule(source.column(n))) for n, r in rules.items()), *texts)


def _broken(source: Source) -> pl.Expr:
    """A row that breaks a rule of a column whose broken value quarantines the row (not ``Column.field_only``)."""
    return pl.any_horizontal(pl.col(_rule(c)).is_not_null() for c in source.columns if not c.field_only)


def _field_broken(source: Source) -> pl.Expr:
    """A row that breaks only rules of ``field_only`` columns: accepted, those fields null."""
    fields = [pl.col(_rule(c)).is_not_null() for c in source.columns if c.field_only]
    return ~_broken(source) & pl.any_horizontal(fields) if fields else pl.lit(False)


def _quarantine_entries(rows: pl.DataFrame, source: Source, column: str, rule: pl.Expr, value: pl.Expr):
    return rows.select(
        pl.lit(source.name).alias("source"),
        pl.col("_file").alias("file"),
        pl.col("_line").cast(pl.Int64).alias("line"),
        pl.lit(column).alias("column"),  # canonical name here; the delivered header is joined in by the caller
        ids_masked_expr(value.cast(pl.String)).alias("value"),  # a resident ID in any column: masked (issue 13)
        rule.alias("rule"),
    )


def rule_entries(checked_rows: pl.DataFrame, source: Source) -> pl.DataFrame:
    """Quarantine entries (``QUARANTINE_SCHEMA``, column = canonical name) of every broken column of every row."""
    broken = checked_rows.filter(_broken(source))  # few rows: the per-column work is done on them only
    return pl.concat(
        _quarantine_entries(
            broken.filter(pl.col(_rule(c)).is_not_null()), source, c.name, pl.col(_rule(c)), pl.col(_text(c))
        )
        for c in source.columns
    )


def field_entries(checked_rows: pl.DataFrame, source: Source) -> pl.DataFrame:
    """Quarantine entries of the ``field_only`` columns of rows that are accepted with those fields null: the
    entries are in the quarantine, the rows count as accepted (docs/architecture.md, "Files between stages")."""
    broken = checked_rows.filter(_field_broken(source))
    return pl.concat(
        [
            pl.DataFrame(schema=QUARANTINE_SCHEMA),
            *(
                _quarantine_entries(
                    broken.filter(pl.col(_rule(c)).is_not_null()), source, c.name, pl.col(_rule(c)), pl.col(_text(c))
                )
                for c in source.columns
                if c.field_only
            ),
        ]
    )


def valid_rows(checked_rows: pl.DataFrame, source: Source) -> pl.DataFrame:
    """The typed values (``value_columns``) and lineage of the rows that break no rule."""
    values = checked_rows.with_columns(
        business_key=pl.coalesce("uscc", "reg_no") if source.name == "registration" else pl.lit(None)
    ).select(*value_columns(source), *LINEAGE)
    return values.filter(~checked_rows.select(_broken(source)).to_series())


def quarantined_businesses(rows: pl.DataFrame) -> pl.DataFrame:
    """``QUARANTINED_BUSINESSES_SCHEMA`` of registration ``rows`` set aside (broken, or conflicting duplicates)
    whose business and operator are still known: linkage must count such a business among its operator's."""
    key = pl.coalesce("uscc", "reg_no") if "business_key" not in rows.columns else pl.col("business_key")
    return (
        rows.select(key.alias("business_key"), pl.col("operator_key"), pl.col("status"))
        .filter(pl.col("business_key").is_not_null() & pl.col("operator_key").is_not_null())
        .cast(pl.String)
    )


#: One registration row set aside (broken, or a conflicting duplicate) and the business it stands for.
SET_ASIDE_SCHEMA = {"business_key": pl.String, "_file": pl.String, "_line": pl.Int64}


def set_aside_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """``SET_ASIDE_SCHEMA`` of registration ``rows`` set aside: the business is its USCC, else its 注册号; a row
    whose key is broken or missing has a null ``business_key`` and stands for a business of its own."""
    key = pl.coalesce("uscc", "reg_no") if "business_key" not in rows.columns else pl.col("business_key")
    return rows.select(key.alias("business_key"), *LINEAGE).cast(SET_ASIDE_SCHEMA)


def businesses_left_out(set_aside: pl.DataFrame, accepted_keys: pl.LazyFrame) -> int:
    """How many businesses are missing from the cycle because their registration rows were set aside (issue 12,
    finding 10): each business once however many of its rows were quarantined, none that another of its rows
    brought in (``accepted_keys``: the accepted registration's ``business_key``); a row without a readable key
    counts as one business."""
    keyed = set_aside.filter(pl.col("business_key").is_not_null()).select("business_key").unique()
    missing = keyed.lazy().join(accepted_keys.select("business_key"), on="business_key", how="anti")
    unkeyed = set_aside.filter(pl.col("business_key").is_null()).select(LINEAGE).unique().height
    return missing.select(pl.len()).collect().item() + unkeyed


def broken_rows(checked_rows: pl.DataFrame, source: Source) -> pl.DataFrame:
    """The checked rows that break a rule."""
    return checked_rows.filter(_broken(source))


def _duplicate_key(source: Source) -> list[str]:
    """The typed columns two rows of one record share.

    Registration's key (统一社会信用代码, 注册号) identifies a business by ``business_key``: a USCC delivered
    once with and once without its 注册号 is one business, so those rows are duplicates of each other.
    """
    if source.name == "registration":
        return ["business_key"]
    return [n for name in source.key for n in _key_forms(source.column(name))]


def _key_forms(column: Column) -> tuple[str, ...]:
    return kept_columns(column) if column.personal else (column.name,)


def duplicate_key_hash(source: Source) -> pl.Expr:
    """A hash of a valid row's duplicate key (``source.key`` typed; must not be empty). Equal keys hash equal, so
    the rows whose hash repeats in a source are the only ones :func:`deduplicated` needs to see."""
    return pl.struct(_duplicate_key(source)).hash()


@dataclass(frozen=True)
class Deduplicated:
    accepted: pl.DataFrame  # the valid rows, less conflicts and collapsed copies, in their order
    conflicting: pl.DataFrame  # lineage of every quarantined row of a key delivered with different content
    collapsed: pl.DataFrame  # lineage of every identical copy of an earlier row (by file, line)
    #: one row per key delivered with different content: the typed key columns and ``versions`` (distinct contents)
    conflict_keys: pl.DataFrame


def deduplicated(valid: pl.DataFrame, source: Source) -> Deduplicated:
    """Rows sharing ``source.key`` (compared on typed values): identical content keeps the first row by file and
    line; conflicting content quarantines every row of the key — except in a source of listing episodes
    (``Source.episodes``), whose differing rows are versions of one episode, all accepted. ``conflict_keys``
    lists the keys with different content either way. ``valid`` is in file and line order.

    Duplicate keys are rare: rows whose key hash repeats are found in one pass, and only those are compared
    on their exact key and content.
    """
    none = valid.head(0).select(*LINEAGE)
    key_columns = _duplicate_key(source) if source.key else []
    no_keys = valid.head(0).select(*key_columns).with_columns(versions=pl.lit(0, dtype=pl.UInt32))
    if not source.key:
        return Deduplicated(accepted=valid, conflicting=none, collapsed=none, conflict_keys=no_keys)
    values = value_columns(source)
    numbered = valid.with_row_index("_row")
    if source.name == "registration":  # one business: the same USCC, or the same 注册号 (with or without USCC)
        numbered, key_columns = _with_business_identity(numbered), ["_identity"]
        repeated = numbered.filter(pl.col("_identity").is_duplicated())
    else:
        repeated = numbered.filter(duplicate_key_hash(source).is_duplicated())
    content = pl.struct([v for v in values if v != "business_key"]).hash()
    repeated = repeated.sort(*LINEAGE).with_columns(_content=content)
    repeated = repeated.with_columns(
        _versions=pl.col("_content").n_unique().over(key_columns),
        _first=pl.struct(key_columns).is_first_distinct(),
        _first_version=pl.struct([*key_columns, "_content"]).is_first_distinct(),
    )
    conflict = pl.col("_versions") > 1
    if source.episodes:
        quarantined = pl.lit(False)
        copy = ~pl.col("_first_version")
    else:
        quarantined = conflict
        copy = ~conflict & ~pl.col("_first")
    dropped = repeated.filter(quarantined | copy)["_row"]
    conflict_keys = (
        repeated.filter(conflict & pl.col("_first"))
        .select(*key_columns, versions=pl.col("_versions").cast(pl.UInt32))
        .sort(key_columns, nulls_last=True)
    )
    return Deduplicated(
        accepted=numbered.filter(~pl.col("_row").is_in(dropped.implode())).drop("_row", "_identity", strict=False),
        conflicting=repeated.filter(quarantined).select(*LINEAGE),
        collapsed=repeated.filter(copy).select(*LINEAGE),
        conflict_keys=conflict_keys,
    )


def _with_business_identity(rows: pl.DataFrame) -> pl.DataFrame:
    """``_identity`` of each registration row: its USCC; for a row without one, the USCC another row delivers with
    the same 注册号, else the 注册号. A USCC+注册号 row and a 注册号-only row of one business are one business."""
    known = (
        rows.filter(pl.col("uscc").is_not_null() & pl.col("reg_no").is_not_null())
        .group_by("reg_no")
        .agg(pl.col("uscc").min().alias("_uscc_of_reg_no"))
    )
    return (
        rows.join(known, on="reg_no", how="left", maintain_order="left")
        .with_columns(_identity=pl.coalesce("uscc", "_uscc_of_reg_no", "reg_no"))
        .drop("_uscc_of_reg_no")
    )


def key_text_columns(source: Source) -> list[str]:
    """Raw-layer columns whose text shows a row's key in a ``duplicate_conflict`` entry (personal IDs masked)."""
    return [masked_name(c) if c.personal else c.name for c in (source.column(n) for n in source.key)]


def conflict_entries(raw_keys: pl.DataFrame, source: Source) -> pl.DataFrame:
    """``duplicate_conflict`` entries from the raw rows (lineage + :func:`key_text_columns`) of conflicting rows."""
    key_text = pl.concat_str([pl.col(c).fill_null("") for c in key_text_columns(source)], separator=KEY_SEPARATOR)
    key_name = KEY_SEPARATOR.join(source.key)
    return _quarantine_entries(raw_keys, source, key_name, pl.lit("duplicate_conflict"), key_text)


def episode_conflicts(conflict_keys: pl.DataFrame, source: Source) -> pl.DataFrame:
    """``episode_conflicts.parquet`` rows (``EPISODE_CONFLICTS_SCHEMA``) of a listing source's conflicting keys:
    the business (USCC, else 注册号; for a tax source the taxpayer's USCC, else its key and suffix — never a clear
    ID), the episode's start date and how many versions were delivered."""
    started = source.key[-1]
    if "uscc" in conflict_keys.columns:
        business = pl.coalesce("uscc", "reg_no") if "reg_no" in conflict_keys.columns else pl.col("uscc")
    else:
        keyed = pl.col("taxpayer_key") + pl.col("taxpayer_suffix").fill_null("")
        business = pl.coalesce("taxpayer_uscc", keyed)
    return conflict_keys.select(
        pl.lit(source.name, dtype=pl.String).alias("source"),
        business.alias("business"),
        pl.col(started).alias("started_on"),
        pl.col("versions").cast(pl.Int64),
    )
