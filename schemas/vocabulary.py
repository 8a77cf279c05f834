"""The project's vocabulary, each word defined once: business types and their rank, basic-criteria codes and
their Chinese labels, link sources, routes and statuses, and the movements between two cycles."""

from __future__ import annotations

SURVIVAL, GROWTH, DEVELOPMENT = "生存型", "成长型", "发展型"


INELIGIBLE = "不符合分型条件"


#: The four results from lowest to highest: 发展型 > 成长型 > 生存型 (rules.md §2), and below them the
#: business that is not typed at all; a move up or down between two cycles compares these ranks too.
TYPE_RANK = {INELIGIBLE: 0, SURVIVAL: 1, GROWTH: 2, DEVELOPMENT: 3}


#: The four results of typing, in the order outputs.md lists them (manifest ``counts``, report, tables).
BUSINESS_TYPES = (SURVIVAL, GROWTH, DEVELOPMENT, INELIGIBLE)


#: How a linkage record reached a business (rules.md §3), and what became of it.
LINK_ROUTES = ("uscc", "operator_id", "name")


LINK_STATUSES = ("linked", "unlinked", "ambiguous")


LINKED_SOURCES = ("trademark", "patent", "taxpayer")


#: Movements of a business between two cycles of its province (column ``movement`` of ``transitions``).
MOVEMENTS = ("上升", "下降", "不变", "新增", "退出")


#: 分型标准 as every output prints it: ``<id>-<version>``, e.g. ``HA-2024.1``.
RULESET_LABEL_SEPARATOR = "-"


def ruleset_name(ruleset_id: str, version: str) -> str:
    """``<id>-<version>``: the one spelling of a typing standard in outputs, the report and getihu query."""
    return f"{ruleset_id}{RULESET_LABEL_SEPARATOR}{version}"


MIN_AGE = "MIN_AGE"


NO_CONDITION = "NO_CONDITION"


#: What a 生存型 business's one reason code says (docs/architecture.md, "Rulesets").
REASON_LABELS = {
    MIN_AGE: "未满足成长型、发展型的共同要求（成立年限不足）",
    NO_CONDITION: "满足共同要求，但不满足任何成长型或发展型条件",
}


#: The types as the report lists them: highest first.
SHOWN_TYPES = ("发展型", "成长型", "生存型", "不符合分型条件")


#: 登记状态 (extracts.md, registration), each once: the business in force, and those that fail STATUS (rules.md §1) —
#: 吊销, 注销, 撤销, and 迁出 (moved to another registration authority: not typed here).
IN_FORCE = "存续"
NOT_IN_FORCE = ("吊销", "注销", "撤销", "迁出")
REGISTRATION_STATUSES = (IN_FORCE, *NOT_IN_FORCE)


#: The national basic criteria (rules.md §1) as a reader knows them.
CRITERIA_LABELS = {
    "STATUS": f"登记状态非{IN_FORCE}（{'、'.join(NOT_IN_FORCE)}）",
    "ANNUAL_REPORT": "未按期报送报告年度年报",
    "UNMATCHABLE": "无统一社会信用代码，年报未报送注册号，无法匹配",
    "ABNORMAL": "列入经营异常名录",
    "SERIOUS": "列入严重违法失信名单",
    "TAX_ABNORMAL": "税务非正常户",
    "SUSPENDED": "歇业（三年内）",
}


LINK_SOURCE_LABELS = {"trademark": "商标", "patent": "专利", "taxpayer": "纳税人身份"}


LINK_OUTCOME_LABELS = {
    "uscc": "统一社会信用代码",
    "operator_id": "经营者证件",
    "name": "名称",
    "unlinked": "未关联",
    "ambiguous": "多个候选",
}


#: Why a linkage row came out as it did (``transforms.link.DETAILS``), as the handler reads it.
LINK_DETAIL_LABELS = {
    "business_name": "权利人名称与本省唯一一户的名称相同",
    "operator_name": "权利人名称与地址所在县区唯一一名经营者的姓名相同",
    "uscc_not_registered": "该统一社会信用代码不是登记注册信息中的个体工商户",
    "not_an_operator": "该身份证件号码不是任何个体工商户的经营者",
    "operator_several_in_force": "该经营者有多户存续的个体工商户，无法确定是哪一户",
    "operator_none_in_force": "该经营者有多户个体工商户但均非存续，无法确定是哪一户",
    "several_businesses_named": "本省有多户同名个体工商户",
    "several_operators_named": "地址所在县区有多名同名经营者",
    "no_county_in_address": "没有同名个体工商户，地址也未写明本省某一县区",
    "no_name_match": "没有同名个体工商户，地址所在县区也没有同名经营者",
}


STAGE_LABELS = {
    "ingest": "读入",
    "validate": "校验",
    "link": "关联",
    "features": "特征",
    "type": "分型",
    "publish": "发布（至报告生成）",
}


#: Outcomes of a linkage record, in the order the report shows them: linked by each route, then not.
LINK_OUTCOMES = (*LINK_ROUTES, "unlinked", "ambiguous")


TAX_SOURCES = ("taxpayer", "tax_abnormal", "tax_payment")


TAX_ROWS = tuple(f"{source}_rows" for source in TAX_SOURCES)
