"""名特优新 classification (../shared/spec/classification.md) as data: its inputs, its codes, its standards.

- The six inputs of ``<inbox>/classification/`` as :class:`~schemas.sources.Source` objects, read and
  quarantined by the same readers and row rules as the cycle's extracts (``CLASSIFICATION_SOURCES``).
- The outcomes and every reason code with its Chinese label (``OUTCOMES``, ``REASONS``).
- The classification standard (分类标准) of a province, city or county, ``data/classification/<code>.toml``:
  a pydantic model checked on load; every problem becomes one ``StandardError`` naming the file and the
  indicator (``parse_standard_text``).

No I/O here except reading the closed list of credential types, which is reference data in
``data/classification/credential_types.csv`` (the contract's list, one line each).
"""

from __future__ import annotations

import csv
import tomllib
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import pandera.polars as pa
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from schemas.features import FEATURES
from schemas.problems import refusal
from schemas.sources import PENALTY_KINDS, Column, Kind, Source

# --- reference data: the closed list of credential types ------------------------------------------------

CREDENTIAL_TYPES_FILE = Path(__file__).resolve().parent.parent / "data" / "classification" / "credential_types.csv"


def _credential_types() -> tuple[str, ...]:
    with CREDENTIAL_TYPES_FILE.open(encoding="utf-8", newline="") as stream:
        return tuple(row["credential_type"] for row in csv.DictReader(stream))


#: 证书/荣誉 类型 (classification.md, "Inputs"): an unknown type is quarantined (``enum_unknown``).
CREDENTIAL_TYPES: tuple[str, ...] = _credential_types()
#: 级别 from lowest to highest; "at a minimum level" compares these ranks.
LEVELS: dict[str, int] = {"县": 1, "市": 2, "省": 3, "国家": 4}
#: The extension B credential (000 §二(六) B: 县级以上政府表彰奖励).
GOVERNMENT_HONOUR = "政府表彰"

# --- categories, sources, outcomes and reasons -----------------------------------------------------------

CATEGORIES: tuple[str, ...] = ("知名", "特色", "优质", "新兴")
SELF_APPLIED, RECOMMENDED = "自主申报", "部门推荐"
#: 放宽情形: operators whose businesses may come from 生存型 too (000 §二(四)1, "适当放宽分类来源").
RELAXATIONS: tuple[str, ...] = ("退役军人", "高校毕业生", "残疾人", "返乡创业农民工")
#: 处罚种类 that exclude (罚款 or heavier, 《行政处罚法》第九条); 警告, 通报批评 and 其他 do not.
EXCLUDING_PENALTIES: frozenset[str] = frozenset(PENALTY_KINDS) - {"警告", "通报批评", "其他"}

CANDIDATE, RECOGNISED, REJECTED = "拟认定", "认定", "不予认定"
OUTCOMES: tuple[str, ...] = (CANDIDATE, RECOGNISED, REJECTED)

