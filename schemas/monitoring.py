"""Monitoring (监测分析, issue 20): the figures' names and the 个转企 criterion as data.

The criterion of a 个转企 candidate (个转企培育对象) is not given by the seeds as a number — they ask to guide the
"规模较大、收入可观" 发展型 businesses to become enterprises (001 §一(二); 002 §三) — so it is a province's data:
``data/monitoring/<P>.toml`` (loaded by ``reference.monitoring_for``), checked here when loaded.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from schemas.features import FEATURES
from schemas.vocabulary import BUSINESS_TYPES


class MonitoringConfigError(ValueError):
    """A monitoring file that cannot mean anything: the message names the file and the entry."""


@dataclass(frozen=True)
class Threshold:
    feature: str
    at_least: float
    label: str


@dataclass(frozen=True)
class Conversion:
    """Who is a 个转企 candidate: of ``types``, typed so in the last ``min_yearly_cycles`` yearly cycles in a row,
    meeting any of ``any_of``."""

    label: str
    basis: str
    types: tuple[str, ...]
    min_yearly_cycles: int
    any_of: tuple[Threshold, ...]


#: The warehouse tables of the monitoring figures (one per figure), and the figures' Chinese titles.
MONITORING_TABLES: dict[str, str] = {
    "monitoring_region_types": "各县（市、区）各分型户数，逐期",
    "monitoring_section_types": "各行业门类各分型户数，逐期",
    "monitoring_transitions": "年度分型变动矩阵：上一年度周期分型 × 本年度周期分型",
    "monitoring_survival": "各分型一年后仍存续的户数和比例",
    "monitoring_employment": "各分型吸纳就业：参保人数、年报雇员人数",
    "monitoring_candidates": "个转企培育对象：达到本省门槛的发展型个体工商户",
}


def parse_monitoring_text(text: str, where: str) -> Conversion:
    """The ``[conversion]`` of a monitoring file's ``text``; ``where`` names the file in every error."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise MonitoringConfigError(f"{where}：不是有效的 TOML（{e}）") from None
    section = data.get("conversion")
    if not isinstance(section, dict):
        raise MonitoringConfigError(f"{where}：缺少 [conversion]（个转企培育对象的口径）")
    unknown = set(section) - {"label", "basis", "types", "min_yearly_cycles", "any_of"}
    if unknown:
        raise MonitoringConfigError(f"{where}：[conversion] 中有不认识的键 {'、'.join(sorted(unknown))}")
    for key in ("label", "basis"):
        if not isinstance(section.get(key), str) or not section[key].strip():
            raise MonitoringConfigError(f"{where}：[conversion] 缺少 {key}（中文说明）")
    types = section.get("types")
    if not isinstance(types, list) or not types or any(t not in BUSINESS_TYPES for t in types):
        raise MonitoringConfigError(f"{where}：[conversion] types 须是分型的列表，取值为 {'、'.join(BUSINESS_TYPES)}")
    years = section.get("min_yearly_cycles", 1)
    if not isinstance(years, int) or isinstance(years, bool) or years < 1:
        raise MonitoringConfigError(f"{where}：[conversion] min_yearly_cycles 须是不小于 1 的整数，得到 {years!r}")
    entries = section.get("any_of")
    if not isinstance(entries, list) or not entries:
        raise MonitoringConfigError(f"{where}：[conversion] 至少要有一条 [[conversion.any_of]] 门槛")
    thresholds = []
    for number, entry in enumerate(entries, 1):
        place = f"{where}：第 {number} 条 [[conversion.any_of]]"
        if not isinstance(entry, dict) or set(entry) != {"feature", "at_least", "label"}:
            raise MonitoringConfigError(f"{place} 须有且只有 feature、at_least、label 三个键")
        feature = FEATURES.get(entry["feature"])
        if feature is None or not feature.numeric:
            raise MonitoringConfigError(f"{place}：{entry['feature']!r} 不是数值特征（见 schemas/features.py）")
        value = entry["at_least"]
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise MonitoringConfigError(f"{place}：at_least 须是数值，得到 {value!r}")
        if not isinstance(entry["label"], str) or not entry["label"].strip():
            raise MonitoringConfigError(f"{place}：缺少 label（中文说明）")
        thresholds.append(Threshold(feature.name, float(value), entry["label"]))
    return Conversion(section["label"], section["basis"], tuple(types), years, tuple(thresholds))


#: Chinese meaning of every column of the monitoring tables: the warehouse's column comments and the headers of
#: the xlsx and CSV copies.
COLUMN_LABELS: dict[str, str] = {
    "province": "省级行政区划代码（两位）",
    "cycle_id": "周期编号",
    "as_of": "判定日期",
    "report_year": "报告年度",
    "cycle_kind": "周期类型：yearly 年度分型（7月31日）、extra 临时（加开）分型",
    "region_code": "县级行政区划代码",
    "section": "行业门类字母（? 为行业代码不在 GB/T 4754-2017 中）",
    "business_type": "分型结果（变动矩阵中为本年度周期的分型，空为已退出名录）",
    "businesses": "户数",
    "previous_cycle_id": "上一年度周期编号",
    "previous_type": "上一年度周期的分型（空为新进入名录）",
    "movement": "变动：上升、下降、不变、新增、退出",
    "next_cycle_id": "下一年度周期编号",
    "next_as_of": "下一年度周期判定日期",
    "surviving": "下一年度周期仍存续的户数",
    "closed": "下一年度周期登记状态非存续（注销、吊销、撤销、迁出）的户数",
    "absent": "下一年度周期名录中已没有的户数",
    "survival_rate": "一年后存续率（仍存续户数 ÷ 本期存续户数）",
    "insured": "参保人数：报告年度以单位形式缴纳社保的人数（含经营者本人）合计",
    "insured_employees": "参保雇员人数：同上，不含经营者本人",
    "insuring_businesses": "有单位参保记录的户数",
    "reported_employees": "年报雇员人数合计（报告年度年报所填从业人数减经营者本人）",
    "business_key": "主体键：统一社会信用代码，无统一社会信用代码时为注册号",
    "uscc": "统一社会信用代码",
    "name": "名称",
    "industry": "行业门类大类（如 H62）",
    "yearly_cycles_as_type": "截至本期连续被判为该分型的年度周期数（加开周期计本期）",
    "conditions": "达到的个转企门槛",
    "insured_incl_operator": "报告年度参保人数（含经营者本人）",
    "employees_prev_year": "报告年度年报雇员人数",
}
