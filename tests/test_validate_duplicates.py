"""The search for rows whose duplicate-key hash repeats (``flows.validate._repeated``)."""

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from flows.validate import _repeated


@given(st.lists(st.integers(min_value=0, max_value=20), max_size=60))
def test_repeated_hashes_are_found_at_every_position_where_they_occur(values):
    hashes = pl.Series("hash", values, dtype=pl.UInt64)
    assert _repeated(hashes).to_list() == hashes.is_duplicated().arg_true().to_list()


def test_distinct_hashes_have_no_repeats_and_a_hash_three_times_is_found_three_times():
    assert _repeated(pl.Series("hash", [3, 1, 2], dtype=pl.UInt64)).to_list() == []
    assert _repeated(pl.Series("hash", [7, 1, 7, 2, 7], dtype=pl.UInt64)).to_list() == [0, 2, 4]
