"""Personal identifiers replaced by their keyed forms, before anything is written (docs/architecture.md).

A delivered resident ID, taxpayer ID or holder ID becomes:

- the forms kept downstream (:func:`kept_columns`): ``operator_key``; ``taxpayer_uscc`` or ``taxpayer_key`` +
  ``taxpayer_suffix``; ``holder_uscc`` or ``holder_key``. A USCC is not personal and stays in clear.
- ``<column>_rule``: the rule the clear value broke, if any, so validate can quarantine the row without it;
- ``<column>_masked``: the value as a quarantine row may show it (first 6 and last 2 characters).

The work is done once per distinct value and joined back: IDs repeat across millions of payment rows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

import polars as pl

from schemas.codes import normalised_code, resident_id_problem, uscc_check_char, uscc_problem
from schemas.sources import Column, Kind, masked_name, rule_name, suffix_name, uscc_name
from transforms.keys import person_key

_MASK_KEEP_HEAD, _MASK_KEEP_TAIL = 6, 2
_SUFFIX = r"^[0-9A-Z]{2}$"
_MAX_CHUNKS = 16  # a keyer's table is gathered from every batch: a few contiguous chunks gather fastest


def masked(code: pl.Expr) -> pl.Expr:
    """First 6 and last 2 characters, the rest ``*`` (``110105**********2X``); a short value is all ``*``."""
    length = code.str.len_chars()
    kept = _MASK_KEEP_HEAD + _MASK_KEEP_TAIL
    stars = pl.lit("").str.pad_end(length - kept, "*")
    return (
        pl.when(length > kept)
        .then(code.str.head(_MASK_KEEP_HEAD) + stars + code.str.tail(_MASK_KEEP_TAIL))
        .otherwise(pl.lit("").str.pad_end(length, "*"))
    )


def _forms(column: Column, code: pl.Expr, secret: bytes, born_by: dt.date | None) -> list[pl.Expr]:
    """Kept forms and rule of one normalised ID, as expressions over the distinct values; ``born_by``: the latest
    birth date a resident ID may hold (the extraction date), None for no such bound."""
    if column.kind is Kind.RESIDENT_ID:
        rule = resident_id_problem(code, born_by)
        return [person_key(code, secret).alias(column.key_name), rule.alias(rule_name(column))]

    person = code.str.head(18)
    tail = code.str.slice(18)
    is_person = resident_id_problem(person, born_by).is_null() & (
        (tail == "") | (pl.lit(column.kind is Kind.TAXPAYER_ID) & tail.str.contains(_SUFFIX))
    )
    # A value that is a valid resident ID is keyed even if it also passes as a USCC: privacy comes first.
    is_uscc = ~is_person & (code.str.len_chars() == 18) & uscc_problem(code).is_null()
    broken = "taxpayer_id_format" if column.kind is Kind.TAXPAYER_ID else "party_id_format"
    forms = [
        pl.when(is_uscc).then(code).alias(uscc_name(column)),
        person_key(pl.when(is_person).then(person), secret).alias(column.key_name),
    ]
    if column.kind is Kind.TAXPAYER_ID:
        forms.append(pl.when(is_person & (tail != "")).then(tail).alias(suffix_name(column)))
    forms.append(pl.when(code.is_not_null() & ~is_person & ~is_uscc).then(pl.lit(broken)).alias(rule_name(column)))
    return forms


def _with_forms(distinct: pl.DataFrame, column: Column, secret: bytes, born_by: dt.date | None = None) -> pl.DataFrame:
    """``distinct`` (whose ``column.name`` holds distinct delivered values) with their kept forms, rule and mask."""
    return (
        distinct.with_columns(_code=normalised_code(pl.col(column.name)))
        .with_columns(
            *_forms(column, pl.col("_code"), secret, born_by), masked(pl.col("_code")).alias(masked_name(column))
        )
        .drop("_code")
    )


def keyed_lookup(ids: pl.Series, column: Column, secret: bytes, born_by: dt.date | None = None) -> pl.DataFrame:
    """One row per distinct delivered value of ``ids`` (under ``column.name``): its kept forms, rule and mask."""
    return _with_forms(ids.drop_nulls().unique().to_frame(column.name), column, secret, born_by)


def keyed(frame: pl.DataFrame, column: Column, lookup: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with the delivered ``column.name`` replaced by the kept forms, rule and mask of ``lookup``."""
    return frame.join(lookup, on=column.name, how="left", maintain_order="left").drop(column.name)


