"""All 31 provinces' county codes (data/regions.csv): the generator makes any province, and `getihu run` still
refuses a province whose typing standard is not filed."""

import polars as pl
from typer.testing import CliRunner

from flows.cli import app
from flows.secret import DEVELOPMENT_SECRET, SECRET_VARIABLE
from reference import province_regions, regions
from synth.generate import generate
from synth.world import Plan


def test_every_province_has_its_own_six_digit_county_codes():
    table = regions()
    assert table["province_code"].n_unique() == 31
    assert table["region_code"].is_unique().all()
    assert (table["region_code"].str.slice(0, 2) == table["province_code"]).all()
    assert (table["city_code"].str.slice(0, 2) == table["province_code"]).all()
    per_province = table.group_by("province_code").len()
    assert per_province["len"].min() >= 10  # 宁夏, the smallest, has 22
    assert province_regions("46").filter(pl.col("region_code") == "469002")["region_name"].to_list() == ["琼海市"]
    assert province_regions("44").filter(pl.col("region_code") == "441900")["region_name"].to_list() == ["东莞市"]


def test_the_generator_makes_a_province_beyond_23_and_41(tmp_path):
    result = generate(Plan("65", 2025, 300, seed=1), tmp_path / "65", lambda *_: None)
    registration = pl.read_csv(result.inbox / "registration.csv", infer_schema=False)
    codes = set(province_regions("65")["region_code"])
    region_column = next(c for c in registration.columns if "行政区划" in c)
    assert set(registration[region_column].drop_nulls()) <= codes


def test_getihu_run_refuses_a_province_without_a_filed_standard(tmp_path, monkeypatch):
    monkeypatch.setenv(SECRET_VARIABLE, DEVELOPMENT_SECRET)
    result = CliRunner().invoke(app, ["run", "--province", "32", "--year", "2025", "--home", str(tmp_path)])
    assert result.exit_code == 2
    assert "省份 32 没有备案的分型标准" in result.output
