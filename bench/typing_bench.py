"""Features + typing on a cycle's accepted tables: getihu's stages against one hand-written DuckDB query.

    .venv/bin/python -m bench.typing_bench --home DIR --province 41 [--as-of 2025-07-31] [--repeat 1]

``DIR/work/<P>/<cycle_id>/`` must hold ``accepted/<source>.parquet`` (from ``getihu run`` or the validate
stage) and ``linkage.parquet`` (the link stage is run first, and timed, if it is missing). Each variant runs in
its own process, so its peak RSS is its own (``os.wait4``):

- ``floor``: read every column the work reads, once, and do nothing else;
- ``getihu``: the features and type stages (``flows.stages.business_types``), writing features + directory;
- ``duckdb``: one hand-written SQL query doing the same work, writing the directory with the features.

The DuckDB result is then compared business by business with getihu's: a figure for a wrong answer is no
figure. Prints one JSON line per variant and a summary table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl

from flows.home import Cycle, default_as_of
from flows.stages.business_types import type_businesses
from flows.stages.features import features as features_stage
from flows.stages.link import link as link_stage
from flows.stages.validate import conflicts_path
from flows.storage import work_files
from reference import DATA_DIR
from schemas.accepted import empty_accepted

TAX_KINDS = DATA_DIR / "tax_kinds.csv"  # the 税种 and whether each is a tax (rules.md, Interpretation 3)

# Columns the features + typing work reads, per accepted table (what the floor reads).
READ = {
    "registration": ["business_key", "uscc", "reg_no", "name", "region_code", "industry_code", "operator_key",
                     "established_on", "status", "seasonal"],
    "annual_report": ["uscc", "reg_no", "report_year", "filed_on", "staff_count", "sales_yuan"],
    "abnormal_list": ["uscc", "reg_no", "listed_on", "removed_on"],
    "serious_list": ["uscc", "reg_no", "listed_on", "removed_on"],
    "suspension": ["uscc", "reg_no", "suspended_from", "suspended_until", "resumed_on"],
    "taxpayer": ["taxpayer_uscc", "taxpayer_key", "taxpayer_suffix", "general_from", "general_until"],
    "tax_abnormal": ["taxpayer_uscc", "taxpayer_key", "taxpayer_suffix", "declared_on", "lifted_on"],
    "tax_payment": ["taxpayer_uscc", "taxpayer_key", "taxpayer_suffix", "tax_kind", "paid_on", "amount_yuan"],
    "social_security": ["employer_uscc", "person_key", "contribution_month", "payment_mode"],
    "trademark": ["trademark_no", "registered_on", "protected_until", "trademark_status"],
    "patent": ["application_no", "granted_on", "legal_status"],
}  # fmt: skip

# The typing standards, hand-written in SQL over the feature columns (not generated from the TOML files).
TYPING_SQL = {
    "41": {
        "development": [
            ("发展A", "tax_paid_prev_year > 10000"),
            ("发展B", "insured_incl_operator >= 6"),
            ("发展C", "sales_prev_year >= 600000"),
            ("发展D", "years_established >= 10"),
        ],
        "growth": [
            ("成长A", "tax_paid_prev_year > 0 AND tax_paid_prev_year <= 10000"),
            ("成长B", "insured_incl_operator BETWEEN 3 AND 5"),
            ("成长C", "sales_prev_year >= 300000 AND sales_prev_year < 600000"),
            ("成长D", "years_established >= 6 AND years_established < 10"),
        ],
    },
    "23": {
        "development": [
            ("发展①", "general_taxpayer"),
            ("发展②", "insured_excl_operator >= 4"),
            ("发展③", "valid_trademarks >= 1"),
            ("发展④", "valid_patents >= 1"),
            ("发展⑤", "employees_prev_year >= 4"),
        ],
        "growth": [
            ("成长①", "tax_paid_prev_year > 0"),
            ("成长②", "insured_excl_operator BETWEEN 1 AND 3"),
            ("成长③", "employees_prev_year BETWEEN 2 AND 3"),
        ],
    },
}


def features_and_typing_sql(linkage: str, province: str, as_of: dt.date) -> str:
    """One query: the features of every business as of D and its type, as getihu's rules define them.

    Reads the views ``accepted_<source>`` (canonical columns of the accepted tables) and ``linkage``, a relation
    with ``source, record, business_key, status`` (the linkage file, or the hand-written linkage of bench.sql_cycle).
    """
    year = as_of.year
    prev = year - 1 if as_of >= dt.date(year, 6, 30) else year - 2  # R: the latest report due on or before D
    d = f"DATE '{as_of.isoformat()}'"
    first, last = f"DATE '{prev}-01-01'", f"DATE '{prev}-12-31'"
    month_day = "month(r.established_on) * 100 + day(r.established_on)"
    # the anniversary in D's year: same month and day; 29 Feb falls on 28 Feb in a common year (《民法典》)
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    anniversary = month_day if leap else f"CASE WHEN {month_day} = 229 THEN 228 ELSE {month_day} END"
    # every spelling of a tax (a canonical 税种 is spelled as itself): accepted tables hold the canonical one
    taxes = f"SELECT spelling FROM read_csv('{TAX_KINDS}', all_varchar = true) WHERE is_tax = 'true'"

    def src(name: str) -> str:
        return f"accepted_{name}"  # views made by accepted_views

    identity = (
        "coalesce(taxpayer_uscc, CASE WHEN taxpayer_suffix IS NULL THEN taxpayer_key "
        "ELSE taxpayer_key || '/' || taxpayer_suffix END)"
    )
    rules = TYPING_SQL[province]
    met = rules["development"] + rules["growth"]
    codes = ", ".join(f"CASE WHEN coalesce({cond}, false) THEN '{code}' END" for code, cond in met)
    any_dev = " OR ".join(f"coalesce({c}, false)" for _, c in rules["development"])
    any_growth = " OR ".join(f"coalesce({c}, false)" for _, c in rules["growth"])
    return f"""