#: Reason codes of the round, in the order the contract numbers its steps (decisions.csv 原因 keeps this order).
ROUND_REASONS: dict[str, str] = {
    "NOT_IN_POOL": "不在分类来源范围：本年度分型非成长型、发展型（部门推荐或放宽情形可为生存型）",
    "EXCLUDED_PENALTY": "申报之日前2年内有罚款及以上行政处罚，申报之日尚未完成信用修复",
    "EXCLUDED_DEBTOR": "申报之日经营者被人民法院列为失信被执行人",
    "BANNED": "被撤销认定之日起5年内不得再次申报",
    "NO_CONSENT": "部门推荐未事先征得经营者本人同意",
    "ALREADY_RECOGNISED": "已持有有效的名特优新认定",
    "DUPLICATE": "本轮同一户重复申报（以最早一份为准）",
    "BELOW_PASS_MARK": "未达到所申报类别的分类标准合格分",
    "ONE_PER_OPERATOR": "同一经营者在同一县级行政区域内最多一户获得认定",
    "OVER_QUOTA": "超出本名额单位的认定名额",
    "REVIEW_FAILED": "走访核实不属实或公示异议成立",
}
#: Reason codes of the yearly review: cancellations, the flag, extensions, ends.
REVIEW_REASONS: dict[str, str] = {
    "NO_INFO_REPORT": "7月31日前未报送本年度信息报告",
    "NOT_ELIGIBLE": "本年度分型为不符合分型条件（或已不在名录中）",
    "EXCLUDED_PENALTY": "认定后新增罚款及以上行政处罚，尚未完成信用修复",
    "EXCLUDED_DEBTOR": "经营者被人民法院列为失信被执行人",
    "ONE_PER_OPERATOR": "变更后的经营者在同一县级行政区域内已有一户持有有效认定",
    "FELL_TO_SURVIVAL": "本年度分型降为生存型（原则上从成长型、发展型中认定，提示认定部门关注，不取消）",
    "OPERATOR_CHANGED": "经营者变更",
    "EXT_A": "延期情形A：销售额、缴税或吸纳就业较认定时明显增长",
    "EXT_B": "延期情形B：有效期内获得县级以上政府表彰奖励",
    "EXT_C": "延期情形C：分型较认定时提升",
    "EXT_D": "延期情形D：推荐认定且经推荐部门同意延期",
    "EXPIRED": "有效期最后一年评估不符合延期情形，有效期届满",
    "REVOKED": "以欺诈、贿赂等手段取得认定，撤销认定（5年内不得再次申报）",
}
REASONS: dict[str, str] = {**ROUND_REASONS, **REVIEW_REASONS}

#: Status of a recognition (its last event) and the events of the register.
VALID, CANCELLED, REVOKED, EXPIRED = "有效", "取消", "撤销", "期满"
EVENTS: tuple[str, ...] = ("认定", "取消", "撤销", "延期", "期满", "经营者变更")
#: Results of the yearly review (review.csv 结果).
REVIEW_RESULTS: tuple[str, ...] = ("继续有效", "提示关注", "取消认定", "延期", "期满", "撤销")


def _uscc(description: str = "the business's 统一社会信用代码") -> Column:
    return Column(
        "uscc", "统一社会信用代码", Kind.USCC, description, required=True, aliases=("社会信用代码", "信用代码")
    )


APPLICATION = Source(
    name="application",
    label="名特优新申报和推荐",
    department="市场监管",
    required=True,
    key=("application_no",),
    columns=(
        Column("application_no", "申报编号", Kind.TEXT, "the application's number on the 培育平台", required=True),
        _uscc(),
        Column("category", "申报类别", Kind.ENUM, "知名/特色/优质/新兴", required=True, values=CATEGORIES),
        Column("applied_on", "申报日期", Kind.DATE, "date of the application or recommendation", required=True),
        Column("channel", "来源", Kind.ENUM, "自主申报/部门推荐", required=True, values=(SELF_APPLIED, RECOMMENDED)),
        Column("recommender", "推荐部门", Kind.TEXT, "the recommending department; required for 部门推荐"),
        Column("consent", "经营者同意", Kind.FLAG, "the operator consented (部门推荐 needs 是)"),
        Column(
            "relaxation", "放宽情形", Kind.ENUM, "operator group that widens the pool; empty: none", values=RELAXATIONS
        ),
    ),
)

CREDENTIAL = Source(
    name="credential",
    label="证书、荣誉和职称",
    department="相关部门",
    key=("uscc", "credential_type", "certificate_no"),
    columns=(
        _uscc("the holder business's 统一社会信用代码"),
        Column("credential_type", "类型", Kind.ENUM, "closed list (data/classification/credential_types.csv)",
           required=True, values=CREDENTIAL_TYPES),
        Column("level", "级别", Kind.ENUM, "国家/省/市/县", required=True, values=tuple(LEVELS)),
        Column("obtained_on", "取得日期", Kind.DATE, "date obtained", required=True),
        Column("valid_until", "有效期至", Kind.DATE, "last day of validity; empty = no end"),
        Column("issuer", "发证机关", Kind.TEXT, "the issuing authority"),
        Column("certificate_no", "证书编号", Kind.TEXT, "the certificate's number"),
    ),
)  # fmt: skip

