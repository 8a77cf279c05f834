"""An objection export for a cycle run on a generated province (objections.md, "Inputs"), with the truth beside it.

From the cycle's own files (``work/<P>/<cycle_id>/``: directory, features, accepted tables) and its publication
date (the warehouse's ``cycles``), it writes:

- ``<out>/objection.csv`` — as the directory's objection module exports it (UTF-8, the contract's headers);
- ``<out>/corrections/<异议编号>/<source>.csv`` — what a department confirms for the founded ones;
- ``<out>/truth.csv`` — per objection: its kind, the refusal intake must give (or none), whether a correction
  is attached and the decision it should lead to.

Kinds: ``founded_tax`` (a 20,000-yuan payment in Y-1 the tax office confirms, for an old-enough 生存型 business
that paid nothing), ``founded_listing`` (an abnormal listing in force on D that was in fact removed ten days
before D), ``unfounded`` (a claim without new facts), ``late`` (filed 45 days after publication), ``duplicate``
(a second objection on an open one) and ``unknown`` (a USCC no business of the cycle has).
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

import duckdb
import polars as pl

from schemas.codes import uscc_check_char
from schemas.objections import CONFIRMATION_NO, CONFIRMED_BY

CHINA_TIME = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")

OBJECTION_HEADERS = (
    "异议编号",
    "统一社会信用代码",
    "判定日期",
    "提出日期",
    "提出人",
    "联系电话",
    "主张分型",
    "异议理由",
    "材料",
)
TRUTH_HEADERS = ("异议编号", "kind", "business_key", "expected_refusal", "correction", "expected_decision")


def _write(path: Path, headers: tuple[str, ...] | list[str], rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(headers), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def objection_export(home: Path, province: str, as_of: dt.date, out: Path, per_kind: int = 2, seed: int = 0) -> Path:
    """Write the export for the published cycle ``<province>-<as_of>`` of ``home``; returns ``out``."""
    cycle_id = f"{province}-{as_of:%Y%m%d}"
    work = home / "work" / province / cycle_id
    rng = random.Random(seed)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        published_at = con.execute("SELECT published_at FROM cycles WHERE cycle_id = ?", [cycle_id]).fetchone()[0]
    published = published_at.astimezone(CHINA_TIME).date()
    directory = pl.read_parquet(work / "directory.parquet").filter(pl.col("uscc").is_not_null())
    features = pl.read_parquet(work / "features.parquet")
    table = directory.join(features, on="business_key")
    in_time = [published + dt.timedelta(days=d) for d in (3, 10, 20)]
    objections: list[dict] = []
    truth: list[dict] = []
    counter = iter(range(1, 10_000))

    def add(kind: str, business: str, claimed: str, filed: dt.date, refusal: str = "", decision: str = "", fix=None):
        number = f"YY{as_of:%Y}{province}{next(counter):05d}"
        objections.append(
            {
                "异议编号": number,
                "统一社会信用代码": business,
                "判定日期": as_of.isoformat(),
                "提出日期": filed.isoformat(),
                "提出人": rng.choice(["张", "王", "李", "赵", "刘"]) + rng.choice(["伟", "芳", "娜", "敏", "静"]),
                "联系电话": f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
                "主张分型": claimed,
                "异议理由": {"founded_tax": "上年度已缴纳税款未计入", "founded_listing": "经营异常名录已移出"}.get(
                    kind, "认为分型结果偏低"
                ),
                "材料": "相关证明材料1份",
            }
        )
        if fix is not None:
            source, rows = fix
            _write(out / "corrections" / number / f"{source}.csv", list(rows[0]), rows)
        truth.append(
            {
                "异议编号": number,
                "kind": kind,
                "business_key": business,
                "expected_refusal": refusal,
                "correction": fix[0] if fix else "",
                "expected_decision": decision,
            }
        )
        return number

    untaxed = table.filter(
        (pl.col("business_type") == "生存型") & (pl.col("tax_paid_prev_year") == 0) & (pl.col("years_established") >= 2)
    )
    for key in untaxed["business_key"].head(per_kind):
        payment = {
            "纳税人识别号": key,
            "税种": "增值税",
            "税款所属期起": f"{as_of.year - 1}-04-01",
            "税款所属期止": f"{as_of.year - 1}-06-30",
            "入库日期": f"{as_of.year - 1}-07-15",
            "实缴金额（元）": "20000",
            CONFIRMED_BY: "国家税务总局某区税务局",
            CONFIRMATION_NO: f"税确〔{as_of.year}〕{rng.randrange(1, 999)}号",
        }
        add("founded_tax", key, "发展型", rng.choice(in_time), decision="调整", fix=("tax_payment", [payment]))

    listings = pl.read_parquet(work / "accepted" / "abnormal_list.parquet").filter(
        (pl.col("listed_on") <= as_of - dt.timedelta(days=10)) & pl.col("removed_on").is_null()
    )
    only_abnormal = table.filter(pl.col("criteria_failed") == pl.lit(["ABNORMAL"], dtype=pl.List(pl.String)))
    listed = only_abnormal.join(listings.unique("uscc", keep="first"), on="uscc")
    for row in listed.head(per_kind).iter_rows(named=True):
        removal = {
            "统一社会信用代码": row["uscc"],
            "列入日期": row["listed_on"].isoformat(),
            "列入原因": row["reason"] or "",
            "移出日期": (as_of - dt.timedelta(days=10)).isoformat(),
            CONFIRMED_BY: "某区市场监督管理局",
            CONFIRMATION_NO: f"市监确〔{as_of.year}〕{rng.randrange(1, 999)}号",
        }
        add(
            "founded_listing",
            row["uscc"],
            "生存型",
            rng.choice(in_time),
            decision="调整",
            fix=("abnormal_list", [removal]),
        )

    others = table.filter(
        pl.col("business_type").is_in(["生存型", "成长型"])
        & ~pl.col("business_key").is_in(untaxed["business_key"].head(per_kind).implode())
    )
    picked = others["business_key"].sample(min(others.height, 3 * per_kind), seed=seed).to_list()
    unfounded, late = picked[:per_kind], picked[per_kind : 2 * per_kind]
    for key in unfounded:
        add("unfounded", key, "发展型", rng.choice(in_time), decision="维持")
    for key in unfounded[: max(1, per_kind // 2)]:
        add("duplicate", key, "发展型", in_time[-1] + dt.timedelta(days=1), refusal="DUPLICATE")
    for key in late:
        add("late", key, "发展型", published + dt.timedelta(days=45), refusal="LATE")
    region = str(directory["region_code"][0])
    for i in range(per_kind):
        body = f"92{region}MA{9_000_000 + rng.randrange(999_999) + i:07d}"
        add("unknown", body + uscc_check_char(body), "成长型", rng.choice(in_time), refusal="UNKNOWN_BUSINESS")

    _write(out / "objection.csv", OBJECTION_HEADERS, objections)
    _write(out / "truth.csv", TRUTH_HEADERS, truth)
    return out
