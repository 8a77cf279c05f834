"""The analysts' warehouse ``<home>/warehouse.duckdb`` (outputs.md, "The warehouse"), replaced atomically.

A run never writes into the file an analyst may hold open. It builds the whole new state in a sibling
file — a byte copy of the published file, in which this cycle's rows replace any earlier run of the same
cycle — and then renames it over the published one. ``rename(2)`` is atomic: a run killed at any point
leaves either the old file or the new one. Copying the file carries the earlier cycles over at the speed of
the disk; rewriting their rows cost 12 s for three earlier cycles of a million businesses (BENCHMARKS.md).

What an open session sees (DuckDB 2.0, measured in tests/contract/test_warehouse.py): a connection opened before
the swap keeps reading the old file (its inode stays alive while open) and is not disturbed; a new
connection from another process sees the new state. Inside one Python process DuckDB reuses an open
database instance for the same path, so a *new* connection there sees the old state until every
connection to the path has been closed.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from flows.errors import WarehouseError
from schemas.features import FEATURES
from schemas.terms import EXTRA, YEARLY, YEARLY_AS_OF
from schemas.vocabulary import MOVEMENTS, TYPE_RANK

#: The tables. A cycle's rows are written by one statement each, so they are stored together.
TABLES = ("cycles", "directory", "features", "quarantine", "linkage")
VIEWS = ("directory_latest", "transitions")
#: Tables of names and meanings, replaced whole by every publish (``codes`` keeps the codes of earlier rulesets).
REFERENCE_TABLES = ("regions", "industries", "codes")


TABLE_COMMENTS: dict[str, str] = {
    "directory": "个体工商户名录：每期每户一行——主体键、区划、行业、分型结果、分型依据、分型标准、周期",
    "directory_latest": "各省最新一期年度周期（判定日期为 7 月 31 日）的名录，列同 directory；加开周期不替换它",
    "features": "分型特征：每期每户一行，规则所用的全部特征值（判定日期口径）",
    "cycles": "分型周期：每期一行——省份、判定日期、报告年度、分型标准、各类户数、另计户数、输入文件校验和、运行时间",
    "quarantine": "隔离记录：各期被隔离的每一行——来源、文件、行号、列、报送值（个人信息已遮蔽）、规则",
    "linkage": "数据关联：每个商标、专利和纳税人身份关联到的主体及途径，或未关联的原因",
    "transitions": "分型变动：每户本期分型结果与本省上一个年度周期的对比（加开周期不作为比较基准）",
    "regions": "行政区划：县级行政区划代码及其名称、所属地市和省份",
    "industries": "国民经济行业分类（GB/T 4754-2017）：大类及其门类的代码和名称",
    "codes": "代码含义：基础条件、分型标准条件、分型依据和隔离规则的代码及中文含义",
}

#: Columns with the same meaning in every table.
_SHARED_COLUMNS: dict[str, str] = {
    "province": "省级行政区划代码（两位，如 41）",
    "cycle_id": "周期编号：省份-判定日期（如 41-20250731）",
    "as_of": "判定日期",
    "business_key": "主体键：统一社会信用代码，无统一社会信用代码时为注册号",
}

#: Chinese labels of the features (docs/architecture.md, "Features"); also the labels ``getihu query`` prints.
FEATURE_LABELS: dict[str, str] = {f.name: f.label for f in FEATURES.values()}

COLUMN_COMMENTS: dict[str, dict[str, str]] = {
    "directory": {
        "uscc": "统一社会信用代码（仅有注册号时为空）",
        "reg_no": "注册号（旧15位登记号）",
        "name": "名称（字号名称，可为空）",
        "region_code": "行政区划代码（县级，6位）",
        "industry_code": "行业代码（GB/T 4754-2017，按登记所填）",
        "industry": "行业门类大类：门类字母加大类两位（如 H62），大类不在 GB/T 4754-2017 中时为空",
        "business_type": "分型结果：生存型、成长型、发展型或不符合分型条件",
        "reasons": "分型依据：满足的分型条件代码，或未满足的基础条件代码",
        "conditions_met": "满足的分型标准条件代码（如 发展①、成长A）",
        "criteria_failed": (
            "未满足的基础条件代码（STATUS、ANNUAL_REPORT、ABNORMAL、SERIOUS、TAX_ABNORMAL、SUSPENDED、UNMATCHABLE）"
        ),
        "ruleset_id": "分型标准编号",
        "ruleset_version": "分型标准版本",
        "amended": "已因异议更正分型结果（见 amendments 表；directory_latest 显示更正后的结果）",
    },
    "features": FEATURE_LABELS,
    "cycles": {
        "report_year": "报告年度 R：判定日期前已到报送期限（次年6月30日）的最近年度；“上一年度”均指该年度",
        "cycle_kind": "周期类型：yearly 年度分型（7月31日），extra 临时分型（其他判定日期），draft 草稿（仅草稿仓库）",
        "ruleset_id": "分型标准编号",
        "ruleset_version": "分型标准版本",
        "ruleset_sha256": "分型标准文件的 SHA-256",
        "ruleset_file": "分型标准文件名",
        "businesses": "参与分型的主体户数",
        "survival": "生存型户数",
        "growth": "成长型户数",
        "development": "发展型户数",
        "ineligible": "不符合分型条件户数",
        "not_yet_established": "判定日期后成立、本期不分型的户数（不计入参与分型户数）",
        "unmatchable": "无统一社会信用代码、年报未报送注册号、无法匹配年报的户数（计入不符合分型条件）",
        "quarantined": "隔离行数（全部来源合计）",
        "missing_sources": "本期未报送的数据来源",
        "inputs": "输入文件：来源、文件名、SHA-256、行数、接收行数、隔离行数、合并的完全重复行数（行数 = 后三者之和）",
        "outputs": "发布文件：文件名、SHA-256、行数（同 manifest.json）",
        "started_at": "本期运行开始时间",
        "published_at": "发布时间（即 manifest.json 的 generated_at）",
        "stages": "各阶段耗时（秒）与行数",
    },
    "quarantine": {
        "source": "数据来源（如 registration、tax_payment）",
        "file": "文件（相对收件目录）",
        "line": "行号（表头为第1行）",
        "column": "列（报送的中文表头）",
        "value": "报送值（个人证件号码已遮蔽）",
        "rule": "违反的规则名",
    },
    "linkage": {
        "source": "来源：trademark 商标、patent 专利、taxpayer 纳税人身份",
        "record": "记录键：商标注册号、专利申请号或纳税人身份的键（不含明文身份证件号码）",
        "business_key": "关联到的主体键；未关联或多个候选时为空",
        "route": "关联途径：uscc 统一社会信用代码、operator_id 经营者证件、name 名称",
        "status": "结果：linked 已关联、unlinked 未关联、ambiguous 多个候选（不猜测，不计入任何主体）",
        "candidates": "多个候选时的候选主体键",
        "holder_no": "权利人序号：专利的第几个专利权人（各自关联）；其他记录为 1",
        "detail": "说明：名称途径关联的依据（名称或经营者姓名），或未关联、多个候选的原因",
        "taxpayer_rows": "纳税人身份：纳税人信息中的行数（商标、专利为空）",
        "tax_abnormal_rows": "纳税人身份：非正常户中的行数（商标、专利为空）",
        "tax_payment_rows": "纳税人身份：税款入库明细中的行数（商标、专利为空）",
    },
    "transitions": {
        "as_of": "本期判定日期",
        "cycle_id": "本期周期编号",
        "previous_cycle_id": "本省上一期周期编号",
        "previous_type": "上一期分型结果（新增主体为空）",
        "business_type": "本期分型结果（退出主体为空）",
        "movement": "变动：" + "、".join(MOVEMENTS),
    },
}
COLUMN_COMMENTS["directory_latest"] = COLUMN_COMMENTS["directory"]
COLUMN_COMMENTS["regions"] = {
    "region_code": "县级行政区划代码（6位）",
    "region_name": "县级行政区划名称",
    "city_code": "地市代码（4位）",
    "city_name": "地市名称",
    "province_code": "省份代码（2位）",
    "province_name": "省份名称",
    "kind": "类别（county 县级）",
}
COLUMN_COMMENTS["industries"] = {
    "division": "行业大类代码（2位）",
    "division_name": "行业大类名称",
    "section": "行业门类字母（A-T）",
    "section_name": "行业门类名称",
}
COLUMN_COMMENTS["codes"] = {
    "kind": "类别：criterion 基础条件、requirement 共同要求、condition 分型标准条件、reason 生存型的分型依据、"
    "quarantine_rule 隔离规则",
    "ruleset_id": "分型标准编号（条件和共同要求才有）",
    "ruleset_version": "分型标准版本（条件和共同要求才有）",
    "code": "代码（如 ANNUAL_REPORT、成长A、MIN_AGE、uscc_check）",
    "label": "中文含义",
}


@dataclass(frozen=True)
class CycleEntry:
    """The ``cycles`` row of one cycle."""

    province: str
    cycle_id: str
    as_of: dt.date
    report_year: int
    cycle_kind: str  # yearly, extra or draft (flows.home.Cycle.cycle_kind, schemas.terms)
    ruleset_id: str
    ruleset_version: str
    ruleset_sha256: str
    ruleset_file: str
    type_counts: dict[str, int]
    set_apart: dict[str, int]  # not_yet_established, unmatchable (transforms.summary.set_apart)
    quarantined: int
    missing_sources: list[str]
    inputs: list[dict]  # source, file, sha256, rows, accepted, quarantined, duplicates_collapsed
    outputs: list[dict]  # name, sha256, rows
    started_at: dt.datetime
    published_at: dt.datetime
    stages: list[dict]  # stage, seconds, rows (name -> count)


def _rank(column: str) -> str:
    cases = " ".join(f"WHEN '{t}' THEN {r}" for t, r in TYPE_RANK.items())
    return f"CASE {column} {cases} END"


#: ``cycles.cycle_kind``, read; only a cycle published before that column existed (null) gets it from its as-of
#: date, as ``schemas.terms.cycle_kind`` would: yearly when judged on the yearly as-of day.
CYCLE_KIND_SQL = (
    f"coalesce(cycle_kind, CASE WHEN month(as_of) = {YEARLY_AS_OF[0]} AND day(as_of) = {YEARLY_AS_OF[1]} "
    f"THEN '{YEARLY}' ELSE '{EXTRA}' END)"
)

#: Each cycle's kind.
_KINDS_SQL = f"""
    SELECT province, cycle_id, as_of, {CYCLE_KIND_SQL} AS cycle_kind
    FROM cycles
