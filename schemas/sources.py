"""The input contract (../shared/spec/extracts.md) as data: every source, column, header and rule.

The generator writes these headers, the readers map them, the validators apply the rules:
one definition, so a header or a rule name cannot drift between them.

Canonical column names are English and keep one name per concept through the whole pipeline.
Personal identifiers (``Column.personal``) never leave ingest in clear: they are replaced by a
keyed form (see ``transforms.keys``), named by ``Column.key_name``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

import polars as pl

from schemas.vocabulary import REGISTRATION_STATUSES


class Kind(StrEnum):
    """How a column's text is normalised and checked."""

    TEXT = "text"  # free text: stripped, full-width spaces folded
    USCC = "uscc"  # 统一社会信用代码, GB 32100-2015
    REG_NO = "reg_no"  # legacy 15-digit 注册号
    RESIDENT_ID = "resident_id"  # 身份证件号码, GB 11643 (personal)
    TAXPAYER_ID = "taxpayer_id"  # a USCC, or a resident ID optionally followed by a 2-character suffix
    PARTY_ID = "party_id"  # a holder's USCC or resident ID (trademarks)
    DATE = "date"  # YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD or an .xlsx date cell
    PERIOD = "period"  # YYYYMM or YYYY-MM
    YEAR = "year"  # a four-digit calendar year
    MONEY = "money"  # unit in the header: （元） or （万元）; stored in yuan, Decimal(18, 2)
    COUNT = "count"  # a non-negative whole number
    FLAG = "flag"  # 是/否, Y/N, 1/0
    ENUM = "enum"  # one of Column.values (after Column.value_aliases)
    REGION = "region"  # 6-digit county-level code of the province (data/regions.csv)
    INDUSTRY = "industry"  # GB/T 4754-2017 class, 'H6210' or '6210' (data/industries.csv)
    NICE_CLASS = "nice_class"  # 尼斯分类 1–45


#: Units a money header may carry, with the factor that turns them into yuan.
MONEY_UNITS: dict[str, int] = {"元": 1, "万元": 10_000}


@dataclass(frozen=True)
class Column:
    name: str
    header: str  # the Chinese header; for money columns, without the unit
    kind: Kind
    description: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    values: tuple[str, ...] = ()  # ENUM: the canonical values
    value_aliases: dict[str, str] = field(default_factory=dict)  # ENUM: delivered value -> canonical
    #: ENUM without ``values``: the reference list in ``data/`` (reference/) that holds the values and spellings
    reference_values: str = ""
    negative_allowed: bool = False  # MONEY: refunds (退库) are negative
    not_after_extraction: bool = False  # DATE/YEAR/PERIOD: an event that cannot lie after the extraction date
    personal: bool = False  # personal data: keyed at ingest, never stored in clear
    # a broken value quarantines the field, not the record: the row is accepted with the field null (an empty
    # value of the column means "unknown", never something else, so null tells no untruth)
    field_only: bool = False

    @property
    def key_name(self) -> str:
        """Name of the keyed column that replaces a personal identifier (``operator_id`` → ``operator_key``)."""
        return self.name.removesuffix("_id") + "_key"


@dataclass(frozen=True)
class Source:
    name: str  # file stem: registration.csv, tax_payment_2024_01.csv, ...
    label: str  # Chinese name
    department: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # duplicate key; empty: every row is its own record
    required: bool = False
    #: Rows sharing ``key`` with different content are versions of one listing episode (rules.md, Terms): all
    #: accepted, the episode listed in ``episode_conflicts.parquet``; otherwise such rows are quarantined.
    episodes: bool = False
    #: With ``key``: rows of one key with different content are quarantined and the key is also written to
    #: ``accepted/<source>_conflicts.parquet`` (an annual report filed twice on one day: filed, figures unknown).
    conflicts_table: bool = False

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def required_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)


#: Every rule a row can be quarantined under: name -> what it means (shown to data owners).
#: Dates before this are placeholders, not events (rule ``date_implausible``).
EARLIEST_DATE = dt.date(1949, 10, 1)


