"""Delivered text → typed values, one ``Kind`` at a time, each paired with the rule a value breaks.

Normalising and checking are separate steps, so a column's text is normalised once however many checks
read it: :func:`normalised` gives the form a kind is checked on (:func:`normalised_text` for free text and
enumerations, ``schemas.codes.normalised_code`` — half-width, upper case, stripped — for everything
else), and each kind's function takes that form and returns a :class:`Checked`: the typed value and the
name of the first rule of ``schemas.sources.RULES`` the value breaks (null when it is valid or empty). The
value of a broken cell is meaningless; callers null it. Whether an empty value is allowed is the caller's
business (``required``), and so are rules that need the inbox (the extraction date).

Types and normalised forms follow docs/architecture.md, "Accepted tables".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from schemas.codes import normalised_code, normalised_codes, uscc_problem
from schemas.sources import EARLIEST_DATE, MONEY, Kind

# Delivered amounts are parsed with room for 万元 fractions (1.234567 万元 = 12345.67 元) before rounding to fen.
_MONEY_PARSED = pl.Decimal(30, 8)

_SPACES = ["\u3000", "\u00a0"]  # ideographic and no-break spaces, as Excel and Chinese IMEs leave them
_FLAG_VALUES = {"是": True, "否": False, "Y": True, "N": False, "1": True, "0": False}
_THOUSANDS = r"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$"  # the only commas an amount may hold
_WHOLE = r"(\.0+)?"  # a whole number exported by Excel as a float: 3.0
TEXT_KINDS = (Kind.TEXT, Kind.ENUM)


@dataclass(frozen=True)
class Checked:
    value: pl.Expr
    rule: pl.Expr  # a key of schemas.sources.RULES, or null


def _rule_when(broken: pl.Expr, rule: str) -> pl.Expr:
    return pl.when(broken).then(pl.lit(rule)).otherwise(pl.lit(None, dtype=pl.String))


def normalised_text(raw: pl.Expr) -> pl.Expr:
    """Free text: full-width and no-break spaces folded to ASCII, stripped; empty becomes null."""
    text = raw.str.replace_many(_SPACES, [" "] * len(_SPACES)).str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text)


def normalised(kind: Kind, raw: pl.Expr) -> pl.Expr:
    """The form a column of ``kind`` is checked on."""
    return normalised_text(raw) if kind in TEXT_KINDS else normalised_code(raw)


def normalised_values(kind: Kind, raw: pl.Series) -> pl.Series:
    """:func:`normalised` of a Series, codes through the fast path of ``schemas.codes.normalised_codes``."""
    if kind in TEXT_KINDS:
        return raw.to_frame().select(normalised_text(pl.col(raw.name))).to_series()
    return normalised_codes(raw)


def date(code: pl.Expr) -> Checked:
    """``YYYY-MM-DD``, ``YYYY/MM/DD`` (month and day may drop their leading zero) or ``YYYYMMDD``; must exist."""
    separated = code.str.contains(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$") | code.str.contains(
        r"^[0-9]{4}/[0-9]{1,2}/[0-9]{1,2}$"
    )
    value = (
        pl.when(code.str.contains(r"^[0-9]{8}$"))
        .then(code.str.to_date("%Y%m%d", strict=False))
        .when(separated)
        .then(code.str.replace_all("/", "-", literal=True).str.to_date("%Y-%m-%d", strict=False))
    )
    return Checked(value, pl.coalesce(_rule_when(code.is_not_null() & value.is_null(), "date_format"), _early(value)))


def _early(value: pl.Expr) -> pl.Expr:
    """``date_implausible`` before ``EARLIEST_DATE``: a placeholder (``0001-01-01``, ``1900-01-01``), not an event."""
    return _rule_when(value < pl.lit(EARLIEST_DATE), "date_implausible")


def period(code: pl.Expr) -> Checked:
    """``YYYYMM`` or ``YYYY-MM``, as the first day of that month."""
    month = code.str.replace("-", "", literal=True)
    value = pl.when(code.str.contains(r"^[0-9]{4}-?[0-9]{2}$")).then((month + "01").str.to_date("%Y%m%d", strict=False))
    return Checked(value, pl.coalesce(_rule_when(code.is_not_null() & value.is_null(), "period_format"), _early(value)))


def _whole_number(code: pl.Expr, digits: str) -> pl.Expr:
    return (
        pl.when(code.str.contains(rf"^[0-9]{{{digits}}}{_WHOLE}$"))
        .then(code.str.replace(r"\.0+$", "").cast(pl.Int64, strict=False))
        .cast(pl.Int32, strict=False)
    )


def year(code: pl.Expr) -> Checked:
    value = _whole_number(code, "4")
    return Checked(value, _rule_when(code.is_not_null() & value.is_null(), "year_format"))


def count(code: pl.Expr) -> Checked:
    value = _whole_number(code, "1,9")
    return Checked(value, _rule_when(code.is_not_null() & value.is_null(), "count_format"))


def nice_class(code: pl.Expr) -> Checked:
    number = _whole_number(code, "1,2")
    value = pl.when(number.is_between(1, 45)).then(number).cast(pl.Int8)
    return Checked(value, _rule_when(code.is_not_null() & value.is_null(), "nice_class_unknown"))


def money_number(code: pl.Expr) -> Checked:
    """An amount as a number in the unit of its header. Real thousands separators (``1,234,567.89``: groups of
    three digits) are dropped; any other comma (``45,5``, a decimal comma) makes it no amount. The exponent form
    Excel gives large floats is read."""
    plain = pl.when(~code.str.contains(",", literal=True) | code.str.contains(_THOUSANDS)).then(code)
    number = plain.str.replace_all(",", "", literal=True).cast(_MONEY_PARSED, strict=False)
    return Checked(number, _rule_when(code.is_not_null() & number.is_null(), "money_format"))


def money_plain(raw: pl.Expr) -> pl.Expr:
    """The fast path of :func:`money_number` on the delivered text, for amounts already in plain form
    (``-150.25``); null otherwise. What it parses, normalising and :func:`money_number` parse the same, so the
    slow path is needed only where this one gives null."""
    return raw.cast(_MONEY_PARSED, strict=False)


def money_in_yuan(number: pl.Expr, factor: pl.Expr, negative_allowed: bool) -> Checked:
    """A parsed amount times ``factor`` (1 for 元, 10 000 for 万元), in yuan to the fen."""
    value = (number * factor).cast(MONEY, strict=False)
    rule = (
        pl.when(number.is_not_null() & value.is_null())
        .then(pl.lit("money_format"))  # too large for Decimal(18, 2)
        .when(pl.lit(not negative_allowed) & (value < 0))
        .then(pl.lit("money_negative"))
    )
    return Checked(value, rule)


def flag(code: pl.Expr) -> Checked:
    value = code.replace_strict(_FLAG_VALUES, default=None, return_dtype=pl.Boolean)
    return Checked(value, _rule_when(code.is_not_null() & value.is_null(), "flag_format"))


def enum(text: pl.Expr, values: Sequence[str], aliases: Mapping[str, str]) -> Checked:
    """One of ``values``, after mapping a delivered alias (``在营``) to its canonical value (``存续``)."""
    canonical = text.replace(dict(aliases)) if aliases else text
    known = canonical.is_in(list(values))
    return Checked(canonical, _rule_when(text.is_not_null() & ~known, "enum_unknown"))


def uscc(code: pl.Expr, individual: bool) -> Checked:
    """A USCC; ``individual``: it must also be an individual business's (starting ``92``)."""
    rule = uscc_problem(code)
    if individual:
        rule = pl.coalesce(rule, _rule_when(~code.str.starts_with("92"), "uscc_not_individual"))
    return Checked(code, rule)