WITH
reg AS (SELECT * FROM {src("registration")} WHERE established_on <= {d}),
regno AS (
  SELECT reg_no, min(business_key) AS business_key FROM {src("registration")}
  WHERE reg_no IS NOT NULL GROUP BY reg_no HAVING count(*) = 1),
ar AS (
  SELECT coalesce(a.uscc, g.business_key) AS bkey, a.* FROM {src("annual_report")} a
  LEFT JOIN regno g ON a.uscc IS NULL AND g.reg_no = a.reg_no),
ab AS (
  SELECT coalesce(a.uscc, g.business_key) AS bkey, a.* FROM {src("abnormal_list")} a
  LEFT JOIN regno g ON a.uscc IS NULL AND g.reg_no = a.reg_no),
se AS (
  SELECT coalesce(a.uscc, g.business_key) AS bkey, a.* FROM {src("serious_list")} a
  LEFT JOIN regno g ON a.uscc IS NULL AND g.reg_no = a.reg_no),
su AS (
  SELECT coalesce(a.uscc, g.business_key) AS bkey, a.* FROM {src("suspension")} a
  LEFT JOIN regno g ON a.uscc IS NULL AND g.reg_no = a.reg_no),
versions AS (
  SELECT bkey, filed_on, staff_count, sales_yuan, false AS conflict FROM ar
  WHERE report_year = {prev} AND filed_on <= {d}
  UNION ALL
  SELECT coalesce(c.uscc, g.business_key), c.filed_on, NULL, NULL, true FROM accepted_annual_report_conflicts c
  LEFT JOIN regno g ON c.uscc IS NULL AND g.reg_no = c.reg_no WHERE c.report_year = {prev} AND c.filed_on <= {d}),
latest AS (
  SELECT bkey, bool_or(conflict)
      OR count(DISTINCT {{'s': staff_count, 'y': sales_yuan}}) FILTER (WHERE NOT conflict) > 1 AS conflict,
    any_value(staff_count) FILTER (WHERE NOT conflict) AS staff_count,
    any_value(sales_yuan) FILTER (WHERE NOT conflict) AS sales_yuan
  FROM (SELECT * FROM versions WHERE bkey IS NOT NULL QUALIFY filed_on = max(filed_on) OVER (PARTITION BY bkey))
  GROUP BY bkey),
links AS (
  SELECT source, record, business_key FROM {linkage} WHERE status = 'linked'),
tax_links AS (
  SELECT record, business_key FROM links WHERE source = 'taxpayer'),
report AS (
  SELECT bkey AS uscc,
    CASE WHEN NOT conflict THEN CASE WHEN staff_count > 0 THEN staff_count - 1 ELSE staff_count END END::INTEGER
      AS employees_prev_year,
    CASE WHEN NOT conflict THEN sales_yuan END AS sales_prev_year
  FROM (SELECT bkey, conflict, staff_count, sales_yuan FROM latest)),