RULES: dict[str, str] = {
    "required": "a required value is empty",
    "uscc_format": (
        "统一社会信用代码 is not 18 characters of 0-9 and A-Y without I, O, S, V, Z, with digits in positions 3-8"
    ),
    "uscc_check": "统一社会信用代码 check character is wrong (GB 32100-2015)",
    "uscc_not_individual": "an individual business's 统一社会信用代码 must start with 92",
    "reg_no_format": "注册号 is not 15 digits",
    "resident_id_format": "身份证件号码 is not 17 digits followed by a digit or X",
    "resident_id_birth_date": (
        "身份证件号码 positions 7-14 are not a real birth date (no such day, before 1900, or after the extraction date)"
    ),
    "resident_id_check": "身份证件号码 check digit is wrong (GB 11643)",
    "taxpayer_id_format": (
        "纳税人识别号 is neither a valid 统一社会信用代码 nor a valid 身份证件号码 (+2-character suffix)"
    ),
    "party_id_format": "证件号码 is neither a valid 统一社会信用代码 nor a valid 身份证件号码",
    "date_format": "not a date that exists in YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD",
    "date_after_extraction": "the date lies after the extraction date (inbox.toml extracted_on, else the run's day)",
    # Every dated column (成立日期, 报送日期, 列入/移出日期, 歇业, 处罚, 一般纳税人, 非正常户, 入库, 所属期,
    # 商标, 专利) records an event of the PRC's registers: one before its founding is a placeholder
    # for "unknown" (0001-01-01, 00000101, 1900-01-01), never the event. One bound for all: EARLIEST_DATE.
    "date_implausible": "the date lies before 1949-10-01: a placeholder, not the date of an event",
    "period_format": "not a month in YYYYMM or YYYY-MM",
    "year_format": "not a four-digit year",
    "money_format": "not an amount",
    "money_negative": "a negative amount where only tax amounts may be negative",
    "count_format": "not a whole number of 0 or more",
    "flag_format": "not one of 是/否, Y/N, 1/0",
    "enum_unknown": "not one of the values the contract lists for this column",
    "region_format": "行政区划代码 is not 6 digits",
    "region_outside_province": "行政区划代码 does not belong to this province",
    "region_unknown": "行政区划代码 is not a county-level code of this province",
    "industry_format": "行业代码 is not a GB/T 4754-2017 class like H6210 or 6210",
    "industry_unknown": "行业代码's division or section letter is not in GB/T 4754-2017",
    "nice_class_unknown": "国际分类 is not a Nice class from 1 to 45",
    "duplicate_conflict": "another row has the same key with different content",
}


def _c(name: str, header: str, kind: Kind, description: str, **kw) -> Column:
    return Column(name=name, header=header, kind=kind, description=description, **kw)


_USCC_ALIASES = ("社会信用代码", "信用代码")


def _business_uscc(description: str = "the business's 统一社会信用代码; required unless 注册号 is given") -> Column:
    return _c("uscc", "统一社会信用代码", Kind.USCC, description, aliases=_USCC_ALIASES)


def _business_reg_no() -> Column:
    """注册号 in a source keyed by 统一社会信用代码: how a legacy business without a USCC is matched (v2)."""
    return _c("reg_no", "注册号", Kind.REG_NO, "legacy 15-digit 注册号 of the business", aliases=("原注册号",))


REGISTRATION = Source(
    name="registration",
    label="登记注册信息",
    department="市场监管",
    required=True,
    key=("uscc", "reg_no"),
    columns=(
        _c(
            "uscc",
            "统一社会信用代码",
            Kind.USCC,
            "统一社会信用代码; required unless 注册号 is given",
            aliases=_USCC_ALIASES,
        ),
        _c("reg_no", "注册号", Kind.REG_NO, "legacy 15-digit 注册号", aliases=("原注册号",)),
        _c(
            "name",
            "名称",
            Kind.TEXT,
            "字号名称; many individual businesses have none",
            aliases=("字号名称", "个体工商户名称"),
        ),
        _c("operator_name", "经营者姓名", Kind.TEXT, "经营者姓名", required=True, aliases=("经营者",)),
        _c(
            "operator_id",
            "经营者身份证件号码",
            Kind.RESIDENT_ID,
            "经营者身份证件号码 (personal: keyed)",
            required=True,
            personal=True,
            aliases=("经营者证件号码", "经营者身份证号码"),
        ),
        _c("org_form", "组成形式", Kind.ENUM, "组成形式", values=("个人经营", "家庭经营")),
        _c(
            "industry_code",
            "行业代码",
            Kind.INDUSTRY,
            "GB/T 4754-2017 行业代码, as registered",
            required=True,
            aliases=("国民经济行业代码",),
        ),
        _c(
            "region_code",
            "行政区划代码",
            Kind.REGION,
            "county-level 行政区划代码",
            required=True,
            aliases=("区划代码", "所属行政区划代码"),
        ),
        _c("established_on", "成立日期", Kind.DATE, "成立日期", required=True, not_after_extraction=True),
        _c(
            "status",
            "登记状态",
            Kind.ENUM,
            "登记状态",
            required=True,
            values=REGISTRATION_STATUSES,
            value_aliases={
                "在营": "存续",
                "开业": "存续",
                "在册": "存续",
                "在业": "存续",
                "存续（在营、开业、在册）": "存续",
                "存续(在营、开业、在册)": "存续",
                "吊销未注销": "吊销",
                "吊销，未注销": "吊销",
                "吊销,未注销": "吊销",
            },
            aliases=("经营状态",),
        ),
        _c("seasonal", "季节性经营", Kind.FLAG, "季节性经营; empty means 否"),
        _c("address", "经营场所", Kind.TEXT, "经营场所"),
        _c("capital_yuan", "资金数额", Kind.MONEY, "资金数额, in yuan"),
    ),
)

