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
    meaning: str

    @property
    def numeric(self) -> bool:
        return self.dtype.is_numeric()


FEATURES: dict[str, Feature] = {
    f.name: f
    for f in (
        Feature(
            "years_established", pl.Int32(), "whole calendar years n with 成立日期 ≤ D minus n years (29 Feb → 28 Feb)"
        ),
        Feature("status_active", pl.Boolean(), "登记状态 is 存续"),
        Feature("annual_report_filed", pl.Boolean(), "report for Y-1 filed on or before D, or established in Y"),
        Feature("on_abnormal_list", pl.Boolean(), "经营异常名录 in force on D"),
        Feature("on_serious_list", pl.Boolean(), "严重违法失信名单 in force on D"),
        Feature("tax_abnormal", pl.Boolean(), "非正常户 in force on D (linked records only)"),
        Feature("suspended", pl.Boolean(), "歇业 in force on D and within 3 years of its start"),
        Feature("seasonal", pl.Boolean(), "季节性经营"),
        Feature("tax_paid_prev_year", MONEY, "net 实缴金额 with 入库日期 in Y-1, refunds included; 0 with no records"),
        Feature("general_taxpayer", pl.Boolean(), "一般纳税人 on D"),
        Feature("insured_incl_operator", pl.Int32(), "distinct persons with a 单位缴纳 record in Y-1"),
        Feature("insured_excl_operator", pl.Int32(), "the same, the operator excluded"),
        Feature(
            "employees_prev_year", pl.Int32(), "annual report Y-1: 从业人数 − 1, never below 0; null without a report"
        ),
        Feature("sales_prev_year", MONEY, "annual report Y-1 sales, yuan; null without a report"),
        Feature("valid_trademarks", pl.Int32(), "trademarks valid on D, linked to the business or its operator"),
        Feature("valid_patents", pl.Int32(), "patents valid on D, linked to the business or its operator"),
    )
}


#: Value of a feature for a business with no record behind it. Annual-report figures stay null: "no report"
#: is not "zero employees", and a ruleset condition on them is then simply not met.
DEFAULTS: dict[str, object] = {
    "annual_report_filed": False,
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
