"""The "pandas" baseline: the cycle's rules for Henan (province 41) as an analyst would write them in plain pandas.

Reads the columns the rules need from every file of the inbox (``read_csv`` with the file's encoding,
``read_excel``, ``read_parquet``), links tax identities, trademarks and patents to businesses (rules.md §3),
computes the features and applies the Henan standard (rules.md §2) and the basic criteria (§1).
Money is float, rounded to the fen after summing; dates are ``datetime64``.

What it does not do, and the pipeline does: quarantine rows that break the contract (the benchmark inbox has
none), key personal IDs (it links on the clear IDs, in memory only), keep a raw layer, validate, publish.
Henan only, and an as-of date other than 29 February (whose year count needs the leap-day rule).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from bench.sql_cycle import NEEDED
from flows.readers import InboxFile, csv_encoding, inbox_files
from reference import DATA_DIR, province_regions
from schemas.sources import SOURCES, Kind

IN_FORCE = "存续"
PERSON = r"[0-9]{17}[0-9X]([0-9A-Z]{2})?"  # a resident ID, optionally with a 2-character suffix


# --- reading ------------------------------------------------------------------------------------------------


def _headers(file: InboxFile, encoding: str | None) -> list[str]:
    if file.format == "parquet":
        return pq.read_schema(file.path).names
    if file.format == "xlsx":
        return list(pd.read_excel(file.path, nrows=0).columns)
    return list(pd.read_csv(file.path, nrows=0, encoding=encoding).columns)


def _read_file(file: InboxFile, source: str) -> pd.DataFrame:
    """The file's needed columns under their canonical names, as text; money already in yuan (float)."""
    encoding = None
    if file.format == "csv":
        encoding = "gb18030" if csv_encoding(file.path, None) == "gb18030" else "utf-8-sig"
    headers = _headers(file, encoding)
    wanted = {}
    for name in NEEDED[source]:
        column = SOURCES[source].column(name)
        names = (column.header, *column.aliases)
        found = [h for h in headers if h in names or (column.kind is Kind.MONEY and h.startswith(names))]
        if found:
            wanted[found[0]] = name
    if file.format == "parquet":
        frame = pd.read_parquet(file.path, columns=list(wanted))
    elif file.format == "xlsx":
        frame = pd.read_excel(file.path, usecols=list(wanted), dtype=str)
    else:
        frame = pd.read_csv(file.path, usecols=list(wanted), dtype=str, encoding=encoding)
    for header, name in wanted.items():
        if SOURCES[source].column(name).kind is Kind.MONEY:
            factor = 10_000 if "万元" in header else 1
            frame[header] = pd.to_numeric(frame[header].str.replace(",", "")) * factor
    frame = frame.rename(columns=wanted)
    for name in NEEDED[source]:
        if name not in frame:
            frame[name] = None
    return frame


def dates(text: pd.Series) -> pd.Series:
    """YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD (an Excel date cell reads as ``YYYY-MM-DD 00:00:00``)."""
    text = text.str.slice(0, 10).str.replace("/", "-")
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    compact = parsed.isna() & text.notna()
    parsed[compact] = pd.to_datetime(text[compact], format="%Y%m%d", errors="coerce")
    return parsed


def read_source(inbox: Path, source: str) -> pd.DataFrame:
    files = [f for f in inbox_files(inbox) if f.source == source]
    frames = [_read_file(f, source) for f in files]
    frame = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame({c: pd.Series(dtype="str") for c in NEEDED[source]})
    )
    for name in NEEDED[source]:
        kind = SOURCES[source].column(name).kind
        if kind is Kind.DATE:
            frame[name] = dates(frame[name])
        elif kind is Kind.PERIOD:
            frame[name] = pd.to_datetime(frame[name].str.replace("-", ""), format="%Y%m", errors="coerce")
        elif kind in (Kind.YEAR, Kind.COUNT):
            frame[name] = pd.to_numeric(frame[name])
        elif kind is not Kind.MONEY:
            frame[name] = frame[name].str.strip()
            if kind not in (Kind.TEXT, Kind.ENUM):
                frame[name] = frame[name].str.upper()
    return frame


# --- linking (rules.md §3) ----------------------------------------------------------------------------------


def normalised_name(names: pd.Series) -> pd.Series:
    return names.map(lambda n: unicodedata.normalize("NFKC", n) if isinstance(n, str) else n).str.replace(
        r"\s+", "", regex=True
    )