ANNUAL_REPORT = Source(
    name="annual_report",
    label="年度报告",
    department="市场监管",
    key=("uscc", "reg_no", "report_year", "filed_on"),
    conflicts_table=True,
    columns=(
        _business_uscc(),
        _business_reg_no(),
        _c(
            "report_year",
            "报告年度",
            Kind.YEAR,
            "the year reported on",
            required=True,
            not_after_extraction=True,
            aliases=("年报年度",),
        ),
        _c("filed_on", "报送日期", Kind.DATE, "date the report was filed", required=True, not_after_extraction=True),
        _c(
            "sales_yuan",
            "营业额或营业收入",
            Kind.MONEY,
            "sales or operating revenue of the report year, in yuan",
            aliases=("营业额", "营业收入"),
            field_only=True,
        ),
        _c(
            "tax_declared_yuan",
            "纳税总额",
            Kind.MONEY,
            "total tax the business declared for the report year",
            field_only=True,
        ),
        _c(
            "staff_count",
            "从业人数",
            Kind.COUNT,
            "people working in the business, the operator included",
            aliases=("从业人员",),
            field_only=True,
        ),
        _c("has_website", "是否有网站或网店", Kind.FLAG, "has a website or online shop", field_only=True),
    ),
)

ABNORMAL_LIST = Source(
    name="abnormal_list",
    label="经营异常名录",
    department="市场监管",
    key=("uscc", "reg_no", "listed_on"),
    episodes=True,
    columns=(
        _business_uscc(),
        _business_reg_no(),
        _c("listed_on", "列入日期", Kind.DATE, "date listed", required=True, not_after_extraction=True),
        _c("reason", "列入原因", Kind.TEXT, "reason for listing"),
        _c("removed_on", "移出日期", Kind.DATE, "date removed; empty = still listed", not_after_extraction=True),
    ),
)

SERIOUS_LIST = Source(
    name="serious_list",
    label="严重违法失信名单",
    department="市场监管",
    key=("uscc", "reg_no", "listed_on"),
    episodes=True,
    columns=(
        _business_uscc(),
        _business_reg_no(),
        _c("listed_on", "列入日期", Kind.DATE, "date listed", required=True, not_after_extraction=True),
        _c(
            "removed_on",
            "移出日期",
            Kind.DATE,
            "date removed after credit repair; empty = still listed",
            not_after_extraction=True,
        ),
    ),
)

SUSPENSION = Source(
    name="suspension",
    label="歇业备案",
    department="市场监管",
    key=("uscc", "reg_no", "suspended_from"),
    episodes=True,
    columns=(
        _business_uscc(),
        _business_reg_no(),
        _c("suspended_from", "歇业起始日期", Kind.DATE, "suspension start", required=True, not_after_extraction=True),
        _c("suspended_until", "歇业截止日期", Kind.DATE, "filed end of the suspension (may lie in the future)"),
        _c(
            "resumed_on",
            "终止歇业日期",
            Kind.DATE,
            "date the business resumed early; empty = not filed",
            not_after_extraction=True,
        ),
    ),
)

#: 处罚种类 (《行政处罚法》第九条), lightest first; 名特优新 excludes 罚款 and every kind after it (classification.md).
PENALTY_KINDS = (
    "警告",
    "通报批评",
    "罚款",
    "没收违法所得",
    "没收非法财物",
    "暂扣许可证件",
    "降低资质等级",
    "吊销许可证件",
    "限制开展生产经营活动",
    "责令停产停业",
    "责令关闭",
    "限制从业",
    "行政拘留",
    "其他",
)

