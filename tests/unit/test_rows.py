"""Row rules on a few inline rows: several broken columns, duplicates, registration's identity rule."""

import datetime as dt

import polars as pl

from schemas.sources import SOURCES
from tests.support.inbox import uscc
from transforms.validate import (
    Context,
    checked,
    conflict_entries,
    deduplicated,
    episode_conflicts,
    key_text_columns,
    rule_entries,
    valid_rows,
)

CONTEXT = Context(extracted_on=dt.date(2025, 8, 5), province="41", regions=("410105",), sections={"62": "H"})
SERIOUS = SOURCES["serious_list"]
REPORT = SOURCES["annual_report"]


def serious_rows(rows):
    return pl.DataFrame(
        rows,
        schema={
            "_file": pl.String,
            "_line": pl.Int64,
            "uscc": pl.String,
            "listed_on": pl.String,
            "removed_on": pl.String,
        },
        orient="row",
    )


def run(frame, source=SERIOUS):
    undelivered = [c for c in key_text_columns(source) if c not in frame.columns]  # 注册号: not in these files
    frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in undelivered)
    checked_rows = checked(frame, source, CONTEXT)
    result = deduplicated(valid_rows(checked_rows, source), source)
    conflicting = frame.join(result.conflicting, on=["_file", "_line"]).select(
        "_file", "_line", *key_text_columns(source)
    )
    quarantine = pl.concat([rule_entries(checked_rows, source), conflict_entries(conflicting, source)])
    return result.accepted, quarantine.sort("file", "line", "column", "rule"), result.collapsed


def test_a_row_breaking_two_columns_gives_two_entries_and_is_one_quarantined_row():
    accepted, quarantine, _ = run(
        serious_rows([("a.csv", 2, "x", "2024-13-01", None), ("a.csv", 3, uscc(1), "2024-01-01", None)])
    )
    assert quarantine.select("line", "column", "rule").rows() == [
        (2, "listed_on", "date_format"),
        (2, "uscc", "uscc_format"),
    ]
    assert accepted["_line"].to_list() == [3]


def test_identical_duplicates_collapse_into_the_earliest_row_even_across_files():
    rows = [
        ("b.csv", 2, uscc(1), "2024-01-01", None),
        ("a.csv", 5, uscc(1), "20240101", ""),  # the same content, written differently
        ("a.csv", 7, uscc(1), "2024-01-01", None),
    ]
    accepted, quarantine, collapsed = run(serious_rows(rows))
    assert accepted.select("_file", "_line").rows() == [("a.csv", 5)]
    assert collapsed.sort("_file", "_line").rows() == [("a.csv", 7), ("b.csv", 2)]
    assert quarantine.height == 0


def report_rows(rows):
    columns = ("_file", "_line", "uscc", "report_year", "filed_on", "staff_count")
    frame = pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String) | {"_line": pl.Int64}, orient="row")
    return frame.with_columns(pl.lit(1, pl.Int64).alias(f"_factor_{m}") for m in ("sales_yuan", "tax_declared_yuan"))


def test_conflicting_duplicates_quarantine_every_row_of_the_key():
    """An annual report filed twice on one day with different content: both quarantined, the key listed."""
    rows = [
        ("a.csv", 2, uscc(1), "2024", "2025-05-01", "3"),
        ("a.csv", 3, uscc(1), "2024", "2025-05-01", "4"),
        ("a.csv", 4, uscc(1), "2024", "2025-05-01", "3"),
        ("a.csv", 5, uscc(2), "2024", "2025-05-01", "3"),
    ]
    accepted, quarantine, collapsed = run(report_rows(rows), REPORT)
    assert quarantine.select("line", "column", "value", "rule").rows() == [
        (line, "uscc+reg_no+report_year+filed_on", f"{uscc(1)}++2024+2025-05-01", "duplicate_conflict")
        for line in (2, 3, 4)
    ]
    assert accepted["_line"].to_list() == [5]
    assert collapsed.height == 0


def test_amended_annual_reports_filed_on_different_days_are_all_accepted_as_versions():
    """Finding 2 (validation half): a corrected report is a version, not a duplicate; v1 quarantined both."""
    rows = [
        ("a.csv", 2, uscc(1), "2024", "2025-03-01", "3"),
        ("a.csv", 3, uscc(1), "2024", "2025-06-20", "5"),  # the correction
        ("a.csv", 4, uscc(1), "2024", "2025-08-02", "6"),  # filed after D (31 July): accepted, not yet filed on D
    ]
    accepted, quarantine, collapsed = run(report_rows(rows), REPORT)
    assert accepted["_line"].to_list() == [2, 3, 4]
    assert quarantine.height == 0 and collapsed.height == 0


