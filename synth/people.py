"""Persons and businesses as codes and names: resident IDs, USCCs, 注册号, person and business names."""

from __future__ import annotations

import numpy as np
import polars as pl

from synth import vocab
from synth.codes import (
    ascii_matrix,
    base31,
    decimal_matrix,
    reg_no_with_check,
    resident_id_with_check,
    scramble,
    strings,
    uscc_with_check,
)
from synth.world import World

_SURNAMES = np.array([s for s, _ in vocab.SURNAMES])
_SURNAME_P = np.array([w for _, w in vocab.SURNAMES]) / sum(w for _, w in vocab.SURNAMES)
_GIVEN = np.array(list(vocab.GIVEN_CHARS))
_RESERVED = np.array(list(vocab.RESERVED_GIVEN_CHARS))
_TRADE = np.array(list(vocab.TRADE_CHARS))
USCC_SINCE = np.datetime64("2016-10-01")  # individual businesses got USCCs from October 2016


def resident_ids(world: World, persons: np.ndarray, birth_years: np.ndarray) -> pl.Series:
    """The resident ID of each person number: the number fixes region, birthday and serial, so IDs never repeat.

    The birth year is free (it follows the person's age), which keeps the mapping one-to-one.
    """
    code = scramble(persons, world.person_capacity)
    region = code // (365 * 1000)
    day_of_year = (code // 1000) % 365
    serial = code % 1000
    birth = (birth_years.astype(np.int64) - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    birth = birth + day_of_year.astype("timedelta64[D]")
    month_start = birth.astype("datetime64[M]")
    ymd = (
        (month_start.astype("datetime64[Y]").astype(np.int64) + 1970) * 10_000
        + (month_start.astype(np.int64) % 12 + 1) * 100
        + (birth - month_start.astype("datetime64[D]")).astype(np.int64)
        + 1
    )
    body = np.hstack([ascii_matrix(world.id_regions[region], 6), decimal_matrix(ymd, 8), decimal_matrix(serial, 3)])
    return strings(resident_id_with_check(body))


def person_names(rng: np.random.Generator, n: int) -> pl.Series:
    """Ordinary Chinese names: a common surname and one or two common given-name characters (they collide)."""
    surname = rng.choice(_SURNAMES, size=n, p=_SURNAME_P)
    first = rng.choice(_GIVEN, size=n)
    second = np.where(rng.random(n) < 0.72, rng.choice(_GIVEN, size=n), "")
    return pl.Series(np.char.add(np.char.add(surname, first), second))


def reserved_person_names(numbers: np.ndarray) -> pl.Series:
    """Names no ordinary operator carries (compound surname, reserved characters), one per number < 10·n²."""
    given = len(_RESERVED)
    if (numbers >= len(vocab.COMPOUND_SURNAMES) * given * given).any():
        raise ValueError("not enough reserved names")
    surname = np.array(vocab.COMPOUND_SURNAMES)[numbers // (given * given)]
    return pl.Series(
        np.char.add(np.char.add(surname, _RESERVED[(numbers // given) % given]), _RESERVED[numbers % given])
    )


def trade_names(world: World, businesses: np.ndarray) -> pl.Series:
    """A three-character 字号 per business number, one-to-one, so no two businesses share a name by chance."""
    size = len(_TRADE)
    code = scramble(businesses, world.trade_capacity)
    return pl.Series(
        np.char.add(np.char.add(_TRADE[code // (size * size)], _TRADE[(code // size) % size]), _TRADE[code % size])
    )


def usccs(businesses: np.ndarray, authority_regions: np.ndarray, established: np.ndarray) -> pl.Series:
    """Individual-business USCCs: ``92``, the registering authority's region, a 9-character 主体标识码, a check.

    Codes issued since October 2016 carry ``MA`` + 7 characters; older businesses that were given one on
    conversion carry ``L`` + 8. Both derive one-to-one from the business number.
    """
    n = len(businesses)
    new = base31(scramble(businesses, 31**7), 7)
    old = base31(scramble(businesses, 31**8), 8)
    ma = np.tile(np.frombuffer(b"MA", dtype=np.uint8), (n, 1))
    letter_l = np.full((n, 1), ord("L"), dtype=np.uint8)
    org = np.where((established >= USCC_SINCE)[:, None], np.hstack([ma, new]), np.hstack([letter_l, old]))
    head = np.tile(np.frombuffer(b"92", dtype=np.uint8), (n, 1))
    body = np.hstack([head, ascii_matrix(authority_regions, 6), org])
    return strings(uscc_with_check(body))


def reg_nos(businesses: np.ndarray, authority_regions: np.ndarray) -> pl.Series:
    """Legacy 15-digit 注册号: authority region, a serial whose first digit 6–9 marks an individual business, check."""
    serial = scramble(businesses, 40_000_000) + 60_000_000
    body = np.hstack([ascii_matrix(authority_regions, 6), decimal_matrix(serial, 8)])
    return strings(reg_no_with_check(body))