DISHONEST_DEBTOR = Source(
    name="dishonest_debtor",
    label="失信被执行人名单",
    department="人民法院",
    key=("person_id", "listed_on"),
    columns=(
        Column("person_name", "姓名", Kind.TEXT, "the debtor's name", required=True),
        Column("person_id", "身份证件号码", Kind.RESIDENT_ID, "the debtor's 身份证件号码 (personal: keyed)",
           required=True, personal=True),
        Column("listed_on", "发布日期", Kind.DATE, "date listed", required=True),
        Column("removed_on", "移除日期", Kind.DATE, "date removed; empty = still listed"),
    ),
)  # fmt: skip

REVIEW = Source(
    name="review",
    label="走访核实和公示异议",
    department="市场监管",
    key=("application_no",),
    columns=(
        Column("application_no", "申报编号", Kind.TEXT, "the application reviewed", required=True),
        Column("visited_on", "走访日期", Kind.DATE, "date of the visit"),
        Column("visit_result", "走访结果", Kind.ENUM, "属实/不属实", required=True, values=("属实", "不属实")),
        Column("objection", "公示异议", Kind.ENUM, "无/成立/不成立", required=True, values=("无", "成立", "不成立")),
        Column("officer", "经办人", Kind.TEXT, "the officer in charge"),
    ),
)

INFO_REPORT = Source(
    name="info_report",
    label="名特优新信息报告",
    department="市场监管",
    key=("uscc", "report_year"),
    columns=(
        _uscc(),
        Column("report_year", "报告年度", Kind.YEAR, "the year reported for (due by 31 July of it)", required=True),
        Column("filed_on", "报送日期", Kind.DATE, "date filed", required=True),
        Column("operator_changed", "经营者变更", Kind.FLAG, "the operator changed"),
        Column("new_operator_id", "新经营者身份证件号码", Kind.RESIDENT_ID, "the new operator (personal: keyed)",
           personal=True),
    ),
)  # fmt: skip

EVENT = Source(
    name="event",
    label="撤销认定和同意延期",
    department="市场监管",
    key=("uscc", "event", "date"),
    columns=(
        _uscc(),
        Column("event", "事件", Kind.ENUM, "撤销/同意延期", required=True, values=("撤销", "同意延期")),
        Column("date", "日期", Kind.DATE, "date of the revocation or the consent", required=True),
        Column("document_no", "文号", Kind.TEXT, "document number"),
    ),
)

#: The classification inputs in contract order: the file stem is the source name, as for extracts.
CLASSIFICATION_SOURCES: dict[str, Source] = {
    s.name: s for s in (APPLICATION, CREDENTIAL, DISHONEST_DEBTOR, REVIEW, INFO_REPORT, EVENT)
}

# --- the classification standard -------------------------------------------------------------------------

#: What an indicator may read besides the typing features: the annual report's 是否有网站或网店.
EXTRA_FEATURES: dict[str, str] = {"has_website": "上一年度年报：是否有网站或网店"}
DEFAULT_QUOTA_SHARE = Decimal("0.05")
DEFAULT_GROWTH_SHARE = Decimal("0.20")
QUOTA_LEVELS = ("province", "city", "county")
#: Digits of a region code at each level.
LEVEL_DIGITS = {"province": 2, "city": 4, "county": 6}
LEVEL_NAMES = {"province": "省级", "city": "市级", "county": "县级"}


