"""The feature registry: every feature a ruleset may name, its dtype, Chinese label and meaning.

A ruleset may name only these features, and the ``features`` table has exactly these columns after
``business_key``. docs/architecture.md's feature table is generated from this registry (tools/docs.py)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from schemas.sources import MONEY


@dataclass(frozen=True)
class Feature:
    name: str
    dtype: pl.DataType
    label: str  # Chinese, as the warehouse and getihu query show it
    meaning: str  # as docs/architecture.md shows it

    @property
    def numeric(self) -> bool:
        return self.dtype.is_numeric()


#: The registry, in the column order of ``features.parquet``. ``label`` is the Chinese name the warehouse's
#: column comments and ``getihu query`` show; ``meaning`` is what docs/architecture.md's feature table says
#: (generated from here: ``python tools/docs.py``). As of the as-of date `D`, with report year `R` (rules.md v2,
#: Terms: `Y-1` from 30 June of `D`'s year `Y`, else `Y-2`). The ``*_prev_year`` names are kept: they mean `R`.
FEATURES: dict[str, Feature] = {
    f.name: f
    for f in (
        Feature(
            "years_established",
            pl.Int32(),
            "成立年限（整年，至判定日期）",
            "anniversaries of 成立日期 reached on or before `D` (《民法典》: 29 Feb → 28 Feb in a common year)",
        ),
        Feature(
            "status_active",
            pl.Boolean(),
            "登记状态为存续",
            "登记状态 is 存续",
        ),
        Feature(
            "annual_report_filed",
            pl.Boolean(),
            "报告年度年报已按期报送（报告年度后成立视为已报）",
            "report for `R` filed on or before `D` (its latest version by then), or established after `R`; "
            "false when `unmatchable`",
        ),
        Feature(
            "unmatchable",
            pl.Boolean(),
            "无统一社会信用代码，年报未报送注册号，无法匹配",
            "no USCC, and no accepted annual report carries a 注册号, while a report for `R` is due",
        ),
        Feature(
            "on_abnormal_list",
            pl.Boolean(),
            "判定日期在经营异常名录中",
            "经营异常名录 in force on `D`",
        ),
        Feature(
            "on_serious_list",
            pl.Boolean(),
            "判定日期在严重违法失信名单中",
            "严重违法失信名单 in force on `D`",
        ),
        Feature(
            "tax_abnormal",
            pl.Boolean(),
            "判定日期为税务非正常户",
            "非正常户 in force on `D` (linked records only)",
        ),
        Feature(
            "suspended",
            pl.Boolean(),
            "判定日期处于歇业期（自起始日起三年内）",
            "歇业 in force on `D` and `D` on or before the third anniversary of its start",
        ),
        Feature(
            "seasonal",
            pl.Boolean(),
            "季节性经营",
            "季节性经营",
        ),
        Feature(
            "tax_paid_prev_year",
            MONEY,
            "报告年度实缴税款净额（元，含退库，仅税款）",
            "net 实缴金额 with 入库日期 in `R`, refunds included, 税种 with `is_tax` only; 0 with no records",
        ),
        Feature(
            "general_taxpayer",
            pl.Boolean(),
            "判定日期为增值税一般纳税人",
            "一般纳税人 on `D`",
        ),
        Feature(
            "insured_incl_operator",
            pl.Int32(),
            "报告年度以单位名义参保人数（含经营者）",
            "distinct persons with a 单位缴纳 record in `R`",
        ),
        Feature(
            "insured_excl_operator",
            pl.Int32(),
            "报告年度以单位名义参保人数（不含经营者）",
            "the same, the operator excluded",
        ),
        Feature(
            "employees_prev_year",
            pl.Int32(),
            "报告年度雇工人数（年报从业人数减一）",
            "annual report `R` as of `D`: 从业人数 − 1, never below 0; null without a report or when two versions "
            "filed the same day conflict",
        ),
        Feature(
            "sales_prev_year",
            MONEY,
            "报告年度营业额或营业收入（元）",
            "annual report `R` as of `D`: sales, yuan; null without a report or when two versions filed the same "
            "day conflict",
        ),
        Feature(
            "valid_trademarks",
            pl.Int32(),
            "判定日期有效商标数（本户或经营者持有）",
            "trademarks valid on `D`, linked to the business or its operator",
        ),
        Feature(
            "valid_patents",
            pl.Int32(),
            "判定日期有效专利数（本户或经营者持有）",
            "patents valid on `D`, linked to the business or its operator",
        ),
    )
}


#: Value of a feature for a business with no record behind it. Annual-report figures stay null: "no report"
#: is not "zero employees", and a ruleset condition on them is then simply not met.
DEFAULTS: dict[str, object] = {
    "annual_report_filed": False,
    "unmatchable": False,
    "on_abnormal_list": False,
    "on_serious_list": False,
    "tax_abnormal": False,
    "suspended": False,
    "seasonal": False,
    "tax_paid_prev_year": 0,
    "general_taxpayer": False,
    "insured_incl_operator": 0,
    "insured_excl_operator": 0,
    "valid_trademarks": 0,
    "valid_patents": 0,
}
