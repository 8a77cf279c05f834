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
