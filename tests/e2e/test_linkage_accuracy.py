"""The linkage measurement itself: a wrong link is counted as wrong, a missed one lowers recall."""

from __future__ import annotations

import polars as pl

from bench.linkage_accuracy import accuracy, keyed_tax_records
from transforms.keys import person_key

SECRET = b"test-secret"


def test_tax_records_of_the_truth_become_the_keyed_identities_linkage_uses():
    person = "410311198712180061"  # a valid resident ID that also passes as a USCC: a person, as ingest keys it
    key = pl.select(person_key(pl.lit(person), SECRET)).item()
    truth = pl.DataFrame(
        {
            "source": ["tax_payment", "taxpayer", "tax_payment", "tax_payment"],
            "record": ["92410105MA00000013", person + "01", person + "01", person.lower()],
            "business_key": ["B1", "B2", "B2", "B2"],
            "attributable": [True, True, True, True],
        }
    )
    assert keyed_tax_records(truth, SECRET).sort("record").rows() == sorted(
        [
            ("taxpayer", "92410105MA00000013", "B1", True),
            ("taxpayer", f"{key}/01", "B2", True),
            ("taxpayer", key, "B2", True),
        ],
        key=lambda r: r[1],
    )


def test_precision_and_recall_count_wrong_guessed_and_missed_links():
    linkage = pl.DataFrame(
        {
            "source": ["trademark"] * 4,
            "record": ["T1", "T2", "T3", "T4"],
            "business_key": ["B1", "B9", "B3", None],
            "status": ["linked", "linked", "linked", "ambiguous"],
        }
    )
    truth = pl.DataFrame(
        {
            "source": ["trademark"] * 5,
            "record": ["T1", "T2", "T3", "T4", "T5"],
            "business_key": ["B1", "B2", "B3", "B4", "B5"],
            "attributable": [True, True, False, False, True],
        }
    )
    table, wrong = accuracy(linkage, truth)
    row = table.row(0, named=True)
    assert (row["linked"], row["true"], row["true_not_attributable"], row["wrong"]) == (3, 2, 1, 1)
    assert (row["attributable"], row["found"]) == (3, 1)  # T1 found; T2 linked to the wrong business; T5 missed
    assert wrong.rows() == [("trademark", "T2", "B9")]
