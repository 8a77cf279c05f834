"""Check characters of the two national codes, as scalars (to make codes) and as Polars expressions (to check millions).

- 统一社会信用代码 (USCC), GB 32100-2015: 18 characters; the 18th is a mod-31 check over the first 17.
- 公民身份号码 (resident ID), GB 11643-1999: 17 digits, a birth date at positions 7–14, a mod-11 check digit.

The expressions return the name of the first rule a value breaks (see ``schemas.sources.RULES``), or null
when it is valid or empty, so a validator can turn them straight into quarantine rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import polars as pl
import pyarrow as pa

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECK_CHARS = "10X98765432"  # indexed by (weighted sum mod 11)

_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
# positions 3–8 are the registering authority's region code, so always digits
_USCC_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"
_RESIDENT_ID_PATTERN = r"^[0-9]{17}[0-9X]$"

# Full-width forms U+FF01..U+FF5E are ASCII U+0021..U+007E shifted; U+3000 is the ideographic space.
_FULL_WIDTH = [chr(c) for c in range(0xFF01, 0xFF5F)] + ["\u3000"]
_HALF_WIDTH = [chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)] + [" "]


# --- scalars -------------------------------------------------------------------------------------------


def uscc_check_char(body: str) -> str:
    """The check character of a USCC whose first 17 characters are ``body``."""
    if len(body) != 17:
        raise ValueError(f"a USCC body has 17 characters, got {len(body)}")
    total = sum(_USCC_VALUE[ch] * w for ch, w in zip(body, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def resident_id_check_char(body: str) -> str:
    """The check character of a resident ID whose first 17 digits are ``body``."""
    if len(body) != 17 or not body.isdigit():
        raise ValueError(f"a resident-ID body is 17 digits, got {body!r}")
    total = sum(int(d) * w for d, w in zip(body, RESIDENT_ID_WEIGHTS, strict=True))
    return RESIDENT_ID_CHECK_CHARS[total % 11]


# --- expressions ---------------------------------------------------------------------------------------


def half_width(text: pl.Expr) -> pl.Expr:
    """Full-width letters, digits, punctuation and spaces folded to their ASCII forms."""
    return text.str.replace_many(_FULL_WIDTH, _HALF_WIDTH)


def normalised_code(text: pl.Expr) -> pl.Expr:
    """A code as a person means it: half-width, upper case, no surrounding spaces; empty becomes null."""
    code = half_width(text).str.strip_chars().str.to_uppercase()
    return pl.when(code == "").then(None).otherwise(code)


_ALREADY_NORMAL = r"^[0-9A-Z./-]+$"  # what normalised_code leaves as it is: no full width, space, lower case


def normalised_codes(text: pl.Series) -> pl.Series:
    """:func:`normalised_code` of every value of ``text``, working only on the values not already in that form.

    Delivered codes and dates nearly always are; the few others go through the full normalisation.
    """
    slow = text.str.contains(_ALREADY_NORMAL).not_().fill_null(False).arg_true()
    if not len(slow):
        return text
    return text.scatter(slow, text.gather(slow).to_frame().select(normalised_code(pl.col(text.name))).to_series())


# The check characters are computed on a byte matrix (one row per code), not with 18 string slices per code:
# the same arithmetic, vectorised, and the costliest step of ingest on millions of tax and insurance rows.
_USCC_BYTE_VALUE = np.full(256, -1, dtype=np.int64)
for _ch, _value in _USCC_VALUE.items():
    _USCC_BYTE_VALUE[ord(_ch)] = _value
_RESIDENT_ID_BYTE_VALUE = np.full(256, -1, dtype=np.int64)
_RESIDENT_ID_BYTE_VALUE[ord("0") : ord("9") + 1] = np.arange(10)
_RESIDENT_ID_BYTE_VALUE[ord("X")] = 10
_RESIDENT_ID_CHECK_VALUE = np.array([_RESIDENT_ID_BYTE_VALUE[ord(c)] for c in RESIDENT_ID_CHECK_CHARS])


def _byte_matrix(codes: pl.Series, width: int) -> np.ndarray:
    """The non-null ``codes``, all ``width`` ASCII characters long, as an (n, width) array of bytes."""
    array = codes.drop_nulls().cast(pl.String).to_arrow(compat_level=pl.CompatLevel.oldest())
    array = array.cast(pa.large_string()) if array.type != pa.large_string() else array
    _, offsets, data = array.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int64)[array.offset : array.offset + len(array) + 1]
    if not len(array):
        return np.zeros((0, width), dtype=np.uint8)
    matrix = np.frombuffer(data, dtype=np.uint8)[bounds[0] : bounds[-1]]
    if matrix.size != len(array) * width:
        raise ValueError(f"every code must be {width} ASCII characters")
    return matrix.reshape(-1, width)


def _uscc_expected(total: np.ndarray) -> np.ndarray:
    return (31 - total % 31) % 31


def _resident_id_expected(total: np.ndarray) -> np.ndarray:
    return _RESIDENT_ID_CHECK_VALUE[total % 11]


def _check_char_matches(
    codes: pl.Series, table: np.ndarray, weights: tuple[int, ...], expected_of: Callable[[np.ndarray], np.ndarray]
) -> pl.Series:
    """Whether each code's last character is the check character of its weighted sum (null stays null)."""
    values = table[_byte_matrix(codes, len(weights) + 1)]
    expected = expected_of(values[:, :-1] @ np.array(weights, dtype=np.int64))
    matches = np.zeros(len(codes), dtype=bool)
    present = codes.is_not_null().to_numpy()
    matches[present] = values[:, -1] == expected
    return pl.Series(codes.name, matches).set(~codes.is_not_null(), None)