"""

_VIEW_SQL = {
    "directory_latest": f"""
        SELECT d.* FROM directory d
        JOIN (SELECT province, arg_max(cycle_id, as_of) AS cycle_id FROM ({_KINDS_SQL})
              WHERE cycle_kind = 'yearly' GROUP BY province) latest
          ON d.province = latest.province AND d.cycle_id = latest.cycle_id
    """,
    # every cycle, yearly or extra, is compared with the latest yearly cycle before it: an extra cycle in between
    # is never the base of a comparison
    "transitions": f"""
        WITH kinds AS ({_KINDS_SQL}),
        sequence AS (
            SELECT c.province, c.cycle_id, c.as_of,
                   (SELECT arg_max(y.cycle_id, y.as_of) FROM kinds y
                    WHERE y.province = c.province AND y.cycle_kind = 'yearly' AND y.as_of < c.as_of)
                       AS previous_cycle_id
            FROM kinds c
        ),
        now AS (
            SELECT s.*, d.business_key, d.business_type
            FROM directory d JOIN sequence s ON d.cycle_id = s.cycle_id
            WHERE s.previous_cycle_id IS NOT NULL
        ),
        before AS (
            SELECT s.*, d.business_key, d.business_type AS previous_type
            FROM directory d JOIN sequence s ON d.cycle_id = s.previous_cycle_id
        )
        SELECT coalesce(now.province, before.province) AS province,
               coalesce(now.cycle_id, before.cycle_id) AS cycle_id,
               coalesce(now.as_of, before.as_of) AS as_of,
               coalesce(now.previous_cycle_id, before.previous_cycle_id) AS previous_cycle_id,
               coalesce(now.business_key, before.business_key) AS business_key,
               before.previous_type,
               now.business_type,
               CASE
                   WHEN before.previous_type IS NULL THEN '新增'
                   WHEN now.business_type IS NULL THEN '退出'
                   WHEN {_rank("now.business_type")} > {_rank("before.previous_type")} THEN '上升'
                   WHEN {_rank("now.business_type")} < {_rank("before.previous_type")} THEN '下降'
                   ELSE '不变'
               END AS movement
        FROM now FULL JOIN before ON now.cycle_id = before.cycle_id AND now.business_key = before.business_key
    """,
}

_CYCLE_ROW_SQL = """
    CREATE TEMP TABLE incoming_cycles AS SELECT
        $province::VARCHAR AS province,
        $cycle_id::VARCHAR AS cycle_id,
        $as_of::DATE AS as_of,
        $report_year::INTEGER AS report_year,
        $cycle_kind::VARCHAR AS cycle_kind,
        $ruleset_id::VARCHAR AS ruleset_id,
        $ruleset_version::VARCHAR AS ruleset_version,
        $ruleset_sha256::VARCHAR AS ruleset_sha256,
        $ruleset_file::VARCHAR AS ruleset_file,
        $businesses::BIGINT AS businesses,
        $survival::BIGINT AS survival,
        $growth::BIGINT AS growth,
        $development::BIGINT AS development,
        $ineligible::BIGINT AS ineligible,
        $not_yet_established::BIGINT AS not_yet_established,
        $unmatchable::BIGINT AS unmatchable,
        $quarantined::BIGINT AS quarantined,
        $missing_sources::VARCHAR[] AS missing_sources,
        $inputs::STRUCT(source VARCHAR, file VARCHAR, sha256 VARCHAR, rows BIGINT, accepted BIGINT,
                        quarantined BIGINT, duplicates_collapsed BIGINT)[] AS inputs,
        $outputs::STRUCT(name VARCHAR, sha256 VARCHAR, rows BIGINT)[] AS outputs,
        $started_at::TIMESTAMPTZ AS started_at,
        $published_at::TIMESTAMPTZ AS published_at,
        $stages::STRUCT(stage VARCHAR, seconds DOUBLE, rows MAP(VARCHAR, BIGINT))[] AS stages