def test_same_day_report_conflicts_are_listed_as_keys_for_the_features():
    rows = [
        ("a.csv", 2, uscc(1), "2024", "2025-05-01", "3"),
        ("a.csv", 3, uscc(1), "2024", "2025-05-01", "4"),
        ("a.csv", 4, uscc(1), "2024", "2025-04-01", "4"),
    ]
    checked_rows = checked(report_rows(rows).with_columns(reg_no=pl.lit(None, pl.String)), REPORT, CONTEXT)
    result = deduplicated(valid_rows(checked_rows, REPORT), REPORT)
    assert result.accepted["_line"].to_list() == [4]
    assert result.conflict_keys.rows() == [(uscc(1), None, 2024, dt.date(2025, 5, 1), 2)]


def test_listing_episodes_with_different_ends_are_all_accepted_and_listed():
    """Rules.md v2: the same episode (business, 列入日期) with different 移出日期 is resolved against the business,
    so every version is kept; identical copies still collapse. v1 quarantined all of them."""
    rows = [
        ("a.csv", 2, uscc(1), "2024-01-01", None),
        ("a.csv", 3, uscc(1), "2024-01-01", "2024-06-01"),
        ("a.csv", 4, uscc(1), "2024-01-01", None),  # a copy of line 2
        ("a.csv", 5, uscc(2), "2024-01-01", None),
    ]
    accepted, quarantine, collapsed = run(serious_rows(rows))
    assert quarantine.height == 0
    assert accepted["_line"].to_list() == [2, 3, 5]
    assert collapsed.rows() == [("a.csv", 4)]
    checked_rows = checked(serious_rows(rows).with_columns(reg_no=pl.lit(None, pl.String)), SERIOUS, CONTEXT)
    keys = deduplicated(valid_rows(checked_rows, SERIOUS), SERIOUS).conflict_keys
    assert episode_conflicts(keys, SERIOUS).rows() == [("serious_list", uscc(1), dt.date(2024, 1, 1), 2)]


def test_registration_needs_a_uscc_unless_it_has_a_reg_no():
    registration = SOURCES["registration"]
    base = {
        "_file": "r.csv",
        "name": None,
        "operator_name": "张三",
        "operator_key": "0" * 32,
        "operator_id_rule": None,
        "operator_id_masked": "410105**********11",
        "org_form": None,
        "industry_code": "6210",
        "region_code": "410105",
        "established_on": "2020-01-01",
        "status": "存续",
        "seasonal": None,
        "address": None,
        "capital_yuan": None,
        "_factor_capital_yuan": 10_000,
    }
    frame = pl.DataFrame(
        [
            base | {"_line": 2, "uscc": None, "reg_no": "410105000000001"},
            base | {"_line": 3, "uscc": " ", "reg_no": None},
        ]
    ).with_columns(pl.exclude("_line", "_factor_capital_yuan").cast(pl.String))
    accepted, quarantine, _ = run(frame, registration)
    assert accepted.select("business_key", "uscc", "_line").rows() == [("410105000000001", None, 2)]
    assert quarantine.select("line", "column", "rule").rows() == [(3, "uscc", "required")]


def test_a_uscc_delivered_with_and_without_its_reg_no_is_one_business_in_conflict():
    registration = SOURCES["registration"]
    base = {
        "_file": "r.csv",
        "uscc": uscc(1),
        "name": None,
        "operator_name": "张三",
        "operator_key": "0" * 32,
        "operator_id_rule": None,
        "operator_id_masked": "410105**********11",
        "org_form": None,
        "industry_code": "6210",
        "region_code": "410105",
        "established_on": "2020-01-01",
        "status": "存续",
        "seasonal": None,
        "address": None,
        "capital_yuan": None,
        "_factor_capital_yuan": 1,
    }
    frame = pl.DataFrame(
        [base | {"_line": 2, "reg_no": None}, base | {"_line": 3, "reg_no": "410105000000001"}]
    ).with_columns(pl.exclude("_line", "_factor_capital_yuan").cast(pl.String))
    accepted, quarantine, _ = run(frame, registration)
    assert accepted.height == 0
    assert quarantine.select("line", "column", "value", "rule").rows() == [
        (2, "uscc+reg_no", f"{uscc(1)}+", "duplicate_conflict"),
        (3, "uscc+reg_no", f"{uscc(1)}+410105000000001", "duplicate_conflict"),
    ]