class StandardError(ValueError):
    """A classification standard that cannot be used, with a message naming the file and the indicator."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _share(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{name} = {value!r} 不是比例（请写 0 到 1 之间的小数，如 0.05）")
    try:
        share = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{name} = {value!r} 不是数") from None
    if not (share.is_finite() and Decimal(0) < share <= Decimal(1)):
        raise ValueError(f"{name} = {value!r} 不在 0（不含）到 1（含）之间（0.05 即 5%）")
    return share


class Indicator(_Strict):
    """One indicator: what it reads (exactly one of feature / industries / credential) and its points."""

    code: str
    label: str
    points: int = Field(ge=1)
    feature: str | None = None
    at_least: int | str | None = None  # numeric feature: met when the value is at least this
    industries: list[str] | None = None  # GB/T 4754 division (2 digits), group (3) or class (4) prefixes
    credential: str | None = None
    min_level: Literal["县", "市", "省", "国家"] | None = None

    @field_validator("code", "label")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("不能为空")
        return value

    @model_validator(mode="after")
    def _reads_one_thing(self) -> Indicator:
        reads = [n for n in ("feature", "industries", "credential") if getattr(self, n) is not None]
        if len(reads) != 1:
            raise ValueError(f"一个指标只读取 feature、industries、credential 中的一项（这里写了 {len(reads)} 项）")
        if self.feature is not None:
            if self.feature in EXTRA_FEATURES:
                numeric = False
            elif self.feature in FEATURES:
                numeric = FEATURES[self.feature].numeric
            else:
                known = "、".join([*FEATURES, *EXTRA_FEATURES])
                raise ValueError(f"未知的特征 {self.feature!r}；可用的特征：{known}")
            if numeric and self.at_least is None:
                raise ValueError(f"{self.feature} 是数值特征：请给出 at_least（达到即符合）")
            if not numeric and self.at_least is not None:
                raise ValueError(f"{self.feature} 是“是/否”特征：为“是”即符合，不写 at_least")
            if self.at_least is not None:
                try:
                    threshold = Decimal(self.at_least)
                except InvalidOperation:
                    raise ValueError(f"at_least = {self.at_least!r} 不是数") from None
                if not threshold.is_finite() or threshold < 0:
                    raise ValueError(f"at_least = {self.at_least!r} 不能是负数")
        elif self.at_least is not None:
            raise ValueError("at_least 只能和数值特征（feature）一起写")
        if self.industries is not None:
            bad = [c for c in self.industries if not (c.isascii() and c.isdigit() and 2 <= len(c) <= 4)]
            if bad or not self.industries:
                wrong = "、".join(map(repr, bad)) if bad else "空列表"
                raise ValueError(f"industries 应为 2 到 4 位数字的 GB/T 4754 行业代码（前缀），不能是 {wrong}")
        if self.credential is not None and self.credential not in CREDENTIAL_TYPES:
            raise ValueError(
                f"未知的证书/荣誉类型 {self.credential!r}；可用的类型（data/classification/credential_types.csv）："
                f"{'、'.join(CREDENTIAL_TYPES)}"
            )
        if self.min_level is not None and self.credential is None:
            raise ValueError("min_level 只能和 credential（证书/荣誉类型）一起写")
        return self


class Category(_Strict):
    pass_mark: int = Field(ge=1)
    indicators: list[Indicator] = Field(min_length=1)

    @model_validator(mode="after")
    def _reachable(self) -> Category:
        codes = [i.code for i in self.indicators]
        if twice := sorted({c for c in codes if codes.count(c) > 1}):
            raise ValueError(f"指标编号重复使用：{'、'.join(twice)}")
        reachable = sum(i.points for i in self.indicators)
        if self.pass_mark > reachable:
            raise ValueError(f"合格分 pass_mark = {self.pass_mark} 无法达到：全部指标合计只有 {reachable} 分")
        return self


class Quota(_Strict):
    share: Any = DEFAULT_QUOTA_SHARE
    level: Literal["province", "city", "county"] = "county"
    allocations: dict[str, Any] = Field(default_factory=dict)  # unit code -> its own share

    @model_validator(mode="after")
    def _shares(self) -> Quota:
        _share(self.share, "share")
        for code, share in self.allocations.items():
            if not (code.isdigit() and len(code) == LEVEL_DIGITS[self.level]):
                raise ValueError(
                    f"allocations 中的 {code!r} 不是{LEVEL_NAMES[self.level]}行政区划代码"
                    f"（level = {self.level!r}，应为 {LEVEL_DIGITS[self.level]} 位数字）"
                )
            _share(share, f"allocations.{code}")
        return self

    def share_of(self, unit: str) -> Decimal:
        return _share(self.allocations.get(unit, self.share), "share")


class Standard(_Strict):
    """One file: a province's standard, or a city's or a county's override of some categories."""

    id: str
    version: str = Field(pattern=r"^\d{4}\.\d+$")
    region: str = Field(description="the province (2 digits), city (4) or county (6) it covers")
    title: str
    document: str
    source: str = Field(description="where its text was read: the seed file and section")
    quota: Quota | None = None
    growth_share: Any = None
    categories: dict[Literal["知名", "特色", "优质", "新兴"], Category] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _whole(self) -> Standard:
        if not (self.region.isdigit() and len(self.region) in (2, 4, 6)):
            raise ValueError(f"region = {self.region!r} 不是 2、4 或 6 位数字的省、市、县级行政区划代码")
        if self.growth_share is not None:
            _share(self.growth_share, "growth_share")
        if len(self.region) == 2:
            if missing := [c for c in CATEGORIES if c not in self.categories]:
                raise ValueError(f"省级分类标准须包含全部四个类别，缺少：{'、'.join(missing)}")
        else:
            if self.quota is not None:
                raise ValueError("名额（[quota]）只在省级文件中设定；市、县的名额写在省级文件的 quota.allocations 中")
            if not self.categories and self.growth_share is None:
                raise ValueError("市、县文件至少要改写一个类别（[categories.…]）或 growth_share")
        if self.quota is not None:
            for code in self.quota.allocations:
                if not code.startswith(self.region):
                    raise ValueError(f"名额 [quota] 的 allocations 中的 {code} 不在本省 {self.region} 之内")
        return self

    @property
    def name(self) -> str:
        return f"{self.id}-{self.version}"