"""


def _cycle_row_parameters(entry: CycleEntry) -> dict:
    counts = entry.type_counts
    return {
        "province": entry.province,
        "cycle_id": entry.cycle_id,
        "as_of": entry.as_of,
        "report_year": entry.report_year,
        "cycle_kind": entry.cycle_kind,
        "ruleset_id": entry.ruleset_id,
        "ruleset_version": entry.ruleset_version,
        "ruleset_sha256": entry.ruleset_sha256,
        "ruleset_file": entry.ruleset_file,
        "businesses": sum(counts.values()),
        "survival": counts["生存型"],
        "growth": counts["成长型"],
        "development": counts["发展型"],
        "ineligible": counts["不符合分型条件"],
        "not_yet_established": entry.set_apart["not_yet_established"],
        "unmatchable": entry.set_apart["unmatchable"],
        "quarantined": entry.quarantined,
        "missing_sources": entry.missing_sources,
        "inputs": entry.inputs,
        "outputs": entry.outputs,
        "started_at": entry.started_at.isoformat(),
        "published_at": entry.published_at.isoformat(),
        "stages": entry.stages,
    }


def building_path(warehouse: Path) -> Path:
    """Where the next state of ``warehouse`` is built: beside it, so the final rename stays on one filesystem."""
    return warehouse.with_name(warehouse.name + ".building")


def _wal(database: Path) -> Path:
    return database.with_name(database.name + ".wal")


def _remove_database(path: Path) -> None:
    path.unlink(missing_ok=True)
    _wal(path).unlink(missing_ok=True)


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    """``text`` as an SQL string literal (for statements such as COMMENT ON that take no bound parameters)."""
    return "'" + text.replace("'", "''") + "'"


def _merge_stale_wal(warehouse: Path) -> None:
    # A client that opened the warehouse read-write and died leaves a WAL; after the swap DuckDB would replay
    # it against the new file. Checkpointing merges it into the old file first.
    if not _wal(warehouse).exists():
        return
    try:
        duckdb.connect(str(warehouse)).close()
    except duckdb.Error as e:
        raise WarehouseError(
            f"{warehouse}：存在预写日志 {_wal(warehouse).name}，且另一个程序以读写方式打开着数据仓库（{e}）。"
            "请关闭该程序后重新运行。"
        ) from None


#: How the building connection runs. DuckDB streams the stage files in and writes as it goes, so a memory bound
#: costs no time and keeps publish beside the rest of a large cycle (its default is 80% of the machine). Rows need
#: not keep their file order: at ten million businesses, keeping it made DuckDB write the tables twice (48 s, a
#: 1.2 GB file, against 32 s and 0.74 GB).
BUILD_CONFIG = {"memory_limit": "2GB", "preserve_insertion_order": False}


def _connect_building(target: Path, previous: Path | None) -> duckdb.DuckDBPyConnection:
    """A read-write connection to ``target``: a byte copy of the published warehouse ``previous``, or a new one."""
    if previous is None:
        return duckdb.connect(str(target), config=BUILD_CONFIG)
    shutil.copyfile(previous, target)
    try:
        return duckdb.connect(str(target), config=BUILD_CONFIG)
    except duckdb.Error as e:
        _remove_database(target)
        raise WarehouseError(
            f"{previous}：已发布的数据仓库无法读取，不能把此前的周期带入新数据仓库（{e}）。"
            "请从备份恢复它，或把它移走以新建数据仓库。"
        ) from None


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [(name, dtype) for name, dtype, *_ in con.execute(f"DESCRIBE {relation}").fetchall()]


def _replace_cycle_rows(con: duckdb.DuckDBPyConnection, table: str, cycle_id: str, existing: set[str]) -> None:
    """``table`` with its rows of ``cycle_id`` replaced by ``incoming_<table>``.

    A table whose columns differ from the incoming rows' (a column added or retyped since it was written) is
    rebuilt from its other cycles and the incoming rows, by column name: earlier cycles get NULL in a new column.
    Rows are deleted only when other cycles' rows stay beside them: deleting costs about half a second per million
    rows, a table of this cycle alone is simply replaced.
    """
    incoming = f"incoming_{table}"
    if table not in existing:
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM {incoming}")
        return
    this, others = con.execute(
        f"SELECT count(*) FILTER (cycle_id = $c), count(*) FILTER (cycle_id <> $c) FROM {table}", {"c": cycle_id}
    ).fetchone()
    if sorted(_columns(con, table)) != sorted(_columns(con, incoming)):
        con.execute(f"ALTER TABLE {table} RENAME TO earlier_{table}")
        con.execute(
            f"CREATE TABLE {table} AS SELECT * FROM earlier_{table} WHERE cycle_id <> $cycle_id "
            f"UNION ALL BY NAME SELECT * FROM {incoming}",
            {"cycle_id": cycle_id},
        )
        con.execute(f"DROP TABLE earlier_{table}")
    elif others == 0:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {incoming}")
    else:
        if this:
            con.execute(f"DELETE FROM {table} WHERE cycle_id = $cycle_id", {"cycle_id": cycle_id})
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {incoming}")


def _incoming_views(con: duckdb.DuckDBPyConnection, entry: CycleEntry, files: dict[str, Path]) -> None:
    """``incoming_<table>``: this cycle's rows of each table, from its stage file, led by province and cycle."""
    tag = f"{sql_literal(entry.province)} AS province, {sql_literal(entry.cycle_id)} AS cycle_id"
    rest = "COLUMNS(lambda c: c NOT IN ('province', 'cycle_id'))"
    for table, path in files.items():
        rows = f"SELECT {tag}, {rest} FROM read_parquet({sql_literal(str(path))})"
        if table == "directory":  # with the industry normalised to 门类 letter + 大类 (H62), after industry_code
            has_industries = con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'industries'"
            ).fetchone()
            rows = (
                f"SELECT r.*, i.section || i.division AS industry FROM ({rows}) r LEFT JOIN industries i "
                "ON i.division = substr(regexp_replace(r.industry_code, '^[A-Z]', ''), 1, 2)"
                if has_industries[0]
                else f"SELECT *, NULL::VARCHAR AS industry FROM ({rows})"
            )
        con.execute(f"CREATE TEMP VIEW incoming_{table} AS {rows}")


