"""A hand-made three-year history of province 41 (issue 20), written from the seeds, not from the generator.

Yearly cycles 2023, 2024, 2025 (31 July) and one extra cycle on 2023-10-31. Six businesses:

- A (410102): 生存型 2023 → 成长型 2024 → 发展型 2025 (6 insured people in 2025)
- B (410102): 发展型 in all three years; 3 insured people; sales 50 万 (2023), 150 万 (extra), 80 万 (2024, but 5
  insured), 120 万 (2025)
- C (410103): 成长型 2023, closed (注销) by 2024 (不符合分型条件, not 存续), gone from the 2025 register
- D (410103): 生存型 2023, not in the 2024 register at all
- E (410103): established in 2024: 生存型 2024 and 2025
- F (410103): 不符合分型条件 in 2023 while 存续 (abnormal list), 生存型 in 2024 and 2025
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import polars as pl

from flows.storage.warehouse import _VIEW_SQL

Y23, X23, Y24, Y25 = "41-20230731", "41-20231031", "41-20240731", "41-20250731"
S, G, D_, N = "生存型", "成长型", "发展型", "不符合分型条件"
AS_OF = {Y23: dt.date(2023, 7, 31), X23: dt.date(2023, 10, 31), Y24: dt.date(2024, 7, 31), Y25: dt.date(2025, 7, 31)}
KIND = {Y23: "yearly", X23: "extra", Y24: "yearly", Y25: "yearly"}
REPORT_YEAR = {Y23: 2022, X23: 2022, Y24: 2023, Y25: 2024}
REGION = {"A": "410102", "B": "410102", "C": "410103", "D": "410103", "E": "410103", "F": "410103"}
INDUSTRY = {"A": "F52", "B": "H62", "C": "F51", "D": None, "E": "O80", "F": "F52"}

#: (cycle, business) -> (type, 存续, insured incl. operator, insured excl. operator, employees, sales in 元)
ROWS = {
    (Y23, "A"): (S, True, 1, 0, 0, 100_000),
    (Y23, "B"): (D_, True, 3, 2, 2, 500_000),
    (Y23, "C"): (G, True, 2, 1, 1, 350_000),
    (Y23, "D"): (S, True, 0, 0, None, 50_000),
    (Y23, "F"): (N, True, 0, 0, 0, 20_000),
    (X23, "A"): (G, True, 1, 0, 0, 320_000),
    (X23, "B"): (D_, True, 3, 2, 2, 1_500_000),
    (X23, "C"): (G, True, 2, 1, 1, 350_000),
    (X23, "D"): (S, True, 0, 0, None, 50_000),
    (X23, "F"): (N, True, 0, 0, 0, 20_000),
    (Y24, "A"): (G, True, 3, 2, 2, 400_000),
    (Y24, "B"): (D_, True, 5, 4, 4, 800_000),
    (Y24, "C"): (N, False, 0, 0, None, None),
    (Y24, "E"): (S, True, 1, 0, 0, 60_000),
    (Y24, "F"): (S, True, 1, 0, 0, 90_000),
    (Y25, "A"): (D_, True, 6, 5, 5, 700_000),
    (Y25, "B"): (D_, True, 3, 2, 2, 1_200_000),
    (Y25, "E"): (S, True, 1, 0, 1, 80_000),
    (Y25, "F"): (S, True, 1, 0, 0, 95_000),
}


def key(letter: str) -> str:
    return f"92410100MA0000000{letter}"


def cycles() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "province": ["41"] * 4,
            "cycle_id": list(AS_OF),
            "as_of": list(AS_OF.values()),
            "report_year": [REPORT_YEAR[c] for c in AS_OF],
            "cycle_kind": [KIND[c] for c in AS_OF],
        }
    )


def directory() -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "province": "41",
                "cycle_id": c,
                "as_of": AS_OF[c],
                "business_key": key(b),
                "uscc": key(b),
                "name": f"个体户{b}",
                "region_code": REGION[b],
                "industry": INDUSTRY[b],
                "business_type": row[0],
            }
            for (c, b), row in ROWS.items()
        ]
    )


def features() -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "cycle_id": c,
                "business_key": key(b),
                "status_active": row[1],
                "insured_incl_operator": row[2],
                "insured_excl_operator": row[3],
                "employees_prev_year": row[4],
                "sales_prev_year": None if row[5] is None else Decimal(row[5]),
            }
            for (c, b), row in ROWS.items()
        ],
        schema_overrides={"sales_prev_year": pl.Decimal(18, 2), "employees_prev_year": pl.Int32},
    )


def transitions() -> pl.DataFrame:
    """The warehouse's own ``transitions`` view over this history."""
    con = duckdb.connect()
    con.register("cycles", cycles())
    con.register("directory", directory())
    return con.sql(_VIEW_SQL["transitions"]).pl()
