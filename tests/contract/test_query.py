"""`getihu query` on a published warehouse, through the command line."""

import datetime as dt

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.stages.publish import publish
from tests.support.stage_fixture import Fixture, write_cycle

runner = CliRunner()
BUSINESSES = Fixture().businesses


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    publish(write_cycle(home, Fixture(as_of=dt.date(2024, 7, 31), started_at="2024-08-01T02:00:00+08:00")))
    publish(write_cycle(home, Fixture().with_types({8: ("成长型", ("成长A",))})))
    return home


def query(home, text):
    return runner.invoke(app, ["query", text, "--home", str(home)], env={"COLUMNS": "160"})


def test_a_uscc_shows_the_type_and_reasons_of_every_cycle_and_the_features_behind_them(home):
    business = next(b for b in BUSINESSES if b.n == 8)
    result = query(home, business.uscc)
    assert result.exit_code == 0, result.output
    out = result.output
    assert business.name in out and business.uscc in out and business.reg_no in out
    assert "410102 郑州市中原区" in out
    assert "41-20240731" in out and "41-20250731" in out
    assert "发展型" in out and "成长型" in out, "the 2024 type and the 2025 type"
    assert "发展A" in out and "成长D" in out and "成长A" in out
    assert "报告年度实缴税款净额" in out and f"{business.tax_paid:,.2f}" in out
    assert "成立年限" in out


def test_a_uscc_is_found_whatever_its_case_and_surrounding_spaces(home):
    business = BUSINESSES[0]
    result = query(home, f"  {business.uscc.lower()} ")
    assert result.exit_code == 0, result.output
    assert business.uscc in result.output and "各期分型" in result.output


def test_a_registration_number_finds_a_business_without_uscc(home):
    business = next(b for b in BUSINESSES if not b.has_uscc)
    result = query(home, business.reg_no)
    assert result.exit_code == 0, result.output
    assert business.reg_no in result.output and "统一社会信用代码 —" in result.output


def test_a_name_matching_several_businesses_gives_a_short_list_with_their_codes(home):
    result = query(home, "小店1")
    assert result.exit_code == 0, result.output
    named = [b for b in BUSINESSES if b.name and "小店1" in b.name]
    assert f"匹配 {len(named)} 户" in result.output
    for business in named:
        assert (business.uscc or business.reg_no) in result.output
    assert "各期分型" not in result.output


def test_a_name_matching_one_business_shows_it(home):
    business = next(b for b in BUSINESSES if b.n == 23)
    result = query(home, business.name)
    assert result.exit_code == 0, result.output
    assert "各期分型" in result.output and business.name in result.output


def test_no_match_says_so_and_exits_non_zero(home):
    result = query(home, "不存在的店")
    assert result.exit_code == 1
    assert "没有统一社会信用代码或注册号为“不存在的店”、或名称含“不存在的店”的个体工商户" in result.output


def test_text_that_looks_like_sql_is_only_ever_a_value(home):
    result = query(home, "' OR 1=1 --")
    assert result.exit_code == 1
    assert "没有统一社会信用代码或注册号为" in result.output


def test_a_home_without_a_warehouse_is_a_message_not_a_traceback(tmp_path):
    result = query(tmp_path, "92410105MA00000011")
    assert result.exit_code == 1
    assert "还没有数据仓库" in result.output and "Traceback" not in result.output


# Issue 14, finding 6: what an objection handler needs beside the type.


def test_codes_are_shown_with_their_chinese_meaning(home):
    from schemas.vocabulary import CRITERIA_LABELS

    ineligible = next(b for b in BUSINESSES if b.business_type == "不符合分型条件")
    out = query(home, ineligible.key).output
    code = ineligible.criteria_failed[0]
    assert code in out and CRITERIA_LABELS[code][:4] in out


def test_linked_records_and_ambiguous_candidacy_are_shown(home):
    keys = [b.key for b in BUSINESSES]
    linked = query(home, keys[2]).output
    assert "TM30000001" in linked and "商标" in linked and "统一社会信用代码" in linked
    candidate = query(home, keys[6]).output
    assert "2024100000022" in candidate and "多个候选" in candidate


def test_a_code_found_only_in_the_quarantine_shows_those_rows(home):
    result = query(home, "92410105MA0000009Q")
    assert result.exit_code == 1
    assert "隔离记录" in result.output and "registration.csv" in result.output and "uscc_check" in result.output


def test_a_partial_name_is_paged(home):
    first = runner.invoke(app, ["query", "小店", "--home", str(home)], env={"COLUMNS": "160"}).output
    second = runner.invoke(app, ["query", "小店", "--home", str(home), "--page", "2"], env={"COLUMNS": "160"}).output
    everything = runner.invoke(app, ["query", "小店", "--home", str(home), "--all"], env={"COLUMNS": "160"}).output
    assert "第 1/2 页" in first and "--page" in first
    assert first != second
    assert "另有" not in everything and all(b.name in everything for b in BUSINESSES if b.name and "小店" in b.name)


def test_names_holding_rich_markup_are_printed_as_they_are():
    # issue 13, item 14: 烩面馆[/] crashed the list (rich read it as a closing tag)
    import io

    import polars as pl
    from rich.console import Console

    from flows.query import Lookup, match_list

    matches = pl.DataFrame(
        {
            "uscc": ["924101020000000011", "924101020000000029"],
            "reg_no": [None, None],
            "name": ["老王烩面馆[/]", "[bold]烩面馆[/bold]"],
            "region_code": ["410102", "410102"],
            "business_type": ["生存型", "成长型"],
        }
    )
    lookup = Lookup(text="烩面馆[/]", matches=matches, history=pl.DataFrame(), features=pl.DataFrame())
    out = io.StringIO()
    Console(file=out, width=160).print(match_list(lookup))
    assert "老王烩面馆[/]" in out.getvalue() and "[bold]烩面馆[/bold]" in out.getvalue()
    assert "“烩面馆[/]”匹配 2 户" in out.getvalue()