def uscc_problem(code: pl.Expr) -> pl.Expr:
    """``uscc_format`` / ``uscc_check`` for a normalised USCC, null when valid or empty."""
    well_formed = code.str.contains(_USCC_PATTERN)
    check_matches = (
        pl.when(well_formed)
        .then(code)
        .map_batches(
            lambda s: _check_char_matches(s, _USCC_BYTE_VALUE, USCC_WEIGHTS, _uscc_expected), return_dtype=pl.Boolean
        )
    )
    return (
        pl.when(code.is_null())
        .then(None)
        .when(~well_formed)
        .then(pl.lit("uscc_format"))
        .when(~check_matches)
        .then(pl.lit("uscc_check"))
        .otherwise(None)
    )


def resident_id_problem(code: pl.Expr, born_by: dt.date | None = None) -> pl.Expr:
    """``resident_id_format`` / ``_birth_date`` / ``_check`` for a normalised resident ID, null when valid or empty.

    The birth date must exist (no 0230), lie on or after 1900-01-01 and, given ``born_by`` (the extraction date),
    not after it: nobody in an extract was born after it was taken. The first six digits are not checked against
    current region codes: they record where the number was first issued, and retired codes remain valid in
    people's IDs.
    """
    well_formed = code.str.contains(_RESIDENT_ID_PATTERN)
    check_matches = (
        pl.when(well_formed)
        .then(code)
        .map_batches(
            lambda s: _check_char_matches(s, _RESIDENT_ID_BYTE_VALUE, RESIDENT_ID_WEIGHTS, _resident_id_expected),
            return_dtype=pl.Boolean,
        )
    )
    birth = code.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    no_birth = birth.is_null() | (birth < pl.date(1900, 1, 1))
    if born_by is not None:
        no_birth = no_birth | (birth > pl.lit(born_by))
    return (
        pl.when(code.is_null())
        .then(None)
        .when(~well_formed)
        .then(pl.lit("resident_id_format"))
        .when(no_birth)
        .then(pl.lit("resident_id_birth_date"))
        .when(~check_matches)
        .then(pl.lit("resident_id_check"))
        .otherwise(None)
    )
