"""Issue 14, finding 1: a run under a ruleset other than the filed one is a draft — refused without ``--draft``,
published with it only into ``<home>/drafts/``, never over the official cycle folder or warehouse."""

import json
import re

import polars as pl
import pytest

from flows.errors import ConfigurationError
from flows.home import cycle_for
from flows.stages import execute
from reference import RULESETS_DIR
from tests.support.faults import LATER, SECRET, copy_of, environment, getihu_run, published_files


def draft_ruleset(folder, version="2024.2"):
    """The filed Henan standard under another version, with a comment: not the filed file."""
    text = (RULESETS_DIR / "41.toml").read_text(encoding="utf-8")
    text = "# 草稿\n" + text.replace('version = "2024.1"', f'version = "{version}"')
    path = folder / "draft.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_ruleset_that_is_not_the_filed_one_is_refused_without_draft(tmp_path):
    with pytest.raises(ConfigurationError, match="--draft") as caught:
        cycle_for("41", LATER, None, tmp_path, None, draft_ruleset(tmp_path), SECRET)
    assert "草稿" in str(caught.value)


def test_the_filed_ruleset_given_as_a_file_is_not_a_draft(tmp_path):
    copy = tmp_path / "41.toml"
    copy.write_bytes((RULESETS_DIR / "41.toml").read_bytes())
    cycle = cycle_for("41", LATER, None, tmp_path, None, copy, SECRET)
    assert (cycle.cycle_id, cycle.cycle_kind, cycle.out_dir) == (
        "41-20250731",
        "yearly",
        tmp_path / "out/41/41-20250731",
    )


def test_a_province_whose_standard_is_not_filed_here_types_under_the_file_it_is_given(tmp_path):
    """The national run gives province 32 its own standard (national.md): that is no draft, and never refused."""
    assert not (RULESETS_DIR / "32.toml").exists()
    cycle = cycle_for("32", LATER, None, tmp_path, None, draft_ruleset(tmp_path), SECRET)
    assert (cycle.cycle_id, cycle.cycle_kind, cycle.out_dir) == (
        "32-20250731",
        "yearly",
        tmp_path / "out/32/32-20250731",
    )


def test_a_draft_may_not_claim_the_filed_version(tmp_path):
    with pytest.raises(ConfigurationError, match=r"HA-2024\.1.*version = \"2024\.2\""):
        cycle_for("41", LATER, None, tmp_path, None, draft_ruleset(tmp_path, "2024.1"), SECRET, draft=True)


def test_a_draft_never_touches_the_official_cycle_nor_the_warehouse(earlier_home, tmp_path):
    home = copy_of(earlier_home, tmp_path)
    before = published_files(home)
    cycle = cycle_for("41", LATER, None, home, None, draft_ruleset(tmp_path), SECRET, draft=True)
    assert cycle.cycle_id == "41-20250731-draft"
    execute(cycle)

    assert published_files(home) == before, "the official folders and warehouse are byte for byte as they were"
    assert not (home / "out" / "41" / "41-20250731").exists()
    folder = home / "drafts" / "out" / "41" / "41-20250731-draft"
    assert folder == cycle.out_dir and (home / "drafts" / "warehouse.duckdb").is_file()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["cycle_id"], manifest["cycle_kind"]) == ("41-20250731-draft", "draft")
    assert set(pl.read_csv(folder / "submission.csv")["分型标准"]) == {"HA-2024.2"}
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert re.search(r"<h1>【草稿】", report) and "不得报送" in report
    assert "全国名录报送截止日" not in report, "a draft is never submitted: no deadline to meet"


def test_getihu_run_refuses_a_draft_ruleset_in_chinese_and_publishes_nothing(earlier_home, tmp_path):
    home = copy_of(earlier_home, tmp_path)
    before = published_files(home)
    result = getihu_run(
        "",
        "--province",
        "41",
        "--year",
        "2025",
        "--home",
        str(home),
        "--ruleset",
        str(draft_ruleset(tmp_path)),
        env=environment(),
    )
    assert result.returncode == 2, result.stderr
    assert "--draft" in result.stderr and "草稿" in result.stderr
    assert published_files(home) == before
