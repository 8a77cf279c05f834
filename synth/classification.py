"""A realistic 名特优新 classification inbox for a generated province, with the truth beside it.

``write_classification(inbox, province, year, seed, register)`` reads the generated cycle inbox of ``year`` (its
``registration.csv`` and the ground truth's intended features, typed with the province's ruleset) and writes, before
the cycle runs, as the departments would deliver them:

- ``<inbox>/classification/``: ``application.csv`` (applications from a few percent of 成长型/发展型 businesses,
  recommendations — some from 生存型, a few without consent — and 放宽情形), ``credential.csv``,
  ``dishonest_debtor.csv``, ``review.csv`` (most 属实/无, some 不属实 or an upheld objection), and for the register's
  later years ``info_report.csv`` (some late, some missing, a few operator changes) and ``event.csv`` (consents to
  extend, a revocation);
- ``<inbox>/penalty_mtyx.csv``: penalties planted inside and just outside the 2-year window, 警告 vs 罚款, repaired
  and not (the cycle's own source, a second file of it);
- ``<inbox>/registration_mtyx.csv``: a second business of an applicant's operator in the same county (young, so
  生存型; recommended with consent), so the one-per-operator rule has something to choose;
- ``<inbox>.classification-truth/cases.csv``: every planted case — application or recognition, the case, the code
  the round or review must give (``expect``) or must not (``expect_not``).

Repairs dated after the application cannot be delivered: the cycle's penalty extract stops at 31 July and
quarantines later dates (``date_after_extraction``); that boundary is covered by the unit tests.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from reference import ruleset_for
from transforms.business_types import business_types

CATEGORY_CREDENTIAL = {
    "知名": ("商标品牌知名", "县"),
    "特色": ("绿色食品", "省"),
    "优质": ("老字号", "县"),
    "新兴": None,
}
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def uscc_with_check(body: str) -> str:
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return body + _USCC_CHARS[(31 - total % 31) % 31]


def resident_id(region: str, born: dt.date, serial: int) -> str:
    body = f"{region}{born:%Y%m%d}{serial % 1000:03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def _shift(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _businesses(inbox: Path, province: str) -> pl.DataFrame:
    """Registered businesses with their intended type: uscc, operator, county, industry, status, type."""
    truth = inbox.parent / f"{inbox.name}.truth" / "facts.parquet"
    # the truth has no business the generator could not match (every legacy row carries its 注册号), and a business
    # established after D is not typed in that cycle
    facts = pl.read_parquet(truth).filter(~pl.col("established_after_as_of")).with_columns(unmatchable=pl.lit(False))
    typed = business_types(facts.lazy(), ruleset_for(province)).collect().select("business_key", "business_type")
    registration = pl.read_csv(inbox / "registration.csv", infer_schema=False, encoding="utf8-lossy")
    columns = {
        "统一社会信用代码": "uscc",
        "名称": "name",
        "经营者姓名": "operator_name",
        "经营者身份证件号码": "operator_id",
        "行业代码": "industry_code",
        "行政区划代码": "region_code",
        "登记状态": "status",
    }
    registration = registration.rename({k.lstrip("\ufeff"): k for k in registration.columns if k.startswith("\ufeff")})
    registration = registration.rename({c: n for c, n in columns.items() if c in registration.columns})
    return (
        registration.select(list(columns.values()))
        .filter(pl.col("uscc").is_not_null() & pl.col("uscc").str.starts_with("92"))
        .unique("uscc", keep="first")
        .join(typed, left_on="uscc", right_on="business_key", how="inner")
        .sort("uscc")
    )


def write_classification(
    inbox: Path, province: str, year: int, seed: int = 0, register: pl.DataFrame | None = None, share: float = 0.04
) -> Path:
    """Write the classification inbox of ``year`` into ``inbox`` (see the module); return the truth folder."""
    rng = np.random.default_rng([seed, year, 16])
    businesses = _businesses(inbox, province)
    as_of = dt.date(year, 7, 31)
    active = businesses.filter(pl.col("status").is_in(["存续", "在营", "开业", "在册"]))
    # the planted penalty cases need applicants without penalties of their own in the cycle's extract
    penalised = pl.read_csv(inbox / "penalty.csv", infer_schema=False)["统一社会信用代码"].drop_nulls()
    pool = active.filter(
        pl.col("business_type").is_in(["成长型", "发展型"]) & ~pl.col("uscc").is_in(penalised.implode())
    )
    survival = active.filter(pl.col("business_type") == "生存型")
    ineligible = businesses.filter(pl.col("business_type") == "不符合分型条件")
    n = max(int(pool.height * share), 16)
    # half the applicants from the three counties with the most 成长型/发展型, so that quotas bind there
    busiest = pool.group_by("region_code").agg(pl.len()).sort("len", "region_code", descending=True).head(3)
    crowded = pool.filter(pl.col("region_code").is_in(busiest["region_code"].implode()))
    first = crowded.sample(min(n // 2, crowded.height), seed=int(rng.integers(1 << 31)))
    rest = pool.join(first, on="uscc", how="anti")
    second = rest.sample(min(n - first.height, rest.height), seed=int(rng.integers(1 << 31)))
    chosen = pl.concat([first, second]).sort("uscc").to_dicts()

    apps: list[dict] = []
    credentials: list[dict] = []
    penalties: list[dict] = []
    debtors: list[dict] = []
    reviews: list[dict] = []
    cases: list[dict] = []
    extra_registrations: list[dict] = []

    def applied_on() -> dt.date:
        return dt.date(year, 8, 16) + dt.timedelta(days=int(rng.integers(0, 31)))

    def apply(b: dict, case: str, **kw) -> dict:
        number = f"MT{year}{province}{len(apps) + 1:05d}"
        category = kw.pop("category", None) or str(rng.choice(["知名", "特色", "优质", "新兴"]))
        app = {
            "申报编号": number,
            "统一社会信用代码": b["uscc"],
            "申报类别": category,
            "申报日期": kw.pop("on", None) or applied_on(),
            "来源": kw.pop("channel", "自主申报"),
            "推荐部门": kw.pop("recommender", None),
            "经营者同意": kw.pop("consent", None),
            "放宽情形": kw.pop("relaxation", None),
        }
        apps.append(app)
        wanted = CATEGORY_CREDENTIAL[category]
        if wanted and (kw.pop("credential", None) or rng.random() < 0.85):
            credentials.append(
                {
                    "统一社会信用代码": b["uscc"],
                    "类型": wanted[0],
                    "级别": wanted[1],
                    "取得日期": _shift(as_of, -int(rng.integers(1, 6))),
                    "有效期至": None,
                    "发证机关": "县人民政府" if wanted[1] == "县" else "省农业农村厅",
                    "证书编号": f"Z{year}{len(credentials) + 1:06d}",
                }
            )
        roll = rng.random()
        visit, objection = ("不属实", "无") if roll < 0.03 else ("属实", "成立") if roll < 0.05 else ("属实", "无")
        reviews.append(
            {
                "申报编号": number,
                "走访日期": app["申报日期"] + dt.timedelta(days=20),
                "走访结果": visit,
                "公示异议": objection,
                "经办人": "张科员",
            }
        )
        if case:
            cases.append({"record": number, "uscc": b["uscc"], "case": case, **kw})
        return app

    def penalty(b: dict, decided: dt.date, kind: str, repaired: dt.date | None = None) -> None:
        penalties.append(
            {
                "统一社会信用代码": b["uscc"],
                "决定书文号": f"市监罚〔{decided.year}〕M{len(penalties) + 1:04d}号",
                "处罚决定日期": decided,
                "处罚种类": kind,
                "罚没金额（元）": "2000.00" if kind == "罚款" else "0.00",
                "信用修复日期": repaired,
            }
        )

    planted = [
        "penalty_inside",
        "penalty_outside",
        "warning_inside",
        "repaired_before",
        "debtor",
        "debtor_removed",
        "duplicate",
        "twin",
    ]
    for i, b in enumerate(chosen):
        case = planted[i] if i < len(planted) else ""
        on = applied_on()
        if case == "penalty_inside":
            penalty(b, _shift(on, -2), "罚款")
            apply(b, case, on=on, expect="EXCLUDED_PENALTY")
        elif case == "penalty_outside":
            penalty(b, _shift(on, -2) - dt.timedelta(days=1), "罚款")
            apply(b, case, on=on, expect_not="EXCLUDED_PENALTY")
        elif case == "warning_inside":
            penalty(b, _shift(on, -1), "警告")
            apply(b, case, on=on, expect_not="EXCLUDED_PENALTY")
        elif case == "repaired_before":
            penalty(b, _shift(on, -1), "罚款", as_of)
            apply(b, case, on=on, expect_not="EXCLUDED_PENALTY")
        elif case == "debtor":
            debtors.append({"姓名": b["operator_name"], "身份证件号码": b["operator_id"],
                            "发布日期": dt.date(year - 1, 3, 1), "移除日期": None})  # fmt: skip
            apply(b, case, on=on, expect="EXCLUDED_DEBTOR")
        elif case == "debtor_removed":
            debtors.append({"姓名": b["operator_name"], "身份证件号码": b["operator_id"],
                            "发布日期": dt.date(year - 2, 3, 1), "移除日期": dt.date(year, 5, 1)})  # fmt: skip
            apply(b, case, on=on, expect_not="EXCLUDED_DEBTOR")
        elif case == "duplicate":
            apply(b, "", on=on)
            apply(b, case, on=on + dt.timedelta(days=3), expect="DUPLICATE")
        elif case == "twin":
            body = f"92{b['region_code']}MT{year % 100:02d}{i:05d}"
            twin = {**b, "uscc": uscc_with_check(body[:17]), "name": f"{b['name'] or '个体'}分店"}
            extra_registrations.append(
                {
                    "统一社会信用代码": twin["uscc"],
                    "名称": twin["name"],
                    "经营者姓名": b["operator_name"],
                    "经营者身份证件号码": b["operator_id"],
                    "组成形式": "个人经营",
                    "行业代码": b["industry_code"],
                    "行政区划代码": b["region_code"],
                    "成立日期": dt.date(year, 3, 1),
                    "登记状态": "存续",
                }
            )
            category = "知名"
            apply(b, "", on=on, category=category, credential=True)
            apply(twin, case, on=on, category=category, credential=True, channel="部门推荐", recommender="商务局",
                  consent="是", expect_one_of=b["uscc"])  # fmt: skip
        else:
            apply(b, "", on=on)
    # recommendations and widened sources from 生存型, and 不符合分型条件 applicants
    extra = survival.sample(min(8, survival.height), seed=int(rng.integers(1 << 31))).sort("uscc").to_dicts()
    for j, b in enumerate(extra):
        if j < 2:
            apply(
                b, "recommended_no_consent", channel="部门推荐", recommender="文旅局", consent="否", expect="NO_CONSENT"
            )
        elif j < 4:
            apply(b, "recommended_survival", channel="部门推荐", recommender="人社局", consent="是",
                  expect_not="NOT_IN_POOL")  # fmt: skip
        elif j < 6:
            apply(b, "relaxation_survival", relaxation=str(rng.choice(["退役军人", "高校毕业生"])),
                  expect_not="NOT_IN_POOL")  # fmt: skip
        else:
            apply(b, "survival_self", expect="NOT_IN_POOL")
    for b in ineligible.sample(min(2, ineligible.height), seed=int(rng.integers(1 << 31))).to_dicts():
        apply(b, "ineligible", channel="部门推荐", recommender="文旅局", consent="是", expect="NOT_IN_POOL")

    info_reports: list[dict] = []
    events: list[dict] = []
    if register is not None and register.height:
        _later_years(register, businesses, year, rng, info_reports, events, credentials, debtors, cases, apply)

    folder = inbox / "classification"
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "application.csv", apps)
    _write(
        folder / "credential.csv",
        credentials,
        ["统一社会信用代码", "类型", "级别", "取得日期", "有效期至", "发证机关", "证书编号"],
    )
    _write(folder / "dishonest_debtor.csv", debtors, ["姓名", "身份证件号码", "发布日期", "移除日期"])
    _write(folder / "review.csv", reviews)
    _write(
        folder / "info_report.csv",
        info_reports,
        ["统一社会信用代码", "报告年度", "报送日期", "经营者变更", "新经营者身份证件号码"],
    )
    _write(folder / "event.csv", events, ["统一社会信用代码", "事件", "日期", "文号"])
    if penalties:
        _write(inbox / "penalty_mtyx.csv", penalties)
    if extra_registrations:
        _write(inbox / "registration_mtyx.csv", extra_registrations)
    truth = inbox.parent / f"{inbox.name}.classification-truth"
    truth.mkdir(parents=True, exist_ok=True)
    columns = ["record", "uscc", "case", "expect", "expect_not", "expect_one_of"]
    _write(truth / "cases.csv", [{c: row.get(c) for c in columns} for row in cases], columns)
    return truth


def _later_years(register, businesses, year, rng, info_reports, events, credentials, debtors, cases, apply) -> None:
    """Information reports, operator changes, consents, an honour, a listed operator and a revocation for the
    recognitions still valid on 31 July of ``year``; re-applications of revoked and of expired businesses."""
    as_of = dt.date(year, 7, 31)
    valid = register.filter(
        (pl.col("recognised_on") <= as_of)
        & (pl.col("valid_until") >= as_of)
        & ~(pl.col("status").is_in(["取消", "撤销"]) & (pl.col("ended_on") <= as_of))
    ).sort("recognition_no")
    operators = dict(businesses.select("uscc", "operator_id").iter_rows())
    names = dict(businesses.select("uscc", "operator_name").iter_rows())
    for k, r in enumerate(valid.to_dicts()):
        roll = rng.random()
        number = r["recognition_no"]
        if k == 0:
            cases.append({"record": number, "uscc": r["uscc"], "case": "no_info_report", "expect": "NO_INFO_REPORT"})
            continue
        if k == 1:
            filed = dt.date(year, 8, 5)
            cases.append({"record": number, "uscc": r["uscc"], "case": "late_info_report", "expect": "NO_INFO_REPORT"})
        else:
            filed = dt.date(year, 5, 1) + dt.timedelta(days=int(rng.integers(0, 90)))
        changed = k == 2 or (k > 6 and roll < 0.03)
        new_id = resident_id(r["region_code"], dt.date(1980, 1, 1) + dt.timedelta(days=k * 37), k) if changed else None
        info_reports.append(
            {"统一社会信用代码": r["uscc"], "报告年度": year, "报送日期": filed,
             "经营者变更": "是" if changed else "否", "新经营者身份证件号码": new_id}
        )  # fmt: skip
        if changed:
            cases.append(
                {"record": number, "uscc": r["uscc"], "case": "operator_changed", "expect": "OPERATOR_CHANGED"}
            )
        if k == 3:
            events.append({"统一社会信用代码": r["uscc"], "事件": "撤销", "日期": dt.date(year, 3, 15),
                           "文号": f"撤销决定〔{year}〕1号"})  # fmt: skip
            cases.append({"record": number, "uscc": r["uscc"], "case": "revoked", "expect": "REVOKED"})
        if k == 4 and r["uscc"] in operators:
            debtors.append({"姓名": names[r["uscc"]], "身份证件号码": operators[r["uscc"]],
                            "发布日期": dt.date(year, 4, 1), "移除日期": None})  # fmt: skip
            cases.append({"record": number, "uscc": r["uscc"], "case": "debtor_now", "expect": "EXCLUDED_DEBTOR"})
        if r["channel"] == "部门推荐":
            events.append({"统一社会信用代码": r["uscc"], "事件": "同意延期", "日期": dt.date(year, 6, 30),
                           "文号": f"{r['recommender'] or '推荐部门'}函〔{year}〕{k}号"})  # fmt: skip
        if k % 5 == 0:
            credentials.append(
                {"统一社会信用代码": r["uscc"], "类型": "政府表彰", "级别": "县", "取得日期": dt.date(year, 1, 15),
                 "有效期至": None, "发证机关": "县人民政府", "证书编号": f"H{year}{k:05d}"}
            )  # fmt: skip
    # re-applications: a business revoked in the 5 years before, one whose recognition has expired
    by_uscc = {b["uscc"]: b for b in businesses.to_dicts()}
    revoked = register.filter(pl.col("status") == "撤销").sort("recognition_no")
    for r in revoked.head(1).to_dicts():
        if r["uscc"] in by_uscc:
            apply(by_uscc[r["uscc"]], "revoked_reapplies", expect="BANNED")
    expired = register.filter((pl.col("valid_until") < dt.date(year, 11, 30)) & (pl.col("status") != "撤销"))
    for r in expired.sort("recognition_no").head(2).to_dicts():
        if r["uscc"] in by_uscc:
            apply(by_uscc[r["uscc"]], "expired_reapplies", expect_not="ALREADY_RECOGNISED")


def _write(path: Path, rows: list[dict], columns: list[str] | None = None) -> None:
    if not rows and columns is None:
        columns = []
    frame = (
        pl.DataFrame(rows, infer_schema_length=None)
        if rows
        else pl.DataFrame(schema=dict.fromkeys(columns or [], pl.String))
    )
    if columns:
        frame = frame.select([pl.col(c) if c in frame.columns else pl.lit(None, pl.String).alias(c) for c in columns])
    frame.write_csv(path, date_format="%Y-%m-%d")