abnormal AS (
  SELECT DISTINCT bkey AS uscc FROM ab
  WHERE listed_on <= {d} AND (removed_on IS NULL OR removed_on > {d})),
serious AS (
  SELECT DISTINCT bkey AS uscc FROM se
  WHERE listed_on <= {d} AND (removed_on IS NULL OR removed_on > {d})),
suspended AS (
  SELECT DISTINCT bkey AS uscc FROM su
  WHERE suspended_from <= {d} AND (resumed_on IS NULL OR resumed_on > {d})
    AND (suspended_until IS NULL OR suspended_until >= {d})
    AND {d} <= suspended_from + INTERVAL 3 YEAR),
paid AS (
  SELECT {identity} AS record, amount FROM (
    SELECT taxpayer_uscc, taxpayer_key, taxpayer_suffix, sum(amount_yuan) AS amount FROM {src("tax_payment")}
    WHERE paid_on BETWEEN {first} AND {last} AND tax_kind IN ({taxes}) GROUP BY ALL)),
general AS (
  SELECT DISTINCT {identity} AS record FROM {src("taxpayer")}
  WHERE general_from <= {d} AND (general_until IS NULL OR general_until > {d})),
tax_abn AS (
  SELECT DISTINCT {identity} AS record FROM {src("tax_abnormal")}
  WHERE declared_on <= {d} AND (lifted_on IS NULL OR lifted_on > {d})),
tax AS (
  SELECT business_key, sum(amount) AS tax_paid_prev_year, bool_or(is_general) AS general_taxpayer,
         bool_or(is_abnormal) AS tax_abnormal
  FROM (
    SELECT record, amount, false AS is_general, false AS is_abnormal FROM paid
    UNION ALL SELECT record, NULL, true, false FROM general
    UNION ALL SELECT record, NULL, false, true FROM tax_abn
  ) JOIN tax_links USING (record) GROUP BY business_key),
insured AS (
  SELECT s.employer_uscc AS uscc, count(*)::INTEGER AS insured_incl_operator,
         count(*) FILTER (WHERE r.operator_key IS NULL)::INTEGER AS insured_excl_operator
  FROM (SELECT DISTINCT employer_uscc, person_key FROM {src("social_security")}
        WHERE payment_mode = '单位缴纳' AND contribution_month BETWEEN {first} AND {last}) s
  LEFT JOIN reg r ON r.uscc = s.employer_uscc AND r.operator_key = s.person_key
  GROUP BY 1),
holdings AS (
  SELECT business_key,
         count(*) FILTER (WHERE source = 'trademark')::INTEGER AS valid_trademarks,
         count(*) FILTER (WHERE source = 'patent')::INTEGER AS valid_patents
  FROM (
    SELECT DISTINCT l.source, l.record, l.business_key FROM links l
    JOIN (SELECT 'trademark' AS source, trademark_no AS record FROM {src("trademark")}
          WHERE trademark_status = '注册' AND registered_on <= {d}
            AND (protected_until IS NULL OR protected_until >= {d})
          UNION ALL
          SELECT 'patent', application_no FROM {src("patent")} WHERE legal_status = '有效' AND granted_on <= {d}) v
    USING (source, record))
  GROUP BY business_key),
features AS (
  SELECT r.business_key, r.uscc, r.reg_no, r.name, r.region_code, r.industry_code,
    ({year} - year(r.established_on)
      - CASE WHEN {anniversary} > {as_of.month * 100 + as_of.day} THEN 1 ELSE 0 END)::INTEGER AS years_established,
    r.status = '存续' AS status_active,
    NOT unmatchable.unmatchable AND (year(r.established_on) > {prev} OR report.uscc IS NOT NULL)
      AS annual_report_filed,
    unmatchable.unmatchable,
    abnormal.uscc IS NOT NULL AS on_abnormal_list,
    serious.uscc IS NOT NULL AS on_serious_list,
    coalesce(tax.tax_abnormal, false) AS tax_abnormal,
    suspended.uscc IS NOT NULL AS suspended,
    coalesce(r.seasonal, false) AS seasonal,
    coalesce(tax.tax_paid_prev_year, 0)::DECIMAL(18, 2) AS tax_paid_prev_year,
    coalesce(tax.general_taxpayer, false) AS general_taxpayer,
    coalesce(insured.insured_incl_operator, 0) AS insured_incl_operator,
    coalesce(insured.insured_excl_operator, 0) AS insured_excl_operator,
    report.employees_prev_year, report.sales_prev_year,
    coalesce(holdings.valid_trademarks, 0) AS valid_trademarks,
    coalesce(holdings.valid_patents, 0) AS valid_patents
  FROM reg r
  JOIN (SELECT business_key, uscc IS NULL AND year(established_on) <= {prev}
          AND NOT EXISTS (SELECT 1 FROM {src("annual_report")} WHERE reg_no IS NOT NULL) AS unmatchable
        FROM reg) unmatchable USING (business_key)
  LEFT JOIN report ON report.uscc = r.business_key
  LEFT JOIN abnormal ON abnormal.uscc = r.business_key
  LEFT JOIN serious ON serious.uscc = r.business_key
  LEFT JOIN suspended ON suspended.uscc = r.business_key
  LEFT JOIN insured ON insured.uscc = r.uscc
  LEFT JOIN tax ON tax.business_key = r.business_key
  LEFT JOIN holdings ON holdings.business_key = r.business_key),
