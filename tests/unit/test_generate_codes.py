"""The generator's vectorised codes agree with schemas.codes and python-stdnum, and never repeat."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from schemas.codes import USCC_ALPHABET, resident_id_check_char, uscc_check_char
from synth.codes import ascii_matrix, resident_id_with_check, scramble, strings, uscc_with_check
from synth.people import resident_ids
from synth.world import Plan, World

bodies = st.lists(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17), min_size=1, max_size=40)
digits = st.lists(st.text(alphabet="0123456789", min_size=17, max_size=17), min_size=1, max_size=40)


@given(bodies)
def test_uscc_check_characters_agree_with_the_scalar_and_stdnum(values):
    codes = strings(uscc_with_check(ascii_matrix(values, 17))).to_list()
    assert [c[17] for c in codes] == [uscc_check_char(v) for v in values] == [uscc.calc_check_digit(v) for v in values]


@given(digits)
def test_resident_id_check_characters_agree_with_the_scalar_and_stdnum(values):
    codes = strings(resident_id_with_check(ascii_matrix(values, 17))).to_list()
    assert [c[17] for c in codes] == [resident_id_check_char(v) for v in values]
    assert all(ric.calc_check_digit(c) == c[17] for c in codes)


@settings(max_examples=20)
@given(st.integers(min_value=2, max_value=5_000_000))
def test_scramble_is_a_bijection(modulus):
    numbers = np.arange(min(modulus, 20_000))
    images = scramble(numbers, modulus)
    assert len(np.unique(images)) == len(numbers)
    assert images.min() >= 0 and images.max() < modulus


def test_scramble_works_beyond_64_bit_products():
    numbers = np.array([0, 1, 12_345_678, 31**8 - 1])
    expected = []
    modulus = 31**8
    multiplier = int(modulus * 0.6180339887) | 1
    while np.gcd(multiplier, modulus) != 1:
        multiplier += 2
    expected = [(int(n) * multiplier + multiplier * 7919 % modulus) % modulus for n in numbers]
    assert scramble(numbers, modulus).tolist() == expected


def test_resident_ids_of_distinct_persons_never_repeat_and_carry_the_birth_year():
    world = World(Plan("23", 2025, 1000))
    persons = np.arange(0, 3000)
    years = np.full(3000, 1984)
    ids = resident_ids(world, persons, years).to_list()
    assert len(set(ids)) == 3000
    assert {i[6:10] for i in ids} == {"1984"}
    assert all(ric.calc_check_digit(i) == i[17] for i in ids)
