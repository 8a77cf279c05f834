import hashlib
import hmac

import polars as pl
import pytest

from schemas.sources import KEY_LENGTH
from transforms.keys import person_key

SECRET = b"test-secret"


def person_keys(ids: pl.Series, secret: bytes) -> pl.Series:
    """Every value of ``ids`` keyed (nulls stay null), through the expression the pipeline uses."""
    return pl.DataFrame([ids.alias("id")]).select(person_key(pl.col("id"), secret))["id"].alias(ids.name)


def reference_key(value: str, secret: bytes = SECRET) -> str:
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:KEY_LENGTH]


def test_keys_are_truncated_hmac_sha256():
    ids = pl.Series("operator_id", ["11010519491231002X", "110105194912310021", None, "11010519491231002X"])
    keys = person_keys(ids, SECRET)
    assert keys.to_list() == [reference_key(ids[0]), reference_key(ids[1]), None, reference_key(ids[0])]
    assert keys.name == "operator_id"


def test_a_long_secret_is_hashed_first_as_rfc_2104_says():
    secret = b"s" * 100
    assert person_keys(pl.Series(["x"]), secret)[0] == reference_key("x", secret)


def test_another_secret_gives_other_keys():
    ids = pl.Series(["11010519491231002X"])
    assert person_keys(ids, b"one")[0] != person_keys(ids, b"two")[0]


def test_an_empty_secret_is_refused():
    with pytest.raises(ValueError, match="secret"):
        person_key(pl.col("x"), b"")


def test_expression_form_keys_inside_a_frame():
    frame = pl.DataFrame({"person_id": ["a", "b", "a"]})
    out = frame.select(person_key(pl.col("person_id"), SECRET).alias("person_key"))
    assert out["person_key"].to_list() == [reference_key("a"), reference_key("b"), reference_key("a")]
