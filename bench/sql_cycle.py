"""The "DuckDB SQL" baseline: the cycle's rules hand-written in DuckDB SQL, from the inbox files to a type per business.

What it does — the work that decides a business's type, done the direct way:

- reads the columns the rules need from every file of the inbox: CSV in UTF-8 with ``read_csv``; GB18030 CSV
  transcoded first (``flows.readers.transcode``: DuckDB here has no GB18030 decoder, design.md); ``.xlsx`` through
  ``polars.read_excel`` (DuckDB needs its ``excel`` extension, which these machines cannot download); Parquet with
  ``read_parquet``. Money in 万元 is converted by the unit in each file's header; dates in the three styles of
  extracts.md;
- links tax identities, trademarks and patents to businesses (rules.md §3) in SQL;
- computes the features and the province's typing standard with :func:`bench.typing_bench.features_and_typing_sql`.

What it does not do, and the pipeline does: quarantine rows that break the contract (the benchmark inbox has none,
so the results compare), key personal IDs (it links on the clear IDs, in memory only), keep a raw layer with
lineage, validate with pandera, report linkage, publish. Resident IDs are told from USCCs by their form alone.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl

from bench.typing_bench import features_and_typing_sql
from flows.readers import InboxFile, csv_encoding, inbox_files
from flows.readers.transcode import transcode
from reference import province_regions
from schemas.sources import SOURCES, Column, Kind

#: Sources read in full into a table: the others (large, read once or twice) stay views over their files.
LARGE = ("tax_payment", "social_security")

#: The delivered columns the rules read, by source (canonical names of schemas/sources.py).
NEEDED: dict[str, tuple[str, ...]] = {
    "registration": ("uscc", "reg_no", "name", "operator_name", "operator_id", "industry_code", "region_code",
                     "established_on", "status", "seasonal"),
    "annual_report": ("uscc", "reg_no", "report_year", "filed_on", "staff_count", "sales_yuan"),
    "abnormal_list": ("uscc", "reg_no", "listed_on", "removed_on"),
    "serious_list": ("uscc", "reg_no", "listed_on", "removed_on"),
    "suspension": ("uscc", "reg_no", "suspended_from", "suspended_until", "resumed_on"),
    "taxpayer": ("taxpayer_id", "general_from", "general_until"),
    "tax_abnormal": ("taxpayer_id", "declared_on", "lifted_on"),
    "tax_payment": ("taxpayer_id", "tax_kind", "paid_on", "amount_yuan"),
    "social_security": ("employer_uscc", "person_id", "contribution_month", "payment_mode"),
    "trademark": ("trademark_no", "holder_name", "holder_id", "holder_address", "registered_on", "protected_until",
                  "trademark_status"),
    "patent": ("application_no", "holder_names", "holder_address", "granted_on", "legal_status"),
}  # fmt: skip

MACROS = r"""
CREATE MACRO code_of(x) AS nullif(upper(trim(x)), '');
CREATE MACRO text_of(x) AS nullif(trim(x), '');
CREATE MACRO date_of(x) AS coalesce(
    try_strptime(trim(x), '%Y-%m-%d'), try_strptime(trim(x), '%Y/%m/%d'), try_strptime(trim(x), '%Y%m%d'))::DATE;
CREATE MACRO month_of(x) AS try_strptime(replace(trim(x), '-', '') || '01', '%Y%m%d')::DATE;
CREATE MACRO flag_of(x) AS CASE trim(x) WHEN '是' THEN true WHEN 'Y' THEN true WHEN '1' THEN true
                                     WHEN '否' THEN false WHEN 'N' THEN false WHEN '0' THEN false END;
CREATE MACRO yuan_of(x, factor) AS (try_cast(replace(trim(x), ',', '') AS DECIMAL(30, 8)) * factor)::DECIMAL(18, 2);
CREATE MACRO person_form(id) AS regexp_full_match(id, '[0-9]{17}[0-9X]([0-9A-Z]{2})?');
CREATE MACRO name_norm(x) AS nullif(regexp_replace(x, '\s', '', 'g'), '');
"""


def _header(column: Column, headers: list[str]) -> str | None:
    """The file's header for ``column``: its contract header or an alias; money headers end in their unit."""
    names = (column.header, *column.aliases)
    if column.kind is Kind.MONEY:
        return next((h for h in headers if any(h.startswith(n) and "元" in h[len(n) :] for n in names)), None)
    return next((h for h in headers if h in names), None)