typed AS (
  SELECT *,
    list_filter([
      CASE WHEN NOT on_abnormal_list THEN NULL ELSE 'ABNORMAL' END,
      CASE WHEN annual_report_filed OR unmatchable THEN NULL ELSE 'ANNUAL_REPORT' END,
      CASE WHEN NOT on_serious_list THEN NULL ELSE 'SERIOUS' END,
      CASE WHEN status_active THEN NULL ELSE 'STATUS' END,
      CASE WHEN suspended AND NOT seasonal THEN 'SUSPENDED' END,
      CASE WHEN NOT tax_abnormal THEN NULL ELSE 'TAX_ABNORMAL' END,
      CASE WHEN unmatchable THEN 'UNMATCHABLE' END], lambda x: x IS NOT NULL) AS criteria_failed,
    list_filter([{codes}], lambda x: x IS NOT NULL) AS conditions_met,
    years_established >= 2 AS old_enough,
    years_established >= 2 AND ({any_dev}) AS development,
    years_established >= 2 AND ({any_growth}) AS growth
  FROM features)
SELECT business_key, uscc, reg_no, name, region_code, industry_code,
  CASE WHEN len(criteria_failed) > 0 THEN '不符合分型条件' WHEN development THEN '发展型' WHEN growth THEN '成长型'
       ELSE '生存型' END AS business_type,
  CASE WHEN len(criteria_failed) > 0 THEN criteria_failed WHEN development OR growth THEN conditions_met
       WHEN NOT old_enough THEN ['MIN_AGE'] ELSE ['NO_CONDITION'] END AS reasons,
  conditions_met, criteria_failed,
  * EXCLUDE (business_key, uscc, reg_no, name, region_code, industry_code, criteria_failed, conditions_met,
             old_enough, development, growth)
