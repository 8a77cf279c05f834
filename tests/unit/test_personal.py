"""Personal IDs keyed, checked and masked before anything is written."""

import datetime as dt
import hashlib
import hmac

import polars as pl

from schemas.sources import KEY_LENGTH, SOURCES
from tests.support.inbox import SECRET, resident_id, uscc
from transforms.personal import Keyer, keyed, keyed_lookup, masked

OPERATOR = SOURCES["registration"].column("operator_id")
TAXPAYER = SOURCES["tax_payment"].column("taxpayer_id")
HOLDER = SOURCES["trademark"].column("holder_id")


def keyed_by_itself(frame, column):
    return keyed(frame, column, keyed_lookup(frame[column.name], column, SECRET)).sort("n")


def key(value: str) -> str:
    return hmac.new(SECRET, value.encode(), hashlib.sha256).hexdigest()[:KEY_LENGTH]


def test_masked_keeps_the_first_six_and_last_two_characters():
    frame = pl.DataFrame({"v": ["11010519491231002X", "12345678", "123456789", None]})
    assert frame.select(masked(pl.col("v")))["v"].to_list() == ["110105**********2X", "********", "123456*89", None]


def test_a_resident_id_becomes_its_key_rule_and_mask_and_the_clear_value_is_gone():
    good, bad = resident_id(1), resident_id(2)[:-1] + ("0" if resident_id(2)[-1] != "0" else "1")
    frame = pl.DataFrame({"operator_id": [f" {good.lower()}", bad, None, good], "n": [1, 2, 3, 4]})
    out = keyed_by_itself(frame, OPERATOR)
    assert "operator_id" not in out.columns
    assert out["n"].to_list() == [1, 2, 3, 4]  # order kept
    assert out["operator_key"].to_list() == [key(good), key(bad), None, key(good)]
    assert out["operator_id_rule"].to_list() == [None, "resident_id_check", None, None]
    assert out["operator_id_masked"].to_list() == [
        good[:6] + "*" * 10 + good[-2:],
        bad[:6] + "*" * 10 + bad[-2:],
        None,
        good[:6] + "*" * 10 + good[-2:],
    ]


def test_a_keyer_bounded_by_the_extraction_date_quarantines_an_id_born_after_it():
    """Issue 13, item 17: ingest keys with the extraction date as the latest birth date an ID may hold."""
    born_later, born_before = resident_id(5, dt.date(2025, 8, 5)), resident_id(6, dt.date(2025, 8, 4))
    frame = pl.DataFrame({"operator_id": [born_later, born_before], "n": [1, 2]})
    out = Keyer(OPERATOR, SECRET, dt.date(2025, 8, 4)).keyed(frame)
    assert out["operator_id_rule"].to_list() == ["resident_id_birth_date", None]
    taxpayers = pl.DataFrame({"taxpayer_id": [born_later + "01", born_before + "01"], "n": [1, 2]})
    out = Keyer(TAXPAYER, SECRET, dt.date(2025, 8, 4)).keyed(taxpayers)
    assert out["taxpayer_key"].to_list() == [None, key(born_before)]  # not taken for a person
    assert out["taxpayer_id_rule"].to_list() == ["taxpayer_id_format", None]


def test_a_taxpayer_id_is_a_uscc_in_clear_or_a_keyed_resident_id_with_its_suffix():
    person, business = resident_id(3), uscc(3)
    ids = [business, person, person + "01", person + "0", "12345", None]
    out = keyed_by_itself(pl.DataFrame({"taxpayer_id": ids, "n": range(6)}), TAXPAYER)
    assert out["taxpayer_uscc"].to_list() == [business, None, None, None, None, None]
    assert out["taxpayer_key"].to_list() == [None, key(person), key(person), None, None, None]
    assert out["taxpayer_suffix"].to_list() == [None, None, "01", None, None, None]
    assert out["taxpayer_id_rule"].to_list() == [None, None, None, "taxpayer_id_format", "taxpayer_id_format", None]


def test_a_holder_id_has_no_suffix():
    person = resident_id(4)
    out = keyed_by_itself(pl.DataFrame({"holder_id": [person, person + "01", uscc(4)], "n": [1, 2, 3]}), HOLDER)
    assert out["holder_key"].to_list() == [key(person), None, None]
    assert out["holder_uscc"].to_list() == [None, None, uscc(4)]
    assert out["holder_id_rule"].to_list() == [None, "party_id_format", None]


def test_a_keyer_gives_each_batch_what_keyed_gives_and_works_out_each_value_once():
    ids = [resident_id(1), f" {resident_id(2)}", None, "12345", uscc(5), resident_id(3) + "01"]
    batches = [[ids[0], ids[1], None], [ids[1], ids[2], ids[3], ids[0]], [ids[4], ids[5], ids[5]], [None]]
    keyer = Keyer(TAXPAYER, SECRET)
    learned = []
    original = keyer._learn
    keyer._learn = lambda new: (learned.extend(new["taxpayer_id"].to_list()), original(new))
    for values in batches:
        frame = pl.DataFrame(
            {"taxpayer_id": values, "n": range(len(values))}, schema_overrides={"taxpayer_id": pl.String}
        )
        assert keyer.keyed(frame).equals(keyed(frame, TAXPAYER, keyed_lookup(frame["taxpayer_id"], TAXPAYER, SECRET)))
    assert sorted(learned) == sorted(v for v in set(ids) if v is not None)


def test_a_keyer_fills_an_id_handed_out_below_the_values_it_holds():
    keyer = Keyer(OPERATOR, SECRET)
    frame = pl.DataFrame({"operator_id": [resident_id(1), resident_id(2)]})
    keyer.keyed(frame)
    # as if Polars had reserved id 0 for another value: forget it and learn it again, below the table's height
    keyer.forms = keyer.forms.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(False).otherwise("_seen").alias("_seen")
    )
    assert keyer.keyed(frame).equals(keyed(frame, OPERATOR, keyed_lookup(frame["operator_id"], OPERATOR, SECRET)))
    assert keyer.forms["_seen"].to_list() == [True, True]