PENALTY = Source(
    name="penalty",
    label="行政处罚",
    department="市场监管",
    key=("uscc", "reg_no", "decision_no"),
    columns=(
        _business_uscc(),
        _business_reg_no(),
        _c("decision_no", "决定书文号", Kind.TEXT, "decision number", required=True),
        _c("decided_on", "处罚决定日期", Kind.DATE, "decision date", required=True, not_after_extraction=True),
        _c(
            "penalty_kind",
            "处罚种类",
            Kind.ENUM,
            "kind of penalty (《行政处罚法》第九条)",
            values=PENALTY_KINDS,
        ),
        _c("amount_yuan", "罚没金额", Kind.MONEY, "amount fined or confiscated, in yuan"),
        _c(
            "repaired_on",
            "信用修复日期",
            Kind.DATE,
            "date credit repair completed; empty = not repaired",
            not_after_extraction=True,
        ),
    ),
)


def _taxpayer_id() -> Column:
    return _c(
        "taxpayer_id",
        "纳税人识别号",
        Kind.TAXPAYER_ID,
        "the business's USCC or the operator's resident ID (+2-character suffix); personal when an ID",
        required=True,
        personal=True,
        aliases=("税号", "纳税人识别号/统一社会信用代码"),
    )


TAXPAYER = Source(
    name="taxpayer",
    label="纳税人信息",
    department="税务",
    key=("taxpayer_id",),
    columns=(
        _taxpayer_id(),
        _c("taxpayer_name", "纳税人名称", Kind.TEXT, "taxpayer name"),
        _c(
            "general_from",
            "一般纳税人登记日期",
            Kind.DATE,
            "registered as general VAT taxpayer; empty = small-scale",
            not_after_extraction=True,
        ),
        _c(
            "general_until",
            "一般纳税人注销日期",
            Kind.DATE,
            "general-taxpayer status ended (转登记)",
            not_after_extraction=True,
        ),
    ),
)

TAX_ABNORMAL = Source(
    name="tax_abnormal",
    label="非正常户",
    department="税务",
    key=("taxpayer_id", "declared_on"),
    episodes=True,
    columns=(
        _taxpayer_id(),
        _c("declared_on", "认定日期", Kind.DATE, "date declared 非正常户", required=True, not_after_extraction=True),
        _c("lifted_on", "解除日期", Kind.DATE, "date lifted; empty = still abnormal", not_after_extraction=True),
    ),
)


TAX_PAYMENT = Source(
    name="tax_payment",
    label="税款入库明细",
    department="税务",
    key=(),  # two identical payments on one day are two payments
    columns=(
        _taxpayer_id(),
        _c(
            "tax_kind",
            "税种",
            Kind.ENUM,
            "tax (or surcharge, fund, premium) paid; values and spellings: data/tax_kinds.csv",
            required=True,
            reference_values="tax_kinds",
        ),
        _c("period_from", "税款所属期起", Kind.DATE, "tax period start", not_after_extraction=True),
        _c("period_to", "税款所属期止", Kind.DATE, "tax period end"),
        _c(
            "paid_on",
            "入库日期",
            Kind.DATE,
            "date the payment reached the treasury",
            required=True,
            not_after_extraction=True,
        ),
        _c(
            "amount_yuan",
            "实缴金额",
            Kind.MONEY,
            "amount paid, in yuan; negative for refunds (退库)",
            required=True,
            negative_allowed=True,
            aliases=("实缴税额", "入库金额"),
        ),
    ),
)

SOCIAL_SECURITY = Source(
    name="social_security",
    label="社保缴费明细",
    department="人力资源社会保障",
    key=("employer_uscc", "person_id", "insurance", "contribution_month", "payment_mode"),
    columns=(
        _c(
            "employer_uscc",
            "单位统一社会信用代码",
            Kind.USCC,
            "employer's USCC (the business)",
            required=True,
            aliases=("单位社会信用代码", "缴费单位统一社会信用代码"),
        ),
        _c(
            "person_id",
            "个人身份证件号码",
            Kind.RESIDENT_ID,
            "insured person's resident ID (personal: keyed)",
            required=True,
            personal=True,
            aliases=("公民身份号码", "个人证件号码"),
        ),
        _c(
            "insurance",
            "险种",
            Kind.ENUM,
            "insurance",
            required=True,
            values=("企业职工基本养老保险", "失业保险", "工伤保险", "职工基本医疗保险"),
        ),
        _c(
            "contribution_month",
            "费款所属期",
            Kind.PERIOD,
            "contribution month",
            required=True,
            not_after_extraction=True,
        ),
        _c(
            "payment_mode",
            "缴费方式",
            Kind.ENUM,
            "paid in the employer's name (单位缴纳) or by the person",
            required=True,
            values=("单位缴纳", "个人缴纳"),
        ),
        _c("amount_yuan", "缴费金额", Kind.MONEY, "amount, in yuan"),
    ),
)