def operator_business(reg: pd.DataFrame) -> pd.Series:
    """operator ID → the business their tax records reach: their only business, or their only one in force."""
    per_operator = reg.groupby("operator_id")["business_key"]
    only = reg[per_operator.transform("size") == 1].set_index("operator_id")["business_key"]
    in_force = reg[reg["status"] == IN_FORCE]
    sole_in_force = in_force[in_force.groupby("operator_id")["business_key"].transform("size") == 1]
    sole_in_force = sole_in_force.set_index("operator_id")["business_key"]
    return pd.concat([only, sole_in_force[~sole_in_force.index.isin(only.index)]])


def tax_business(ids: pd.Series, reg: pd.DataFrame) -> pd.Series:
    """The business each taxpayer ID links to (NaN when none)."""
    by_uscc = ids.map(reg.dropna(subset=["uscc"]).set_index("uscc")["business_key"])
    person = ids.str.fullmatch(PERSON).fillna(False)
    by_operator = ids.str.slice(0, 18).map(operator_business(reg))
    return by_operator.where(person, by_uscc)


def county_of(addresses: pd.Series, province: str) -> dict[str, str]:
    """address → the one county it names (with its city, or its province for a county the province runs)."""
    regions = province_regions(province).to_pandas()
    direct = regions["city_code"].str.endswith("90")
    regions["anchor"] = regions["province_name"].where(direct, regions["city_name"])
    counties = {}
    for address in addresses.dropna().unique():
        named = {r.region_code for r in regions.itertuples() if r.region_name in address and r.anchor in address}
        if len(named) == 1:
            counties[address] = named.pop()
    return counties


def link_by_name(holders: pd.DataFrame, reg: pd.DataFrame, province: str) -> pd.DataFrame:
    """Holders without an ID (``source, record, name, address``) → ``source, record, business_key``."""
    holders = holders.assign(name=normalised_name(holders["name"]))
    names = normalised_name(reg["name"])
    named = reg.assign(name=names).dropna(subset=["name"]).groupby("name")["business_key"].nunique()
    one_business = reg.assign(name=names).dropna(subset=["name"]).drop_duplicates("name", keep=False)
    by_business = holders.merge(one_business[["name", "business_key"]], on="name")

    holders = holders[~holders["name"].isin(named.index)].copy()
    holders["county"] = holders["address"].map(county_of(holders["address"], province))
    operators = reg.assign(name=normalised_name(reg["operator_name"]), county=reg["region_code"])
    per_name = operators.groupby(["county", "name"])["operator_id"].nunique()
    unique_name = per_name[per_name == 1].reset_index()[["county", "name"]]
    operator_of = operators.merge(unique_name, on=["county", "name"])[["county", "name", "operator_id"]]
    by_operator = holders.merge(operator_of.drop_duplicates(), on=["county", "name"]).merge(
        reg[["operator_id", "business_key"]], on="operator_id"
    )
    columns = ["source", "record", "business_key"]
    return pd.concat([by_business[columns], by_operator[columns]])


def holdings(trademark: pd.DataFrame, patent: pd.DataFrame, reg: pd.DataFrame, province: str) -> pd.DataFrame:
    """Trademarks and patents valid on D linked to each business: ``source, record, business_key``."""
    marks = trademark.assign(source="trademark", record=trademark["trademark_no"])
    person = marks["holder_id"].str.fullmatch(r"[0-9]{17}[0-9X]").fillna(False)
    by_uscc = marks[~person & marks["holder_id"].notna()].merge(
        reg[["uscc", "business_key"]], left_on="holder_id", right_on="uscc"
    )
    by_operator = marks[person].merge(reg[["operator_id", "business_key"]], left_on="holder_id", right_on="operator_id")
    no_id = marks[marks["holder_id"].isna()].rename(columns={"holder_name": "name", "holder_address": "address"})

    holders = patent.assign(name=patent["holder_names"].str.replace("；", ";").str.split(";")).explode("name")
    holders["name"] = holders["name"].str.strip()
    holders = holders[holders["name"].fillna("") != ""]
    first = holders.groupby(level=0).cumcount() == 0
    holders = holders.assign(source="patent", record=holders["application_no"], address=holders["holder_address"])
    holders["address"] = holders["address"].where(first)

    by_name = link_by_name(
        pd.concat([no_id[["source", "record", "name", "address"]], holders[["source", "record", "name", "address"]]]),
        reg,
        province,
    )
    columns = ["source", "record", "business_key"]
    return pd.concat([by_uscc[columns], by_operator[columns], by_name]).drop_duplicates()


