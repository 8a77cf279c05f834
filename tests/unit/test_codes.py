"""Check characters of USCCs and resident IDs, against python-stdnum as the oracle."""

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from schemas.codes import (
    USCC_ALPHABET,
    normalised_code,
    normalised_codes,
    resident_id_check_char,
    resident_id_problem,
    uscc_check_char,
    uscc_problem,
)

uscc_bodies = st.builds(
    lambda head, region, org: head + region + org,
    st.text(alphabet=USCC_ALPHABET, min_size=2, max_size=2),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9),
)
resident_id_bodies = st.builds(
    lambda region, birth, seq: region + birth.strftime("%Y%m%d") + seq,
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.dates(min_value=__import__("datetime").date(1900, 1, 1), max_value=__import__("datetime").date(2010, 12, 31)),
    st.text(alphabet="0123456789", min_size=3, max_size=3),
)


def problems(expr_fn, values):
    return pl.DataFrame({"v": values}, schema={"v": pl.String}).select(expr_fn(pl.col("v")).alias("v"))["v"].to_list()


@given(uscc_bodies)
def test_uscc_check_char_agrees_with_stdnum(body):
    assert uscc_check_char(body) == uscc.calc_check_digit(body)


@given(resident_id_bodies)
def test_resident_id_check_char_agrees_with_stdnum(body):
    assert resident_id_check_char(body) == ric.calc_check_digit(body + "0")


@settings(max_examples=50)
@given(st.lists(uscc_bodies, min_size=1, max_size=50))
def test_uscc_problem_accepts_every_valid_code_and_rejects_a_wrong_check(bodies):
    valid = [b + uscc_check_char(b) for b in bodies]
    wrong = [b + USCC_ALPHABET[(USCC_ALPHABET.index(uscc_check_char(b)) + 1) % 31] for b in bodies]
    assert problems(uscc_problem, valid) == [None] * len(valid)
    assert problems(uscc_problem, wrong) == ["uscc_check"] * len(wrong)


@settings(max_examples=50)
@given(st.lists(resident_id_bodies, min_size=1, max_size=50))
def test_resident_id_problem_accepts_every_valid_id_and_rejects_a_wrong_check(bodies):
    valid = [b + resident_id_check_char(b) for b in bodies]
    wrong = [b + ("1" if resident_id_check_char(b) != "1" else "2") for b in bodies]
    assert problems(resident_id_problem, valid) == [None] * len(valid)
    assert problems(resident_id_problem, wrong) == ["resident_id_check"] * len(wrong)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("91110000600037341L", None),  # a real company's code (GB 32100 example)
        (None, None),
        ("91110000600037341", "uscc_format"),  # 17 characters
        ("91110000600037341I", "uscc_format"),  # I is not in the alphabet
        ("911100006000373410", "uscc_check"),
        ("92AB0000600037341L", "uscc_format"),  # region positions 3-8 must be digits
    ],
)
def test_uscc_problem_names_the_rule(value, rule):
    assert problems(uscc_problem, [value]) == [rule]


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("11010519491231002X", None),  # GB 11643 example
        ("11010519491231002", "resident_id_format"),
        ("1101051949123100AX", "resident_id_format"),
        ("11010519490230002X", "resident_id_birth_date"),  # 30 February
        ("11010518991231002X", "resident_id_birth_date"),  # before 1900
        ("110105194912310021", "resident_id_check"),
        # first six digits of a retired region code are still a valid ID
        ("11010319491231002" + resident_id_check_char("11010319491231002"), None),
    ],
)
def test_resident_id_problem_names_the_rule(value, rule):
    assert problems(resident_id_problem, [value]) == [rule]


def test_a_resident_id_born_after_the_extraction_date_breaks_its_birth_date_rule():
    """Issue 13, item 17: an ID born after the extract was taken cannot be real; the day itself is allowed."""
    extracted = dt.date(2025, 8, 4)
    on_the_day = "11010520250804002" + resident_id_check_char("11010520250804002")
    next_day = "11010520250805002" + resident_id_check_char("11010520250805002")
    far = "11010520990101002" + resident_id_check_char("11010520990101002")
    values = [on_the_day, next_day, far]
    bounded = pl.DataFrame({"v": values}).select(resident_id_problem(pl.col("v"), extracted).alias("r"))["r"].to_list()
    assert bounded == [None, "resident_id_birth_date", "resident_id_birth_date"]
    assert problems(resident_id_problem, values) == [None, None, None]  # without a bound (objections, classify)


def test_normalised_code_folds_full_width_case_and_spaces():
    assert problems(normalised_code, ["  ９１１１００００６０００３７３４１ｌ ", "\u3000", "", None]) == [
        "91110000600037341L",
        None,
        None,
        None,
    ]


@settings(max_examples=200)
@given(st.lists(st.one_of(st.none(), st.text(alphabet="0123456789AXaxＡ９-/. \u3000\u00a0", max_size=20))))
def test_normalised_codes_is_normalised_code_with_a_fast_path_for_values_already_normal(values):
    series = pl.Series("code", values, dtype=pl.String)
    expected = series.to_frame().select(normalised_code(pl.col("code"))).to_series()
    assert normalised_codes(series).to_list() == expected.to_list()