FROM typed ORDER BY business_key
"""


# --- the variants, each in its own process ---------------------------------------------------------------


def run_floor(cycle: Cycle) -> dict:
    rows = {}
    for source, columns in READ.items():
        if cycle.accepted(source).exists():  # one pass decoding every column read, nothing else
            scan = pl.scan_parquet(cycle.accepted(source)).select(columns)
            rows[source] = scan.select(pl.len(), *(pl.col(c).null_count() for c in columns)).collect()["len"].item()
    return {"rows": rows}


def run_getihu(cycle: Cycle) -> dict:
    features = features_stage(cycle)
    typed = type_businesses(cycle)
    return {"rows": features.rows | typed.rows}


def accepted_views(connection: duckdb.DuckDBPyConnection, cycle: Cycle) -> None:
    """``accepted_<source>`` for every source: its parquet file, or an empty table when it was not delivered; a
    table without ``reg_no`` (注册号, extracts.md v2) gets a null one. ``accepted_annual_report_conflicts``: the
    annual-report keys delivered twice the same day with different content (empty when validate wrote none)."""
    for source in READ:
        if cycle.accepted(source).exists():
            scan = f"read_parquet('{cycle.accepted(source)}')"
            columns = {r[0] for r in connection.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()}
            extra = ", NULL::VARCHAR AS reg_no" if "reg_no" in READ[source] and "reg_no" not in columns else ""
            connection.execute(f"CREATE VIEW accepted_{source} AS SELECT *{extra} FROM {scan}")
        else:
            empty = empty_accepted(source).to_arrow()  # DuckDB reads the local by name
            missing = "reg_no" in READ[source] and "reg_no" not in empty.schema.names
            extra = ", NULL::VARCHAR AS reg_no" if missing else ""
            connection.execute(f"CREATE TABLE accepted_{source} AS SELECT *{extra} FROM empty")
    conflicts = conflicts_path(cycle, "annual_report")
    if conflicts.exists():
        connection.execute(f"CREATE VIEW accepted_annual_report_conflicts AS SELECT * FROM read_parquet('{conflicts}')")
    else:
        connection.execute(
            "CREATE TABLE accepted_annual_report_conflicts "
            "(uscc VARCHAR, reg_no VARCHAR, report_year INTEGER, filed_on DATE)"
        )


def run_duckdb(cycle: Cycle, out: Path) -> dict:
    linkage = f"read_parquet('{cycle.work_dir / work_files.LINKAGE_FILE}')"
    sql = features_and_typing_sql(linkage, cycle.province, cycle.as_of)
    connection = duckdb.connect()
    accepted_views(connection, cycle)
    connection.execute(f"COPY ({sql}) TO '{out}' (FORMAT parquet)")
    return {"rows": {"businesses": connection.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()[0]}}


def child(args: argparse.Namespace) -> None:
    cycle = Cycle(province=args.province, as_of=args.as_of, home=args.home, secret=b"unused: no IDs are keyed here")
    start = time.perf_counter()
    if args.variant == "floor":
        result = run_floor(cycle)
    elif args.variant == "getihu":
        result = run_getihu(cycle)
    elif args.variant == "link":
        result = {"rows": link_stage(cycle).rows}
    else:
        result = run_duckdb(cycle, cycle.work_dir / "directory_duckdb.parquet")
    print(json.dumps(result | {"seconds": time.perf_counter() - start}))


def measure(args: argparse.Namespace, variant: str) -> dict:
    command = [sys.executable, "-m", "bench.typing_bench", "--child", variant, "--home", str(args.home),
               "--province", args.province, "--as-of", args.as_of.isoformat()]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    output = process.stdout.read()
    if status != 0:
        raise SystemExit(f"{variant} failed (status {status})")
    return {"variant": variant, "peak_rss_mb": round(usage.ru_maxrss / 1024)} | json.loads(output)


def same_result(cycle: Cycle) -> str:
    ours = pl.read_parquet(cycle.work_dir / "directory.parquet").join(
        pl.read_parquet(cycle.work_dir / "features.parquet"), on="business_key"
    )
    theirs = pl.read_parquet(cycle.work_dir / "directory_duckdb.parquet")
    columns = [c for c in theirs.columns if c in ours.columns]
    ours, theirs = ours.select(columns).sort("business_key"), theirs.select(columns).sort("business_key")
    if ours.height != theirs.height:
        return f"DIFFERENT: {ours.height} vs {theirs.height} rows"
    differing = [c for c in columns if not ours[c].cast(theirs[c].dtype).equals(theirs[c])]
    return "identical" if not differing else f"DIFFERENT in {differing}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--province", required=True)
    parser.add_argument("--as-of", type=dt.date.fromisoformat)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--child", dest="variant", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.as_of = args.as_of or default_as_of(dt.date.today().year)
    if args.variant:
        return child(args)
    cycle = Cycle(province=args.province, as_of=args.as_of, home=args.home, secret=b"unused")
    if not cycle.accepted("registration").exists():  # else every variant types nothing and agrees
        sys.exit(f"{cycle.accepted('registration')} is missing: no validated cycle as of {args.as_of} in {args.home}")
    results = []
    if not (cycle.work_dir / "linkage.parquet").exists():
        results.append(measure(args, "link"))
    for _ in range(args.repeat):
        for variant in ("floor", "getihu", "duckdb"):
            results.append(measure(args, variant))
            print(json.dumps(results[-1], ensure_ascii=False), flush=True)
    verdict = same_result(cycle)
    print(f"getihu vs DuckDB result: {verdict}")
    best = {v: min(r["seconds"] for r in results if r["variant"] == v) for v in ("floor", "getihu", "duckdb")}
    peak = {v: max(r["peak_rss_mb"] for r in results if r["variant"] == v) for v in ("floor", "getihu", "duckdb")}
    for variant in ("floor", "getihu", "duckdb"):
        ratio = best[variant] / best["duckdb"]
        print(f"{variant:7s} {best[variant]:8.1f} s  ×{ratio:.2f} of DuckDB  peak RSS {peak[variant]} MB")


if __name__ == "__main__":
    main()
