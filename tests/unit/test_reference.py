import polars as pl

from reference import industries, province_regions, regions


def test_regions_cover_both_provinces_with_six_digit_codes_of_their_own_province():
    table = regions()
    assert len(set(table["province_code"])) == 31 and {"23", "41"} <= set(table["province_code"])  # all 31 provinces
    assert table["region_code"].str.contains(r"^\d{6}$").all()
    assert (table["region_code"].str.slice(0, 2) == table["province_code"]).all()
    assert table["region_code"].is_unique().all()
    assert province_regions("41").filter(pl.col("region_code") == "410105")["region_name"].to_list() == ["金水区"]
    assert province_regions("23").filter(pl.col("region_code") == "232701")["region_name"].to_list() == ["漠河市"]


def test_industries_are_the_97_divisions_in_20_sections():
    table = industries()
    assert table.height == 97
    assert table["division"].to_list() == [f"{d:02d}" for d in range(1, 98)]
    assert table["section"].n_unique() == 20
    assert table.filter(pl.col("division") == "62")["section"].to_list() == ["H"]