def _typed(source: str, name: str, header: str | None) -> list[str]:
    """The SELECT items for one contract column of a file: typed, under the names the features query reads."""
    column = SOURCES[source].column(name)
    raw = f'"{header}"' if header else "NULL::VARCHAR"
    code = f"code_of({raw})"
    match column.kind:
        case Kind.DATE:
            return [f"date_of({raw}) AS {name}"]
        case Kind.PERIOD:
            return [f"month_of({raw}) AS {name}"]
        case Kind.YEAR | Kind.COUNT:
            return [f"try_cast(trim({raw}) AS INTEGER) AS {name}"]
        case Kind.MONEY:
            factor = 10_000 if header and "万元" in header else 1
            return [f"yuan_of({raw}, {factor}) AS {name}"]
        case Kind.FLAG:
            return [f"flag_of({raw}) AS {name}"]
        case Kind.ENUM if column.value_aliases:
            aliases = " ".join(f"WHEN '{a}' THEN '{v}'" for a, v in column.value_aliases.items())
            return [f"CASE text_of({raw}) {aliases} ELSE text_of({raw}) END AS {name}"]
        case Kind.TEXT | Kind.ENUM:
            return [f"text_of({raw}) AS {name}"]
        case Kind.RESIDENT_ID:
            return [f"{code} AS {column.key_name}"]
        case Kind.TAXPAYER_ID | Kind.PARTY_ID:
            stem = name.removesuffix("_id")
            items = [
                f"CASE WHEN NOT person_form({code}) THEN {code} END AS {stem}_uscc",
                f"CASE WHEN person_form({code}) THEN {code}[1:18] END AS {stem}_key",
            ]
            if column.kind is Kind.TAXPAYER_ID:
                items.append(
                    f"CASE WHEN person_form({code}) AND length({code}) = 20 THEN {code}[19:20] END AS {stem}_suffix"
                )
            return items
        case _:
            return [f"{code} AS {name}"]


def _scan(con: duckdb.DuckDBPyConnection, file: InboxFile, scratch: Path) -> str:
    """A relation reading ``file`` as text."""
    if file.format == "parquet":
        return f"read_parquet('{file.path}')"
    if file.format == "xlsx":
        frame = pl.read_excel(file.path)
        frame = frame.with_columns(pl.col(pl.Datetime).dt.date()).cast(pl.String)
        name = f"xlsx_{file.path.stem}"
        con.register(name, frame.to_arrow())
        return f'"{name}"'
    path = file.path
    if csv_encoding(path, None) == "gb18030":
        path = scratch / f"{file.name}.utf-8"
        transcode(file.path, "gb18030", path)
    return f"read_csv('{path}', all_varchar = true, header = true)"


def source_select(con: duckdb.DuckDBPyConnection, source: str, files: list[InboxFile], scratch: Path) -> str:
    """Every file of ``source``, each with its own headers and money units, typed and stacked."""
    parts = []
    for file in files:
        relation = _scan(con, file, scratch)
        headers = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
        items = [
            i for name in NEEDED[source] for i in _typed(source, name, _header(SOURCES[source].column(name), headers))
        ]
        parts.append(f"SELECT {', '.join(items)} FROM {relation}")
    if not parts:  # a source not delivered: no records
        items = [i for name in NEEDED[source] for i in _typed(source, name, None)]
        parts.append(f"SELECT {', '.join(items)} WHERE false")
    return " UNION ALL ".join(parts)


def load_sources(con: duckdb.DuckDBPyConnection, inbox: Path, scratch: Path) -> None:
    """``accepted_<source>`` for every source the rules read: a table, or a view for the large ones."""
    files = inbox_files(inbox)
    for source in NEEDED:
        select = source_select(con, source, [f for f in files if f.source == source], scratch)
        if source == "registration":
            select = f"SELECT coalesce(uscc, reg_no) AS business_key, * FROM ({select})"
        elif source == "annual_report":  # identical rows collapse; same-day versions that differ are found by the
            select = f"SELECT DISTINCT * FROM ({select})"  # features query (rules.md v2, amended records)
        kind = "VIEW" if source in LARGE else "TABLE"
        con.execute(f"CREATE {kind} accepted_{source} AS {select}")
    con.execute(
        "CREATE TABLE accepted_annual_report_conflicts (uscc VARCHAR, reg_no VARCHAR, report_year INTEGER, "
        "filed_on DATE)"
    )


