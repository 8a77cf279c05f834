"""How a confirmed correction enters an accepted table (transforms.objections.corrected), on hand-made rows."""

from __future__ import annotations

import datetime as dt

import polars as pl

from schemas.sources import SOURCES
from transforms.objections import corrected

USCC = "92410922LGU3C9TX72"
OTHER = "92411002MAYBUHGPPP"
LISTED = dt.date(2019, 11, 7)
SCHEMA = {"uscc": pl.String, "reg_no": pl.String, "listed_on": pl.Date, "reason": pl.String, "removed_on": pl.Date}


def table(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def test_a_correction_without_reg_no_replaces_every_version_of_the_episode():
    # the episode delivered twice (with and without 注册号, one version removed after D, one still listed), a second
    # episode of the business and another business's episode on the same day
    accepted = table(
        [
            (USCC, "410922817690324", LISTED, "无法联系", None),
            (USCC, None, LISTED, "无法联系", dt.date(2025, 8, 20)),
            (USCC, "410922817690324", dt.date(2024, 1, 2), "未年报", None),
            (OTHER, None, LISTED, "无法联系", None),
        ]
    )
    correction = table([(USCC, None, LISTED, "无法联系", dt.date(2025, 7, 21))])
    result = corrected(accepted.lazy(), correction, SOURCES["abnormal_list"]).collect()
    assert result.sort("uscc", "listed_on").rows() == [
        (USCC, None, LISTED, "无法联系", dt.date(2025, 7, 21)),
        (USCC, "410922817690324", dt.date(2024, 1, 2), "未年报", None),
        (OTHER, None, LISTED, "无法联系", None),
    ]


def test_a_correction_with_reg_no_replaces_the_episode_delivered_without_it():
    accepted = table([(USCC, None, LISTED, "无法联系", None)])
    correction = table([(USCC, "410922817690324", LISTED, "无法联系", dt.date(2025, 7, 21))])
    result = corrected(accepted.lazy(), correction, SOURCES["abnormal_list"]).collect()
    assert result.rows() == correction.rows()


REG_NO = "410922817690324"


def registration(rows: list[tuple[str, str | None, str | None]]) -> pl.LazyFrame:
    return pl.LazyFrame(rows, schema={"business_key": pl.String, "uscc": pl.String, "reg_no": pl.String}, orient="row")


def test_a_correction_naming_the_uscc_replaces_a_version_matched_only_by_reg_no():
    # the business registered with both codes; its listing delivered with the 注册号 only (extracts.md v2: matched
    # by 注册号); the department confirms it removed before D, naming the USCC. Another business's listing with its
    # own 注册号 on the same day stays.
    businesses = registration([(USCC, USCC, REG_NO), (OTHER, OTHER, "410922817690999")])
    accepted = table([(None, REG_NO, LISTED, "无法联系", None), (None, "410922817690999", LISTED, "无法联系", None)])
    correction = table([(USCC, None, LISTED, "无法联系", dt.date(2025, 7, 21))])
    result = corrected(accepted.lazy(), correction, SOURCES["abnormal_list"], businesses).collect()
    assert result.sort("uscc", nulls_last=True).rows() == [
        (USCC, None, LISTED, "无法联系", dt.date(2025, 7, 21)),
        (None, "410922817690999", LISTED, "无法联系", None),
    ]


def test_a_correction_naming_only_the_reg_no_replaces_the_version_delivered_with_the_uscc():
    businesses = registration([(USCC, USCC, REG_NO)])
    accepted = table([(USCC, None, LISTED, "无法联系", None)])
    correction = table([(None, REG_NO, LISTED, "无法联系", dt.date(2025, 7, 21))])
    result = corrected(accepted.lazy(), correction, SOURCES["abnormal_list"], businesses).collect()
    assert result.rows() == correction.rows()


def test_an_annual_report_matched_only_by_reg_no_is_replaced_by_its_confirmed_version():
    # 年报: the same business, report year and 报送日期 is one version; a confirmed correction replaces it
    businesses = registration([(USCC, USCC, REG_NO)])
    schema = {"uscc": pl.String, "reg_no": pl.String, "report_year": pl.Int32, "filed_on": pl.Date, "staff": pl.Int64}
    filed = dt.date(2025, 5, 10)
    delivered = [(None, REG_NO, 2024, filed, 1), (None, REG_NO, 2023, filed, 1)]
    accepted = pl.DataFrame(delivered, schema=schema, orient="row")
    correction = pl.DataFrame([(USCC, REG_NO, 2024, filed, 6)], schema=schema, orient="row")
    result = corrected(accepted.lazy(), correction, SOURCES["annual_report"], businesses).collect()
    assert sorted(result.rows(), key=lambda r: r[2]) == [(None, REG_NO, 2023, filed, 1), (USCC, REG_NO, 2024, filed, 6)]


def test_a_reg_no_registered_twice_matches_no_business_so_only_the_same_key_is_replaced():
    businesses = registration([(USCC, USCC, REG_NO), (OTHER, OTHER, REG_NO)])
    accepted = table([(None, REG_NO, LISTED, "无法联系", None)])
    correction = table([(USCC, None, LISTED, "无法联系", dt.date(2025, 7, 21))])
    result = corrected(accepted.lazy(), correction, SOURCES["abnormal_list"], businesses).collect()
    assert result.sort("uscc", nulls_last=True).rows() == [*correction.rows(), *accepted.rows()]
