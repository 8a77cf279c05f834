"""Issue 14, finding 7: ``getihu cycles`` lists a home's cycles, ``getihu compare`` two cycles side by side."""

import datetime as dt
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.cycles import compare, published_cycles
from flows.stages.publish import publish
from tests.support.stage_fixture import Fixture, write_cycle


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("cycles")
    fixture = Fixture()
    changed = fixture.with_types({fixture.businesses[0].n: ("发展型", ("发展A",))})
    publish(write_cycle(home, replace(fixture, as_of=dt.date(2024, 7, 31))))
    publish(write_cycle(home, replace(changed, as_of=dt.date(2025, 9, 30))))
    return home


def test_cycles_lists_each_cycle_with_its_kind(home):
    found = published_cycles(home)
    assert found.select("cycle_id", "cycle_kind").rows() == [("41-20240731", "yearly"), ("41-20250930", "extra")]
    result = CliRunner().invoke(app, ["cycles", "--home", str(home)], env={"COLUMNS": "200"})
    assert (
        result.exit_code == 0
        and "41-20250930" in result.output
        and "临时分型" in result.output
        and "年度分型" in result.output
    )


def test_compare_gives_counts_and_movements(home):
    counts, moves = compare(home, "41-20240731", "41-20250930")
    assert counts["分型结果"].to_list() == ["发展型", "成长型", "生存型", "不符合分型条件", "合计"]
    total = counts.filter(counts["分型结果"] == "合计")
    assert total["41-20240731"].item() == total["41-20250930"].item() == len(Fixture().businesses)
    moved = dict(moves.iter_rows())
    assert sum(moved.values()) == len(Fixture().businesses)
    assert moved.get("上升", 0) + moved.get("不变", 0) + moved.get("下降", 0) == len(Fixture().businesses)
    result = CliRunner().invoke(app, ["compare", "41-20240731", "41-20250930", "--home", str(home)])
    assert result.exit_code == 0 and "变动" in result.output


def test_compare_names_a_cycle_that_is_not_there(home):
    result = CliRunner().invoke(app, ["compare", "41-20240731", "41-20990731", "--home", str(home)])
    assert result.exit_code == 1 and "没有周期 41-20990731" in result.output
