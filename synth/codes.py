"""Millions of valid codes at once: USCCs, resident IDs, 注册号 and patent application numbers.

The check characters follow ``schemas.codes`` (same alphabets and weights); this module only computes
them over whole numpy arrays, because the scalar functions there cost microseconds per code and the
generator makes tens of millions. ``tests/unit/test_generate_codes.py`` proves both agree.

Codes are built as ``(n, width)`` byte matrices and turned into a Polars string column in one step.
Every code that must be unique is derived from a unique number through :func:`scramble`, a bijection,
so uniqueness holds by construction across chunks without remembering what was issued.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from schemas.codes import RESIDENT_ID_CHECK_CHARS, RESIDENT_ID_WEIGHTS, USCC_ALPHABET, USCC_WEIGHTS

_USCC_BYTES = np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)
_USCC_VALUE = np.full(256, -1, dtype=np.int64)
_USCC_VALUE[_USCC_BYTES] = np.arange(len(USCC_ALPHABET))
_RESIDENT_CHECK_BYTES = np.frombuffer(RESIDENT_ID_CHECK_CHARS.encode(), dtype=np.uint8)
_ZERO = ord("0")


def scramble(numbers: np.ndarray, modulus: int) -> np.ndarray:
    """A bijection of ``[0, modulus)`` onto itself, so consecutive numbers give unrelated-looking codes.

    Multiplying by a number near the golden section of the modulus, coprime with it, spreads neighbours
    far apart (Fibonacci hashing) and is one-to-one.
    """
    multiplier = int(modulus * 0.6180339887) | 1
    while math.gcd(multiplier, modulus) != 1:
        multiplier += 2
    numbers = numbers.astype(np.int64)
    if modulus >= 2**45 or (numbers.size and (numbers.min() < 0 or numbers.max() >= modulus)):
        raise ValueError(f"numbers must lie in [0, {modulus}) and the space below 2**45")
    # (x·m) mod M in 64 bits: split m = high·2^k + low so no partial product overflows
    shift = 62 - modulus.bit_length()
    high, low = divmod(multiplier, 1 << shift)
    product = (((numbers * high) % modulus) << shift) % modulus + numbers * low
    return (product + (multiplier * 7919) % modulus) % modulus


def strings(matrix: np.ndarray) -> pl.Series:
    """A ``(n, width)`` matrix of ASCII bytes as a Polars string column."""
    matrix = np.ascontiguousarray(matrix, dtype=np.uint8)
    return pl.Series(matrix.view(f"S{matrix.shape[1]}").ravel()).cast(pl.String)


def ascii_matrix(values: np.ndarray | list[str], width: int) -> np.ndarray:
    """Fixed-width ASCII strings as a ``(n, width)`` byte matrix."""
    return np.asarray(values, dtype=f"S{width}").view(np.uint8).reshape(-1, width)


def digits(numbers: np.ndarray, width: int, base: int = 10) -> np.ndarray:
    """The ``width`` lowest digits of each number in ``base``, most significant first, as an ``(n, width)`` array."""
    numbers = numbers.astype(np.int64)
    powers = base ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (numbers[:, None] // powers[None, :]) % base


def decimal_matrix(numbers: np.ndarray, width: int) -> np.ndarray:
    """Numbers as zero-padded decimal ASCII, ``(n, width)``."""
    return (digits(numbers, width) + _ZERO).astype(np.uint8)


def uscc_with_check(body: np.ndarray) -> np.ndarray:
    """17-character USCC bodies (byte matrix) with their GB 32100-2015 check character appended."""
    values = _USCC_VALUE[body]
    if (values < 0).any():
        raise ValueError("a USCC body contains a character outside the code alphabet")
    total = values @ np.asarray(USCC_WEIGHTS, dtype=np.int64)
    check = _USCC_BYTES[(31 - total % 31) % 31]
    return np.hstack([body, check[:, None]])


def base31(numbers: np.ndarray, width: int) -> np.ndarray:
    """Numbers written in the USCC alphabet, ``(n, width)`` bytes."""
    return _USCC_BYTES[digits(numbers, width, 31)]


def resident_id_with_check(body: np.ndarray) -> np.ndarray:
    """17-digit resident-ID bodies (byte matrix) with their GB 11643 check character appended."""
    total = (body.astype(np.int64) - _ZERO) @ np.asarray(RESIDENT_ID_WEIGHTS, dtype=np.int64)
    return np.hstack([body, _RESIDENT_CHECK_BYTES[total % 11][:, None]])


def reg_no_with_check(body: np.ndarray) -> np.ndarray:
    """14-digit 注册号 bodies with their ISO 7064 MOD 11,10 check digit (GB 12... as registries issue them)."""
    product = np.full(body.shape[0], 10, dtype=np.int64)
    for position in range(body.shape[1]):
        total = (product + body[:, position].astype(np.int64) - _ZERO) % 10
        total[total == 0] = 10
        product = (total * 2) % 11
    check = (11 - product) % 10
    return np.hstack([body, (check + _ZERO).astype(np.uint8)[:, None]])


_PATENT_WEIGHTS = np.array([2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5], dtype=np.int64)
_PATENT_CHECK = np.frombuffer(b"0123456789X", dtype=np.uint8)


def patent_application_numbers(year: np.ndarray, kind: np.ndarray, serial: np.ndarray) -> pl.Series:
    """CNIPA application numbers ``YYYYKNNNNNNN.C``: year, type (1 发明, 2 实用新型, 3 外观设计), serial, check."""
    body = np.hstack([decimal_matrix(year, 4), decimal_matrix(kind, 1), decimal_matrix(serial, 7)])
    check = _PATENT_CHECK[((body.astype(np.int64) - _ZERO) @ _PATENT_WEIGHTS) % 11]
    dot = np.full((body.shape[0], 1), ord("."), dtype=np.uint8)
    return strings(np.hstack([body, dot, check[:, None]]))
