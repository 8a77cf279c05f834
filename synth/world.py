"""What a synthetic province is: its arguments, its counties, and the fixed capacities of its code spaces."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from reference import province_regions
from synth import vocab

#: Businesses generated together; fixed, because the chunk number seeds each chunk's random draws.
CHUNK_SIZE = 100_000
#: Sequence numbers per (ID region, birthday) in a resident ID.
_ID_SERIALS = 1000
_DAYS = 365
FORMATS = ("csv", "parquet")
MIN_BUSINESSES = 300  # room for the designed boundary cases and a random province around them
#: Days from the as-of date to the extraction (``extracted_on`` in inbox.toml): departments extract after D.
EXTRACT_LAG_DAYS = 4


@dataclass(frozen=True)
class Plan:
    """The arguments of one ``getihu generate`` run."""

    province: str
    year: int
    businesses: int
    seed: int = 0
    faults: float = 0.0
    file_format: str = "csv"
    as_of: dt.date | None = None
    department_names: bool = False  # name some files as departments do (专利.csv), mapped in inbox.toml [files]

    def __post_init__(self) -> None:
        if self.file_format not in FORMATS:
            raise ValueError(f"--format must be one of {', '.join(FORMATS)}, got {self.file_format!r}")
        if not 0.0 <= self.faults <= 0.5:
            raise ValueError(f"--faults is a share of rows from 0 to 0.5, got {self.faults}")
        if self.as_of is not None and self.as_of.year != self.year:
            raise ValueError(f"--as-of {self.as_of} is not in --year {self.year}")

    @property
    def as_of_date(self) -> dt.date:
        return self.as_of or dt.date(self.year, 7, 31)

    @property
    def report_year(self) -> int:
        """``R`` (rules.md, Terms): the latest year whose report was due (30 June of the next year) on or before D."""
        return self.year - 1 if self.as_of_date >= dt.date(self.year, 6, 30) else self.year - 2

    @property
    def extracted_on(self) -> dt.date:
        """When the departments took their extracts: a few days after D; later dates are impossible."""
        return self.as_of_date + dt.timedelta(days=EXTRACT_LAG_DAYS)

    @property
    def chunks(self) -> int:
        return -(-self.businesses // CHUNK_SIZE)

    def chunk_bounds(self, chunk: int) -> tuple[int, int]:
        return chunk * CHUNK_SIZE, min((chunk + 1) * CHUNK_SIZE, self.businesses)

    def rng(self, chunk: int, aspect: str) -> np.random.Generator:
        """An independent random stream per chunk and aspect, so changing one aspect leaves the others alone."""
        return np.random.default_rng([self.seed, chunk, *aspect.encode()])


class World:
    """The province's fixed facts: counties with their weights, name parts, code capacities."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        regions = province_regions(plan.province)
        if regions.is_empty():
            raise ValueError(f"no county codes for province {plan.province!r} in data/regions.csv")
        self.regions = regions.sort("region_code")
        # counties differ in size; the province's seed fixes how
        sizes = np.random.default_rng([plan.seed, 0xC0]).lognormal(0.0, 0.6, self.regions.height)
        sizes[self.regions["kind"].to_numpy() != "county"] *= 0.3
        self.region_weights = sizes / sizes.sum()
        province_name = self.regions["province_name"][0]
        self.province_name = province_name
        self.id_regions = np.array(
            sorted(set(self.regions["region_code"].to_list()) | set(vocab.RETIRED_ID_REGIONS))
            + list(vocab.OTHER_ID_REGIONS)
        )
        self.check_capacity()

    @cached_property
    def person_capacity(self) -> int:
        return len(self.id_regions) * _DAYS * _ID_SERIALS

    @property
    def trade_capacity(self) -> int:
        return len(vocab.TRADE_CHARS) ** 3

    def check_capacity(self) -> None:
        # operators, employees and outsiders each get a block of person numbers the size of the province
        if 3 * self.plan.businesses > self.person_capacity or self.plan.businesses > self.trade_capacity:
            limit = min(self.person_capacity // 3, self.trade_capacity)
            raise ValueError(f"--businesses {self.plan.businesses} exceeds what the code spaces hold ({limit})")
        if self.plan.businesses < MIN_BUSINESSES:
            raise ValueError(f"--businesses must be at least {MIN_BUSINESSES} (the designed boundary cases)")