def _where(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """Where a problem is, in Chinese: ``知名类指标 T（第 1 个 [[categories.知名.indicators]]）的 label``."""
    parts = list(loc)
    if len(parts) >= 2 and parts[0] == "categories" and isinstance(parts[1], str):
        category = parts[1]
        raw = data.get("categories", {})
        raw = raw.get(category, {}) if isinstance(raw, dict) else {}
        if len(parts) >= 4 and parts[2] == "indicators" and isinstance(parts[3], int):
            index = parts[3]
            indicators = raw.get("indicators", []) if isinstance(raw, dict) else []
            entry = indicators[index] if index < len(indicators) and isinstance(indicators[index], dict) else {}
            number = f"第 {index + 1} 个 [[categories.{category}.indicators]]"
            code = entry.get("code")
            where = f"{category}类指标 {code}（{number}）" if isinstance(code, str) and code else number
            rest = parts[4:]
        elif parts[2:3] == ["[key]"]:
            return f"[categories.{category}] 的类别名"
        else:
            where, rest = f"类别 {category}（[categories.{category}]）", parts[2:]
        field = ".".join(map(str, rest))
        return f"{where}的 {field}" if field else where
    if parts[:1] == ["quota"]:
        field = ".".join(map(str, parts[1:]))
        return f"名额 [quota] 的 {field}" if field else "名额 [quota]"
    return ".".join(map(str, parts))


#: What the fields with a pattern hold, for a value that does not match it.
_PATTERN_MEANINGS = {"version": "应为“标准年份.本文件修订号”，如 2024.1"}


def parse_standard(data: dict[str, Any], origin: str) -> Standard:
    """A validated standard from the parsed TOML of ``origin``; its region must be the file's stem."""
    try:
        standard = Standard.model_validate(data)
    except ValidationError as error:
        raise StandardError(refusal(error, origin, lambda loc: _where(loc, data), _PATTERN_MEANINGS)) from None
    stem = Path(origin).stem
    if stem.isdigit() and stem != standard.region:
        raise StandardError(f"{origin}：region = {standard.region!r} 与文件名的行政区划代码 {stem} 不一致")
    return standard


def parse_standard_text(text: str, origin: str) -> Standard:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise StandardError(f"{origin}：不是有效的 TOML（{error}）") from None
    return parse_standard(data, origin)


class Standards:
    """The standards of one province, the most specific covering a region applying (county > city > province)."""

    def __init__(self, files: dict[str, Standard]) -> None:
        provinces = [code for code in files if len(code) == 2]
        if len(provinces) != 1:
            found = "、".join(f"{code}.toml" for code in provinces) or "没有"
            raise StandardError(f"应有且只有一个省级分类标准文件（两位代码，如 41.toml），找到：{found}")
        self.province = provinces[0]
        self.files = files
        base = files[self.province]
        self.quota = base.quota if base.quota is not None else Quota()
        for code in files:
            if not code.startswith(self.province):
                raise StandardError(f"{code}.toml：行政区划 {code} 不在省份 {self.province} 之内")

    def chain(self, region: str) -> list[Standard]:
        """The files covering a county code, least specific first."""
        return [self.files[c] for c in (region[:2], region[:4], region) if c in self.files]

    def category(self, region: str, category: str) -> tuple[Standard, Category]:
        """The category's indicators and pass mark for a business of ``region``, and the file they come from."""
        for standard in reversed(self.chain(region)):
            if category in standard.categories:
                return standard, standard.categories[category]
        raise StandardError(f"没有分类标准文件包含类别 {category}")  # unreachable: the province has all four

    def growth_share(self, region: str) -> Decimal:
        for standard in reversed(self.chain(region)):
            if standard.growth_share is not None:
                return _share(standard.growth_share, "growth_share")
        return DEFAULT_GROWTH_SHARE

    def unit_of(self, region: str) -> str:
        """The quota unit a county belongs to at the quota's level."""
        return region[: LEVEL_DIGITS[self.quota.level]]


#: The typing results from lowest to highest (the same ranks as typing's, repeated here so this module stands
#: alone while the typing modules move): 不符合分型条件 is never in the pool.
TYPE_RANK: dict[str, int] = {"不符合分型条件": 0, "生存型": 1, "成长型": 2, "发展型": 3}
#: The types the pool takes without widening, and that count for the quota base.
DEVELOPMENT_TYPES: tuple[str, ...] = ("成长型", "发展型")


# --- the outputs' checks (pandera), applied before a file is written -------------------------------------

_USCC = pa.Check.str_matches(r"^92[0-9A-Z]{16}$")

#: candidates.csv (公示): public fields only — strict, so a score, money or a key can never slip in.
CANDIDATES = pa.DataFrameSchema(
    {
        "统一社会信用代码": pa.Column(pl.String, _USCC),
        "名称": pa.Column(pl.String, nullable=True),
        "行政区划代码": pa.Column(pl.String, pa.Check.str_matches(r"^\d{6}$")),
        "申报类别": pa.Column(pl.String, pa.Check.isin(CATEGORIES)),
        "分型结果": pa.Column(pl.String, pa.Check.isin(tuple(TYPE_RANK))),
    },
    strict=True,
    ordered=True,
    name="candidates",
)

#: decisions.csv: every application one outcome; reasons exactly when refused, every code known.
DECISIONS = pa.DataFrameSchema(
    {
        "申报编号": pa.Column(pl.String, unique=True),
        "统一社会信用代码": pa.Column(pl.String, _USCC),
        "名称": pa.Column(pl.String, nullable=True),
        "行政区划代码": pa.Column(pl.String, nullable=True),
        "申报类别": pa.Column(pl.String, pa.Check.isin(CATEGORIES)),
        "来源": pa.Column(pl.String, pa.Check.isin((SELF_APPLIED, RECOMMENDED))),
        "分型结果": pa.Column(pl.String, nullable=True),
        "得分": pa.Column(pl.Int32, nullable=True),
        "达标指标": pa.Column(pl.String, nullable=True),
        "结果": pa.Column(pl.String, pa.Check.isin(OUTCOMES)),
        "原因": pa.Column(pl.String, nullable=True),
    },
    checks=[
        pa.Check(
            lambda d: d.lazyframe.select((pl.col("结果") == REJECTED) == pl.col("原因").is_not_null()),
            name="reasons_exactly_when_refused",
        ),
        pa.Check(
            lambda d: d.lazyframe.select(
                pl.col("原因")
                .fill_null("")
                .str.split(";")
                .list.eval(pl.element().is_in(list(ROUND_REASONS)) | (pl.element() == ""))
                .list.all()
            ),
            name="known_reason_codes",
        ),
    ],
    strict=True,
    ordered=True,
    name="decisions",
)