def _comment_for(table: str, column: str, carried: dict[tuple[str, str], str]) -> str:
    comment = COLUMN_COMMENTS[table].get(column) or _SHARED_COLUMNS.get(column) or carried.get((table, column))
    if not comment:
        raise WarehouseError(
            f"{Path(__file__)}：数据仓库的列 {table}.{column} 没有中文注释；请在此文件的 COLUMN_COMMENTS 中添加"
        )
    return comment


def _add_comments(con: duckdb.DuckDBPyConnection, carried: dict[tuple[str, str], str]) -> None:
    # only the warehouse's own tables and views: a table someone else added is carried over as it is
    columns = con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND list_contains($names, table_name) ORDER BY table_name, column_index",
        {"names": [*TABLES, *VIEWS, *REFERENCE_TABLES]},
    ).fetchall()
    present = {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    for name in (*TABLES, *VIEWS, *(t for t in REFERENCE_TABLES if t in present)):
        kind = "VIEW" if name in VIEWS else "TABLE"
        con.execute(f"COMMENT ON {kind} {name} IS {sql_literal(TABLE_COMMENTS[name])}")
    for table, column in columns:
        comment = _comment_for(table, column, carried)
        con.execute(f"COMMENT ON COLUMN {table}.{_quoted(column)} IS {sql_literal(comment)}")


def _reference_tables(con: duckdb.DuckDBPyConnection, reference: dict[str, pl.DataFrame], existing: set[str]) -> None:
    """``regions``, ``industries`` and ``codes`` replaced by ``reference``'s frames; ``codes`` keeps the rows of codes
    (an earlier ruleset's conditions) that are not in the new frame."""
    for name, frame in reference.items():
        con.register(f"incoming_{name}", frame)
        if name == "codes" and name in existing:
            key = "kind, ruleset_id, ruleset_version, code"
            con.execute(
                f"CREATE OR REPLACE TABLE codes AS SELECT * FROM incoming_codes UNION ALL BY NAME "
                f"SELECT * FROM codes WHERE ({key}) NOT IN (SELECT ({key}) FROM incoming_codes) "
                "ORDER BY kind, ruleset_id NULLS FIRST, ruleset_version NULLS FIRST, code"
            )
        else:
            con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM incoming_{name}")
        con.unregister(f"incoming_{name}")


def _objection_tables(con: duckdb.DuckDBPyConnection, home: Path) -> None:
    """Hook: the objection tables and the amended views (flows/objections/warehouse_tables.py), so that every
    publish carries the amendments over; a home without objections is left as it is."""
    from flows.objections.warehouse_tables import add_objection_tables  # it imports this module

    add_objection_tables(con, home)


def _monitoring_tables(con: duckdb.DuckDBPyConnection, province: str) -> None:
    """Hook: the province's ``monitoring_*`` tables (flows/monitoring/tables.py), rebuilt over all its cycles."""
    from flows.monitoring.tables import add_monitoring_tables  # it reads this module's tables

    add_monitoring_tables(con, province)


def _name_index(con: duckdb.DuckDBPyConnection) -> None:
    """Hook: the public search's name index (flows/storage/name_index.py), rebuilt over the finished tables."""
    from flows.storage.name_index import add_name_index

    add_name_index(con)


def build_warehouse(
    target: Path,
    previous: Path | None,
    entry: CycleEntry,
    files: dict[str, Path],
    reference: dict[str, pl.DataFrame] | None = None,
) -> None:
    """Write the complete next warehouse to ``target``: ``previous``'s other cycles and this cycle's rows.

    ``files`` holds the parquet file of this cycle's rows of every table but ``cycles`` (which comes from
    ``entry``); DuckDB reads them itself, streaming, and tags each row with its province and cycle.
    ``reference`` holds the frames of ``regions``, ``industries`` and ``codes`` (publish passes them; without it the
    tables the previous warehouse has are kept).
    """
    _remove_database(target)
    con = _connect_building(target, previous)
    try:
        existing = {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        carried_comments = {
            (t, c): comment
            for t, c, comment in con.execute(
                "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE comment IS NOT NULL"
            ).fetchall()
        }
        if reference:
            _reference_tables(con, reference, existing)
        con.execute(_CYCLE_ROW_SQL, _cycle_row_parameters(entry))
        _incoming_views(con, entry, files)
        for table in TABLES:
            _replace_cycle_rows(con, table, entry.cycle_id, existing)
        for view in VIEWS:
            con.execute(f"CREATE OR REPLACE VIEW {view} AS {_VIEW_SQL[view]}")
        _objection_tables(con, target.parent)
        _monitoring_tables(con, entry.province)
        _add_comments(con, carried_comments)
        _name_index(con)  # after the comments: its columns carry directory's
        con.execute("CHECKPOINT")
    finally:
        con.close()


def held_read_write(warehouse: Path) -> str | None:
    """Who holds ``warehouse`` open read-write (DuckDB's lock message, naming the process), or None."""
    # A read-write client holds DuckDB's lock on the file, so a read-only open fails; read-only clients do not.
    try:
        duckdb.connect(str(warehouse), read_only=True).close()
    except duckdb.Error as e:
        return str(e) if "lock" in str(e).lower() else None
    return None


def clear_leftovers(warehouse: Path) -> str | None:
    """Remove what a killed run left beside ``warehouse`` and merge a write-ahead log a dead client left in it.

    A live client holding it open read-write (an analyst's DBeaver left open overnight) does not stop the run: the
    scheduled run publishes, the client keeps working on the file it opened (the replaced one — what it writes
    from then on is not in the published warehouse), and the warning returned says so. Its write-ahead log, if
    any, is left alone: DuckDB refuses to replay it into the new file ("WAL does not match"), so new sessions
    fail until the client closes, and then open the new warehouse.
    """
    _remove_database(building_path(warehouse))
    if not warehouse.exists():
        return None
    holder = held_read_write(warehouse)
    if holder is None:
        _merge_stale_wal(warehouse)
        return None
    return (
        f"{warehouse}：发布时有程序以读写方式打开着数据仓库（{holder}）。本次仍照常发布：该程序继续使用它打开的旧文件，"
        "此后它写入的内容不在新发布的数据仓库中。分析人员请以只读方式打开数据仓库，自己的表放在自己的数据库里"
        "（ATTACH 数据仓库，READ_ONLY）。"
    )


def replace_published(built: Path, warehouse: Path) -> None:
    """Publish ``built`` as ``warehouse`` in one atomic rename; sessions open on the old file keep reading it."""
    if _wal(built).exists():
        raise WarehouseError(f"{built}：CHECKPOINT 之后仍有预写日志，不发布它")
    built.replace(warehouse)


@contextmanager
def rewritten(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to a copy of the published ``warehouse`` (a new database where none is published
    yet) for a step that changes tables between runs (名特优新, objections, measures); when the block ends without
    error the copy is checkpointed and swapped in atomically, otherwise the published file stays as it was. The
    caller holds the home lock."""
    clear_leftovers(warehouse)
    built = building_path(warehouse)
    con = _connect_building(built, warehouse if warehouse.exists() else None)
    try:
        yield con
        con.execute("CHECKPOINT")
    finally:
        con.close()
    replace_published(built, warehouse)


def open_read_only(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """An analyst's connection: read-only, so it never blocks nor alters a run."""
    if not warehouse.is_file():
        raise WarehouseError(f"{warehouse}：这里还没有数据仓库；getihu run 运行后会发布")
    try:
        return duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as e:
        raise WarehouseError(f"{warehouse}：无法以只读方式打开（{e}）") from None


def cycle_transitions(con: duckdb.DuckDBPyConnection, cycle_id: str) -> pl.DataFrame:
    """The ``transitions`` rows of one cycle (empty for a province's first cycle), sorted by business key."""
    return con.sql(
        "SELECT previous_cycle_id, business_key, previous_type, business_type, movement "
        "FROM transitions WHERE cycle_id = ? ORDER BY business_key",
        params=[cycle_id],
    ).pl()


def previous_cycle_id(con: duckdb.DuckDBPyConnection, province: str, as_of: dt.date) -> str | None:
    """The province's yearly cycle with the latest as-of date before ``as_of``, if any (what ``transitions``
    compares with)."""
    rows = con.execute(
        f"SELECT cycle_id FROM ({_KINDS_SQL}) WHERE province = ? AND as_of < ? AND cycle_kind = 'yearly' "
        "ORDER BY as_of DESC LIMIT 1",
        [province, as_of],
    ).fetchall()
    return rows[0][0] if rows else None