def linkage_sql(province: str) -> str:
    """Records linked to businesses (rules.md §3): ``source, record, business_key, status`` — linked rows only."""
    regions = province_regions(province).with_columns(
        anchor=pl.when(pl.col("city_code").str.ends_with("90")).then("province_name").otherwise("city_name")
    )
    region_rows = ", ".join(
        f"('{r['region_code']}', '{r['region_name']}', '{r['anchor']}')" for r in regions.iter_rows(named=True)
    )
    identity = (
        "coalesce(taxpayer_uscc, CASE WHEN taxpayer_suffix IS NULL THEN taxpayer_key "
        "ELSE taxpayer_key || '/' || taxpayer_suffix END)"
    )
    tax_columns = "taxpayer_uscc, taxpayer_key, taxpayer_suffix"
    return f"""
WITH
reg AS (SELECT business_key, uscc, operator_key, region_code, status, name_norm(name) AS name_norm,
               name_norm(operator_name) AS operator_norm FROM accepted_registration),
operators AS (
  SELECT operator_key, list(DISTINCT business_key) AS businesses,
         list(DISTINCT business_key) FILTER (WHERE status = '存续') AS in_force
  FROM reg GROUP BY operator_key),
tax_ids AS (
  SELECT DISTINCT {tax_columns} FROM (
    SELECT {tax_columns} FROM accepted_taxpayer UNION ALL SELECT {tax_columns} FROM accepted_tax_abnormal
    UNION ALL SELECT {tax_columns} FROM accepted_tax_payment)),
tax AS (
  SELECT 'taxpayer' AS source, {identity} AS record, r.business_key
  FROM tax_ids JOIN reg r ON r.uscc = tax_ids.taxpayer_uscc
  UNION ALL
  SELECT 'taxpayer', {identity}, CASE WHEN len(o.businesses) = 1 THEN o.businesses[1] ELSE o.in_force[1] END
  FROM tax_ids JOIN operators o ON o.operator_key = tax_ids.taxpayer_key
  WHERE len(o.businesses) = 1 OR len(o.in_force) = 1),
marks_by_id AS (
  SELECT 'trademark' AS source, t.trademark_no AS record, r.business_key
  FROM accepted_trademark t JOIN reg r ON r.uscc = t.holder_uscc
  UNION ALL
  SELECT 'trademark', t.trademark_no, unnest(o.businesses)
  FROM accepted_trademark t JOIN operators o ON o.operator_key = t.holder_key WHERE t.holder_uscc IS NULL),
holders AS (  -- holders without an ID: trademarks without one, and every holder of a patent
  SELECT 'trademark' AS source, trademark_no AS record, name_norm(holder_name) AS name_norm,
         holder_address AS address
  FROM accepted_trademark WHERE holder_uscc IS NULL AND holder_key IS NULL
  UNION ALL
  SELECT 'patent', application_no, name_norm(holder), CASE WHEN holder_no = 1 THEN holder_address END
  FROM (SELECT application_no, holder_address, unnest(names) AS holder, generate_subscripts(names, 1) AS holder_no
        FROM (SELECT application_no, holder_address, list_filter(list_transform(
                string_split(replace(holder_names, '；', ';'), ';'), lambda x: trim(x)), lambda x: x <> '') AS names
              FROM accepted_patent))),
regions(region_code, region_name, anchor) AS (VALUES {region_rows}),
counties AS (
  SELECT a.address, min(g.region_code) AS county
  FROM (SELECT DISTINCT address FROM holders WHERE address IS NOT NULL) a
  JOIN regions g ON contains(a.address, g.region_name) AND contains(a.address, g.anchor)
  GROUP BY a.address HAVING count(DISTINCT g.region_code) = 1),
named AS (SELECT name_norm, list(DISTINCT business_key) AS businesses FROM reg WHERE name_norm IS NOT NULL GROUP BY 1),
operators_named AS (
  SELECT region_code AS county, operator_norm, list(DISTINCT operator_key) AS operator_keys
  FROM reg GROUP BY ALL),
by_name AS (
  SELECT h.source, h.record,
         CASE WHEN len(n.businesses) = 1 THEN n.businesses
              WHEN n.businesses IS NULL AND len(p.operator_keys) = 1 THEN o.businesses END AS reached
  FROM holders h
  LEFT JOIN named n ON n.name_norm = h.name_norm
  LEFT JOIN counties c ON c.address = h.address
  LEFT JOIN operators_named p ON p.county = c.county AND p.operator_norm = h.name_norm
  LEFT JOIN operators o ON o.operator_key = p.operator_keys[1])
SELECT source, record, business_key, 'linked' AS status FROM tax
UNION ALL SELECT source, record, business_key, 'linked' FROM marks_by_id
UNION ALL SELECT source, record, unnest(reached), 'linked' FROM by_name WHERE reached IS NOT NULL
"""


def run(inbox: Path, province: str, as_of: dt.date, out: Path, scratch: Path, memory_limit: str = "8GB") -> dict:
    """Type every business of ``inbox`` and write ``out`` (the directory's columns with the features)."""
    scratch.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config={"memory_limit": memory_limit, "temp_directory": str(scratch / "duckdb.tmp")})
    con.execute(MACROS)
    load_sources(con, inbox, scratch)
    con.execute(f"CREATE TABLE linkage AS {linkage_sql(province)}")
    con.execute(f"COPY ({features_and_typing_sql('linkage', province, as_of)}) TO '{out}' (FORMAT parquet)")
    businesses = con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()[0]
    return {"rows": {"businesses": businesses}}
