"""report.html: self-contained, in Chinese, every section a section chief needs."""

import datetime as dt
import re
from dataclasses import replace

import pytest

from flows.home import CHINA_TIME
from flows.report.charts import Series, bar_chart, stacked_bar_chart
from flows.report.report import deadline_met, submission_deadline
from flows.stages.publish import publish
from tests.support.stage_fixture import Fixture, write_cycle

SECTIONS = [
    "本期概况",
    "分型结果",
    "地区分布",
    "行业分布",
    "不符合分型条件的原因",
    "与上期相比",
    "数据关联",
    "数据接收与隔离",
    "运行耗时",
    "说明",
]


def report_of(tmp_path, fixture=None, published_at=dt.datetime(2025, 8, 1, 2, 5, tzinfo=CHINA_TIME)) -> str:
    cycle = write_cycle(tmp_path, fixture)
    publish(cycle, clock=lambda: published_at)
    return (cycle.out_dir / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> str:
    home = tmp_path_factory.mktemp("home")
    publish(write_cycle(home, Fixture(as_of=dt.date(2024, 7, 31), started_at="2024-08-01T02:00:00+08:00")))
    later = Fixture().with_types({1: ("不符合分型条件", ("SERIOUS",)), 2: ("发展型", ("发展A",))})
    return report_of(home, later)


def test_the_report_is_one_page_that_needs_nothing_from_elsewhere(report):
    assert report.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in report
    for outside in ("<script", "<link", "@import", "url(", 'src="', "http://", "https://"):
        assert outside not in report, outside
    assert report.count("<svg") >= 8, "counts by type, city, county, section, reasons, movements, linkage, timings"


def test_the_report_has_every_section_in_chinese(report):
    headings = re.findall(r"<h2>(.*?)</h2>", report)
    assert [h.split("（")[0] for h in headings] == SECTIONS


def test_the_report_shows_counts_regions_sections_and_reasons_by_name(report):
    assert "河南省个体工商户分型" in report
    for county in ("金水区", "中原区", "巩义市", "老城区"):
        assert county in report
    for section in ("住宿和餐饮业", "批发和零售业", "制造业"):
        assert section in report
    assert "列入经营异常名录" in report and "列入严重违法失信名单" in report
    assert "HA-2025.1" in report


def test_the_report_shows_movements_linkage_quarantine_and_stage_times(report):
    assert "与上一期 41-20240731 相比" in report
    assert "上升" in report and "下降" in report
    assert "纳税人身份" in report and "多个候选" in report
    assert "未报送" in report and "resident_id_check" in report
    for stage in ("读入", "校验", "关联", "特征", "分型", "发布"):
        assert stage in report
    assert "3.4 秒" in report


def test_the_report_says_valid_trademark_stands_in_for_use_in_business(report):
    assert "在经营中实际使用" in report and "规则解释第 6 条" in report


def test_the_first_cycle_of_a_province_says_there_is_nothing_to_compare(tmp_path):
    assert "本省此前没有已发布的周期" in report_of(tmp_path)


def test_the_report_says_whether_the_15_august_deadline_was_met(tmp_path):
    on_time = report_of(tmp_path / "a", published_at=dt.datetime(2025, 8, 15, 23, 59, tzinfo=CHINA_TIME))
    late = report_of(tmp_path / "b", published_at=dt.datetime(2025, 8, 16, 0, 1, tzinfo=CHINA_TIME))
    assert "✔ 按期" in on_time and "截止日 2025-08-15" in on_time
    assert "✘ 逾期" in late


def test_an_extra_cycle_after_the_deadline_says_it_is_not_the_yearly_submission(tmp_path):
    extra = replace(Fixture(), as_of=dt.date(2025, 11, 30))
    text = report_of(tmp_path, extra, published_at=dt.datetime(2025, 12, 1, 9, 0, tzinfo=CHINA_TIME))
    assert "加开的判定周期" in text


def test_the_deadline_is_15_august_of_the_cycle_year_in_china_time():
    assert submission_deadline(2025) == dt.date(2025, 8, 15)
    utc = dt.UTC
    assert deadline_met(dt.datetime(2025, 8, 15, 15, 59, tzinfo=utc), dt.date(2025, 8, 15), CHINA_TIME)
    assert not deadline_met(dt.datetime(2025, 8, 15, 16, 0, tzinfo=utc), dt.date(2025, 8, 15), CHINA_TIME)


def test_chart_labels_are_escaped_and_bars_scale_to_the_largest_value():
    svg = str(bar_chart("t", [("<b>&", 50), ("b", 100)], color="#000", label_width=100, width=400))
    assert "&lt;b&gt;&amp;" in svg and "<b>" not in svg
    widths = [float(w) for w in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)"', svg)]
    assert widths[1] == 2 * widths[0] == 400 - 100 - 90


def test_stacked_bars_in_shares_mode_fill_the_same_width_whatever_the_total():
    series = [Series("a", "#111"), Series("b", "#222")]
    svg = str(stacked_bar_chart("t", [("x", [1, 1]), ("y", [30, 10])], series, shares=True, label_width=100, width=400))
    bars = r'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="[\d.]+" fill="#\d+"><title>'
    widths = [float(w) for w in re.findall(bars, svg)]
    assert widths == [105.0, 105.0, 157.5, 52.5]


def test_the_report_lists_unrecognised_files_and_conflicting_listing_episodes(tmp_path):
    """Issue 12, findings 9 and 1: a file matching no source, and an episode delivered twice, are shown."""
    import json

    import polars as pl

    from schemas.work_files import EPISODE_CONFLICTS_SCHEMA

    cycle = write_cycle(tmp_path)
    inputs_path = cycle.work_dir / "inputs.json"
    inputs = json.loads(inputs_path.read_text(encoding="utf-8"))
    inputs_path.write_text(json.dumps(inputs | {"unrecognised_files": ["专利.csv"]}, ensure_ascii=False), "utf-8")
    episodes = [("serious_list", "92410105MA0000001X", dt.date(2024, 3, 1), 2)]
    pl.DataFrame(episodes, schema=EPISODE_CONFLICTS_SCHEMA, orient="row").write_parquet(
        cycle.work_dir / "episode_conflicts.parquet"
    )
    publish(cycle, clock=lambda: dt.datetime(2025, 8, 1, 2, 5, tzinfo=CHINA_TIME))
    html = (cycle.out_dir / "report.html").read_text(encoding="utf-8")
    assert "未识别的文件（1 个，未读入）" in html and "<code>专利.csv</code>" in html
    assert "有冲突的名录记录（1 段" in html and "92410105MA0000001X" in html and "2024-03-01" in html