def reg_no(code: pl.Expr) -> Checked:
    return Checked(code, _rule_when(~code.str.contains(r"^[0-9]{15}$"), "reg_no_format"))


def region(code: pl.Expr, province: str, regions: Sequence[str]) -> Checked:
    """A county-level code of ``province``; ``regions`` are that province's codes (data/regions.csv)."""
    rule = (
        pl.when(code.is_null())
        .then(None)
        .when(~code.str.contains(r"^[0-9]{6}$"))
        .then(pl.lit("region_format"))
        .when(code.str.slice(0, 2) != province)
        .then(pl.lit("region_outside_province"))
        .when(~code.is_in(list(regions)))
        .then(pl.lit("region_unknown"))
    )
    return Checked(code, rule)


def industry(code: pl.Expr, sections: Mapping[str, str]) -> Checked:
    """A GB/T 4754-2017 class, ``H6210`` or ``6210``; ``sections`` maps each division (``62``) to its letter."""
    division = code.str.slice(-4, 2)
    letter = pl.when(code.str.len_chars() == 5).then(code.str.slice(0, 1))
    expected = division.replace_strict(dict(sections), default=None, return_dtype=pl.String)
    rule = (
        pl.when(code.is_null())
        .then(None)
        .when(~code.str.contains(r"^[A-T]?[0-9]{4}$"))
        .then(pl.lit("industry_format"))
        .when(expected.is_null() | (letter.is_not_null() & (letter != expected)))
        .then(pl.lit("industry_unknown"))
    )
    return Checked(code, rule)


def after(value: pl.Expr, extracted_on: dt.date, kind_is_year: bool = False) -> pl.Expr:
    """``date_after_extraction`` where the value lies after the extraction date (a year: after its year).

    Dates after the cycle's as-of date are normal (rules.md v2, Terms): only what the extract cannot yet hold
    is impossible."""
    limit = pl.lit(extracted_on.year) if kind_is_year else pl.lit(extracted_on)
    return _rule_when(value > limit, "date_after_extraction")