class Keyer:
    """:func:`keyed` for a stream of batches, each distinct value of one column worked out once for all of them.

    Payment and insurance rows repeat the same IDs month after month. Values are interned in a Polars
    ``Categories`` of this keyer's own, so a batch's values become ids in one hashing pass; the forms of values
    never seen before are worked out with :func:`keyed_lookup` and kept in a table indexed by id, and every row's
    forms are gathered from it: the cost of a batch does not grow with what earlier batches held. The result is
    exactly :func:`keyed`'s.
    """

    def __init__(self, column: Column, secret: bytes, born_by: dt.date | None = None) -> None:
        self.column = column
        self.secret = secret
        self.born_by = born_by  # see _forms
        self.dtype = pl.Categorical(pl.Categories.random())
        self._keepalive = pl.Series([], dtype=self.dtype)  # a Categories' mapping lives while data uses it
        empty = keyed_lookup(pl.Series(column.name, [], dtype=pl.String), column, secret).drop(column.name)
        self.forms = empty.with_columns(_seen=pl.lit(True))  # row i: the forms of the value of id i

    def keyed(self, frame: pl.DataFrame) -> pl.DataFrame:
        name = self.column.name
        ids = frame[name].cast(self.dtype).to_physical().alias("_id")
        held = pl.select(pl.when(ids < self.forms.height).then(ids)).to_series()  # null: beyond the table
        unseen = ids.is_not_null() & ~self.forms["_seen"].gather(held).fill_null(False)
        if unseen.any():
            self._learn(pl.DataFrame([ids, frame[name]]).filter(unseen).unique("_id"))
        rows = self.forms.drop("_seen").select(pl.all().gather(ids))
        return frame.drop(name).hstack(rows)

    def _learn(self, new: pl.DataFrame) -> None:
        """Add the forms of ``new`` (``_id`` and value, one row per id) to the table."""
        forms = (
            _with_forms(new, self.column, self.secret, self.born_by)
            .drop(self.column.name)
            .with_columns(_seen=pl.lit(True))
        )
        forms = forms.select("_id", *self.forms.columns).sort("_id")
        height, first, last = self.forms.height, forms["_id"][0], forms["_id"][-1]
        if first == height and last == height + forms.height - 1:  # the usual case: the next ids, in a run
            self.forms = pl.concat([self.forms, forms.drop("_id")])
            if self.forms.n_chunks() > _MAX_CHUNKS:
                self.forms = self.forms.rechunk()
            return
        # ids with gaps (reserved by Polars, unused), or below the table's height: place each row at its id
        table = self.forms.with_row_index("_id").cast({"_id": pl.UInt32}).join(forms, on="_id", how="anti")
        self.forms = (
            pl.DataFrame({"_id": pl.arange(0, max(height, last + 1), eager=True, dtype=pl.UInt32)})
            .join(pl.concat([table, forms]), on="_id", how="left")
            .sort("_id")
            .drop("_id")
            .with_columns(pl.col("_seen").fill_null(False))
        )


# --- resident IDs where no personal column was declared (issue 13, items 10 and 12) -------------------------

#: 18 characters shaped like a resident ID (17 digits and a digit or X), not inside a longer run of digits.
_ID_IN_TEXT = re.compile(r"(?<![0-9])([0-9]{6})([0-9]{8})([0-9]{2})([0-9][0-9Xx])")
_ID_CANDIDATE = r"[0-9]{17}[0-9Xx]"  # the cheap test run on every value first


def _looks_like_resident_id(match: re.Match[str], uscc_allowed: bool) -> bool:
    """A real birth date in positions 7-14 (the check digit is not required: a mistyped ID is still someone's).
    In a USCC column (``uscc_allowed``) a valid USCC is a business's code, not personal, and stays."""
    try:
        born = dt.date(int(match[2][:4]), int(match[2][4:6]), int(match[2][6:]))
    except ValueError:
        return False
    if not dt.date(1900, 1, 1) <= born <= dt.date(2100, 12, 31):
        return False
    code = match[0].upper()
    return not (uscc_allowed and code[-1] == uscc_check_char(code[:17]))


def masked_ids_in_text(text: str | None, uscc_allowed: bool = False) -> str | None:
    """``text`` with every resident-ID-shaped run masked (first 6 and last 2 characters kept)."""
    if text is None:
        return None
    return _ID_IN_TEXT.sub(
        lambda m: f"{m[1]}{'*' * 10}{m[4]}" if _looks_like_resident_id(m, uscc_allowed) else m[0], text
    )


def ids_masked(frame: pl.DataFrame, columns: Iterable[str], uscc_columns: Iterable[str] = ()) -> pl.DataFrame:
    """``frame`` with resident-ID-shaped values masked in the text ``columns`` (few values hold one: only those
    are worked on); in ``uscc_columns`` a valid USCC is left as it is."""
    uscc = set(uscc_columns)
    replaced = []
    for name in columns:
        if name not in frame.columns or frame.schema[name] != pl.String:
            continue
        rows = frame[name].str.contains(_ID_CANDIDATE).fill_null(False).arg_true()
        if len(rows):
            values = frame[name].gather(rows).to_list()
            masked_values = pl.Series([masked_ids_in_text(v, name in uscc) for v in values], dtype=pl.String)
            replaced.append(frame[name].scatter(rows, masked_values))
    return frame.with_columns(replaced) if replaced else frame


def ids_masked_expr(text: pl.Expr) -> pl.Expr:
    """:func:`masked_ids_in_text` as an expression (for the few values a quarantine shows)."""
    return text.map_elements(masked_ids_in_text, return_dtype=pl.String, skip_nulls=True)
