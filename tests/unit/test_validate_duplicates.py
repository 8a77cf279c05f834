"""Duplicate keys in validate: the rows whose key hash repeats (``_repeated``) and the model's ``unique`` columns
checked on a whole accepted table (``_check_unique``)."""

import pandera.polars as pa
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.stages.validate import _check_unique, _repeated
from schemas.sources import SOURCES
from tests.unit.test_rows import CONTEXT


@given(st.lists(st.integers(min_value=0, max_value=20), max_size=60))
def test_repeated_hashes_are_found_at_every_position_where_they_occur(values):
    hashes = pl.Series("hash", values, dtype=pl.UInt64)
    assert _repeated(hashes).to_list() == hashes.is_duplicated().arg_true().to_list()


def test_distinct_hashes_have_no_repeats_and_a_hash_three_times_is_found_three_times():
    assert _repeated(pl.Series("hash", [3, 1, 2], dtype=pl.UInt64)).to_list() == []
    assert _repeated(pl.Series("hash", [7, 1, 7, 2, 7], dtype=pl.UInt64)).to_list() == [0, 2, 4]


def test_an_accepted_table_with_a_unique_column_value_twice_is_removed_and_the_model_error_raised(tmp_path):
    registration = SOURCES["registration"]
    accepted = tmp_path / "registration.parquet"
    keys = ["92410100MA0000001X", "92410100MA0000002X", "92410100MA0000001X"]
    pl.DataFrame({"business_key": keys}).write_parquet(accepted)
    with pytest.raises(pa.errors.SchemaError, match="column business_key has a value twice"):
        _check_unique(accepted, registration, CONTEXT)
    assert not accepted.exists()
    pl.DataFrame({"business_key": keys[:2]}).write_parquet(accepted)
    _check_unique(accepted, registration, CONTEXT)
    assert accepted.exists()