TRADEMARK = Source(
    name="trademark",
    label="商标",
    department="知识产权",
    key=("trademark_no",),
    columns=(
        _c(
            "trademark_no", "注册号", Kind.TEXT, "trademark registration number", required=True, aliases=("商标注册号",)
        ),
        _c(
            "holder_name",
            "注册人名称",
            Kind.TEXT,
            "holder: a business name or a person's name",
            required=True,
            aliases=("注册人",),
        ),
        _c("holder_id", "注册人证件号码", Kind.PARTY_ID, "holder's USCC or resident ID; often empty", personal=True),
        _c("holder_address", "注册人地址", Kind.TEXT, "holder's address"),
        _c("nice_class", "国际分类", Kind.NICE_CLASS, "Nice class"),
        _c("registered_on", "注册日期", Kind.DATE, "registration date", required=True, not_after_extraction=True),
        _c("protected_until", "专用权期限截止日期", Kind.DATE, "end of protection (may lie in the future)"),
        _c(
            "trademark_status",
            "商标状态",
            Kind.ENUM,
            "trademark status",
            required=True,
            values=("注册", "无效", "注销", "撤销"),
        ),
    ),
)

PATENT = Source(
    name="patent",
    label="专利",
    department="知识产权",
    key=("application_no",),
    columns=(
        _c("application_no", "申请号", Kind.TEXT, "application number", required=True),
        _c("patent_kind", "专利类型", Kind.ENUM, "patent type", required=True, values=("发明", "实用新型", "外观设计")),
        _c("holder_names", "专利权人", Kind.TEXT, "holder name(s), several separated by ';' or '；'", required=True),
        _c("holder_address", "专利权人地址", Kind.TEXT, "first holder's address"),
        _c("granted_on", "授权公告日", Kind.DATE, "grant date", not_after_extraction=True),
        _c("legal_status", "法律状态", Kind.ENUM, "legal status", required=True, values=("有效", "失效", "无效")),
    ),
)

#: All sources in the order extracts.md lists them.
SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        REGISTRATION,
        ANNUAL_REPORT,
        ABNORMAL_LIST,
        SERIOUS_LIST,
        SUSPENSION,
        PENALTY,
        TAXPAYER,
        TAX_ABNORMAL,
        TAX_PAYMENT,
        SOCIAL_SECURITY,
        TRADEMARK,
        PATENT,
    )
}


def header_for(column: Column, unit: str = "元") -> str:
    """The header a department writes for a column: money headers carry their unit, e.g. ``实缴金额（元）``."""
    if column.kind is Kind.MONEY:
        if unit not in MONEY_UNITS:
            raise ValueError(f"unknown money unit {unit!r}; expected one of {sorted(MONEY_UNITS)}")
        return f"{column.header}（{unit}）"
    return column.header


MONEY = pl.Decimal(18, 2)


KEY_LENGTH = 32  # hex characters


def uscc_name(column: Column) -> str:
    """Where an ID that turned out to be a USCC is kept in clear (``taxpayer_id`` → ``taxpayer_uscc``)."""
    return column.name.removesuffix("_id") + "_uscc"


def suffix_name(column: Column) -> str:
    return column.name.removesuffix("_id") + "_suffix"


def rule_name(column: Column) -> str:
    return f"{column.name}_rule"


def masked_name(column: Column) -> str:
    return f"{column.name}_masked"


def kept_columns(column: Column) -> tuple[str, ...]:
    """The columns that carry a personal identifier downstream, in place of ``column.name``."""
    if column.kind is Kind.RESIDENT_ID:
        return (column.key_name,)
    if column.kind is Kind.TAXPAYER_ID:
        return (uscc_name(column), column.key_name, suffix_name(column))
    if column.kind is Kind.PARTY_ID:
        return (uscc_name(column), column.key_name)
    raise ValueError(f"{column.name} is not a personal identifier")