# --- features and typing ------------------------------------------------------------------------------------


def in_force(frame: pd.DataFrame, start: str, end: str, as_of: pd.Timestamp) -> pd.Series:
    return (frame[start] <= as_of) & (frame[end].isna() | (frame[end] > as_of))


def run(inbox: Path, province: str, as_of: dt.date, out: Path) -> dict:
    """Type every business of ``inbox`` by the Henan standard and write ``business_key, business_type, reasons``."""
    if province != "41" or (as_of.month, as_of.day) == (2, 29):
        raise ValueError("the pandas baseline implements Henan (41) with an as-of date other than 29 February")
    d = pd.Timestamp(as_of)
    prev = as_of.year - 1 if (as_of.month, as_of.day) >= (6, 30) else as_of.year - 2  # R (rules.md v2, Terms)
    s = {source: read_source(inbox, source) for source in NEEDED}

    reg = s["registration"]
    reg["status"] = reg["status"].replace(SOURCES["registration"].column("status").value_aliases)
    reg["business_key"] = reg["uscc"].fillna(reg["reg_no"])
    once = reg.dropna(subset=["reg_no"]).drop_duplicates("reg_no", keep=False).set_index("reg_no")["business_key"]

    def keyed(frame: pd.DataFrame) -> pd.Series:
        """The business of each row: its USCC, else the registration of its 注册号."""
        return frame["uscc"].fillna(frame["reg_no"].map(once))

    registered = reg  # every registered business: linkage reaches them all (the pipeline links before features)
    reg = reg[reg["established_on"] <= d].reset_index(drop=True)  # established after D: not typed
    est = reg["established_on"]
    # anniversaries (《民法典》): 29 Feb falls on 28 Feb in a common year
    leap = as_of.year % 4 == 0 and (as_of.year % 100 != 0 or as_of.year % 400 == 0)
    month_day = est.dt.month * 100 + est.dt.day
    anniversary = month_day if leap else month_day.where(month_day != 229, 228)
    short = anniversary > (as_of.month * 100 + as_of.day)
    f = reg[["business_key", "uscc"]].copy()
    f["years"] = as_of.year - est.dt.year - short.astype(int)
    f["active"] = reg["status"] == IN_FORCE
    f["seasonal"] = reg["seasonal"].map({"是": True, "Y": True, "1": True}).fillna(False).astype(bool)

    report = s["annual_report"].drop_duplicates()
    report["business"] = keyed(report)
    report = report[(report["report_year"] == prev) & (report["filed_on"] <= d) & report["business"].notna()]
    report = report[report["filed_on"] == report.groupby("business")["filed_on"].transform("max")]
    figures = report.drop_duplicates(["business", "staff_count", "sales_yuan"])
    conflict = figures.groupby("business").size() > 1  # two versions the same day: filed, figures unknown
    report = figures.drop_duplicates("business").set_index("business")
    known = ~report.index.to_series().map(conflict).fillna(False).astype(bool)
    unmatchable = reg["uscc"].isna() & s["annual_report"]["reg_no"].isna().all() & (est.dt.year <= prev)
    f["unmatchable"] = unmatchable
    f["report_filed"] = ~unmatchable & (f["business_key"].isin(report.index) | (est.dt.year > prev))
    f["employees"] = f["business_key"].map((report["staff_count"] - 1).clip(lower=0).where(known))
    f["sales"] = f["business_key"].map(report["sales_yuan"].where(known))

    for source, flag in (("abnormal_list", "abnormal"), ("serious_list", "serious")):
        listed = s[source]
        f[flag] = f["business_key"].isin(keyed(listed)[in_force(listed, "listed_on", "removed_on", d)])
    susp = s["suspension"]
    covers = in_force(susp, "suspended_from", "resumed_on", d) & (
        susp["suspended_until"].isna() | (susp["suspended_until"] >= d)
    )
    third_anniversary = susp["suspended_from"] + pd.DateOffset(years=3)  # 29 Feb → 28 Feb
    f["suspended"] = f["business_key"].isin(keyed(susp)[covers & (d <= third_anniversary)])

    kinds = pd.read_csv(DATA_DIR / "tax_kinds.csv", dtype=str)
    taxes = set(kinds.loc[kinds["is_tax"] == "true", "spelling"])
    pay = s["tax_payment"]
    paid = pay[(pay["paid_on"].dt.year == prev) & pay["tax_kind"].isin(taxes)]
    paid = paid.groupby("taxpayer_id")["amount_yuan"].sum()
    paid = paid.groupby(tax_business(paid.index.to_series(), registered).values).sum().round(2)
    f["tax_paid"] = f["business_key"].map(paid).fillna(0.0)
    taxpayer, tax_abn = s["taxpayer"], s["tax_abnormal"]
    general = taxpayer.loc[in_force(taxpayer, "general_from", "general_until", d), "taxpayer_id"]
    f["general"] = f["business_key"].isin(tax_business(general, registered))
    abnormal = tax_abn.loc[in_force(tax_abn, "declared_on", "lifted_on", d), "taxpayer_id"]
    f["tax_abnormal"] = f["business_key"].isin(tax_business(abnormal, registered))

    ss = s["social_security"]
    insured = ss[(ss["payment_mode"] == "单位缴纳") & (ss["contribution_month"].dt.year == prev)]
    insured = insured[["employer_uscc", "person_id"]].drop_duplicates()
    f["insured"] = f["uscc"].map(insured.groupby("employer_uscc").size()).fillna(0)

    marks, patents = s["trademark"], s["patent"]
    valid_marks = marks[
        (marks["trademark_status"] == "注册")
        & (marks["registered_on"] <= d)
        & (marks["protected_until"].isna() | (marks["protected_until"] >= d))
    ]
    valid_patents = patents[(patents["legal_status"] == "有效") & (patents["granted_on"] <= d)]
    held = holdings(valid_marks, valid_patents, registered, province)
    f["trademarks"] = f["business_key"].map(held[held["source"] == "trademark"].groupby("business_key").size())
    f["patents"] = f["business_key"].map(held[held["source"] == "patent"].groupby("business_key").size())

    failed = {
        "ABNORMAL": f["abnormal"],
        "ANNUAL_REPORT": ~f["report_filed"] & ~f["unmatchable"],
        "SERIOUS": f["serious"],
        "STATUS": ~f["active"],
        "SUSPENDED": f["suspended"] & ~f["seasonal"],
        "TAX_ABNORMAL": f["tax_abnormal"],
        "UNMATCHABLE": f["unmatchable"],
    }
    development = {
        "发展A": f["tax_paid"] > 10_000,
        "发展B": f["insured"] >= 6,
        "发展C": f["sales"] >= 600_000,
        "发展D": f["years"] >= 10,
    }
    growth = {
        "成长A": (f["tax_paid"] > 0) & (f["tax_paid"] <= 10_000),
        "成长B": f["insured"].between(3, 5),
        "成长C": (f["sales"] >= 300_000) & (f["sales"] < 600_000),
        "成长D": (f["years"] >= 6) & (f["years"] < 10),
    }

    def codes(conditions: dict[str, pd.Series]) -> pd.Series:
        listed = pd.Series("", index=f.index)
        for code, met in conditions.items():
            listed = listed + met.fillna(False).map({True: code + ";", False: ""})
        return listed.str.rstrip(";")

    criteria_failed, conditions_met = codes(failed), codes(development | growth)
    old_enough = f["years"] >= 2
    is_development = old_enough & pd.concat(development, axis=1).fillna(False).any(axis=1)
    is_growth = old_enough & pd.concat(growth, axis=1).fillna(False).any(axis=1)
    f["business_type"] = "生存型"
    f.loc[is_growth, "business_type"] = "成长型"
    f.loc[is_development, "business_type"] = "发展型"
    f.loc[criteria_failed != "", "business_type"] = "不符合分型条件"
    f["reasons"] = conditions_met.where(is_growth | is_development, "NO_CONDITION")
    f.loc[~old_enough, "reasons"] = "MIN_AGE"
    f.loc[criteria_failed != "", "reasons"] = criteria_failed
    f[["business_key", "business_type", "reasons"]].sort_values("business_key").to_parquet(out, index=False)
    return {"rows": {"businesses": len(f)}}
