"""Check characters of the two national codes, as scalars (to make codes) and as Polars expressions (to check millions).

- 统一社会信用代码 (USCC), GB 32100-2015: 18 characters; the 18th is a mod-31 check over the first 17.
- 公民身份号码 (resident ID), GB 11643-1999: 17 digits, a birth date at positions 7–14, a mod-11 check digit.

The expressions return the name of the first rule a value breaks (see ``schemas.sources.RULES``), or null
when it is valid or empty, so a validator can turn them straight into quarantine rows.
"""

from __future__ import annotations

import polars as pl

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


def _weighted_sum(values: list[pl.Expr], weights: tuple[int, ...]) -> pl.Expr:
    return pl.sum_horizontal([v * w for v, w in zip(values, weights, strict=True)])


def uscc_problem(code: pl.Expr) -> pl.Expr:
    """``uscc_format`` / ``uscc_check`` for a normalised USCC, null when valid or empty."""
    values = [code.str.slice(i, 1).replace_strict(_USCC_VALUE, default=None, return_dtype=pl.Int32) for i in range(18)]
    expected = (31 - _weighted_sum(values[:17], USCC_WEIGHTS) % 31) % 31
    return (
        pl.when(code.is_null())
        .then(None)
        .when(~code.str.contains(_USCC_PATTERN))
        .then(pl.lit("uscc_format"))
        .when(values[17] != expected)
        .then(pl.lit("uscc_check"))
        .otherwise(None)
    )


def resident_id_problem(code: pl.Expr) -> pl.Expr:
    """``resident_id_format`` / ``_birth_date`` / ``_check`` for a normalised resident ID, null when valid or empty.

    The first six digits are not checked against current region codes: they record where the number was
    first issued, and retired codes remain valid in people's IDs.
    """
    digits = [code.str.slice(i, 1).cast(pl.Int32, strict=False) for i in range(17)]
    check_index = _weighted_sum(digits, RESIDENT_ID_WEIGHTS) % 11
    expected = check_index.replace_strict(dict(enumerate(RESIDENT_ID_CHECK_CHARS)), return_dtype=pl.String)
    birth = code.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    return (
        pl.when(code.is_null())
        .then(None)
        .when(~code.str.contains(_RESIDENT_ID_PATTERN))
        .then(pl.lit("resident_id_format"))
        .when(birth.is_null() | (birth < pl.date(1900, 1, 1)))
        .then(pl.lit("resident_id_birth_date"))
        .when(code.str.slice(17, 1) != expected)
        .then(pl.lit("resident_id_check"))
        .otherwise(None)
    )
