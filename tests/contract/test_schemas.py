"""The pandera models of the accepted tables: generated from the contract, and their value checks really run."""

import datetime as dt
from decimal import Decimal

import pandera.errors
import polars as pl
import pytest

from schemas.accepted import accepted_schema, empty_accepted, value_columns
from schemas.sources import SOURCES
from tests.support.inbox import uscc


def test_one_model_per_source_with_the_accepted_columns_each_described():
    assert [name for name in SOURCES if accepted_schema(name) is not None] == list(SOURCES)
    for name, schema in ((name, accepted_schema(name)) for name in SOURCES):
        assert list(schema.columns) == [*value_columns(SOURCES[name]), "_file", "_line"]
        assert all(column.description for column in schema.columns.values()), name
        assert schema.description


def good_report(**overrides):
    row = {
        "uscc": uscc(1),
        "report_year": 2024,
        "filed_on": dt.date(2025, 3, 1),
        "sales_yuan": Decimal("350000.00"),
        "tax_declared_yuan": Decimal("10.00"),
        "staff_count": 3,
        "has_website": False,
        "_file": "annual_report.csv",
        "_line": 2,
    }
    row.update(overrides)
    return pl.DataFrame([row], schema=empty_accepted("annual_report").schema)


def test_a_valid_table_passes():
    assert accepted_schema("annual_report", dt.date(2025, 7, 31)).validate(good_report()).height == 1


@pytest.mark.parametrize(
    ("overrides", "check"),
    [
        ({"sales_yuan": Decimal("-1.00")}, "greater_than_or_equal_to"),
        ({"uscc": uscc(1)[:-1] + ("0" if uscc(1)[-1] != "0" else "1")}, "uscc_check"),
        ({"filed_on": dt.date(2025, 8, 1)}, "less_than_or_equal_to"),
        ({"report_year": None}, "non-nullable"),
    ],
)
def test_a_bad_value_in_a_collected_frame_is_caught(overrides, check):
    with pytest.raises(pandera.errors.SchemaError, match=check):
        accepted_schema("annual_report", dt.date(2025, 7, 31)).validate(good_report(**overrides))


def test_a_lazy_frame_would_skip_the_value_checks_which_is_why_validate_collects_first():
    bad = good_report(sales_yuan=Decimal("-1.00"))
    assert accepted_schema("annual_report").validate(bad.lazy()).collect().height == 1
    with pytest.raises(pandera.errors.SchemaError):
        accepted_schema("annual_report").validate(bad)


def test_an_unknown_enumeration_value_is_caught():
    frame = empty_accepted("patent").vstack(
        pl.DataFrame(
            [
                {
                    "application_no": "CN1",
                    "patent_kind": "发明",
                    "holder_names": "张三",
                    "holder_address": None,
                    "granted_on": None,
                    "legal_status": "审查中",
                    "_file": "patent.csv",
                    "_line": 2,
                }
            ],
            schema=empty_accepted("patent").schema,
        )
    )
    with pytest.raises(pandera.errors.SchemaError, match="isin"):
        accepted_schema("patent").validate(frame)
