"""``getihu generate --years N``: one province over N consecutive yearly cycles, the same businesses throughout.

The businesses are drawn once, as the register stands at the last year's extraction (``businesses()`` of the last
year's plan: same USCCs, names, counties, industries in every year). Each business then gets a history, drawn
from its own random stream:

- founded: its 成立日期; a year's inbox holds only businesses established by that year's extraction date, so the
  register grows year by year (about a sixth of the last register was founded in its last year);
- closed: a business whose last status is 注销, 吊销, 撤销 or 迁出 closed on ``closed_on``, a day between two years
  before the first as-of date and the last extraction; before that day it is 存续 (in one of the spellings
  registers use), from that day on it carries its closing status. A closure between D and the extraction shows
  as closed in that year's extract (a late removal, as departments send it);
- grows or declines: its latent size (sales, staff, tax and insured people follow it) moves by a yearly growth
  rate; businesses about to close decline before they do.

Each year is then written as the single-year generator writes a cycle (``synth.generate.generate``, with late
removals, corrected reports, surcharges, payments after D, ...), every department's rows drawn afresh for the year
but one: whether a business files a year's annual report is fixed per business and report year, with habitual
non-filers (``HistoryRecords``), so the same report is filed in every delivery and not filing persists.

The designed boundary cases of the single-year generator are left out: they are made anew for each as-of date
and would not be the same businesses from one year to the next. Beside each year's inbox, its truth folder
holds ``history.parquet``: every business of the register with its founding and closing dates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

from synth.businesses import ACTIVE_ALIASES, businesses
from synth.generate import Generated, generate
from synth.records import ChunkRecords
from synth.world import Plan, World

#: How far before the first as-of date the closures of the last register go back (the register keeps closed
#: businesses; those closed earlier are closed in every year generated).
CLOSED_SINCE_YEARS = 2
#: Yearly growth of the latent size (in standard deviations of the province's sizes): mean and spread; a business
#: that closes within the years generated declines by ``DECLINE`` a year more.
GROWTH_MEAN, GROWTH_SD, DECLINE = 0.05, 0.25, 0.35
#: The staff a latent size gives (as in ``synth.businesses``): 1 + Poisson(exp(STAFF_BASE + STAFF_SLOPE × size)).
STAFF_BASE, STAFF_SLOPE = -0.75, 0.9
MAX_YEARS = 10
#: Annual reports: a business files as it did before. ``NON_FILER_SHARE`` of the businesses are habitual
#: non-filers, filing a year's report with probability ``NON_FILER_FILES``; the others file more often, so that the
#: share filing is the single-year generator's (``synth.records.ANNUAL_REPORT_FILING``). A report year's draw is
#: the same in every year's delivery: a report filed is still filed a year later.
NON_FILER_SHARE, NON_FILER_FILES = 0.10, 0.2
_HABIT = 0x4AB17
_MASK = (1 << 64) - 1


def unit_draws(seed: int, keys: np.ndarray, salt: int) -> np.ndarray:
    """A uniform number in [0, 1) per key, fixed by (seed, key, salt) alone: splitmix64 of the key."""
    x = keys.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) ^ np.uint64((seed * 1_000_003 + salt) & _MASK)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


class HistoryRecords(ChunkRecords):
    """The departments' rows of one year of several: as the single-year generator makes them, but a business keeps
    its annual-report habit from year to year and a report year's filing is the same in every delivery."""

    def files_report(self, rng: np.random.Generator, year: int, share: np.ndarray) -> np.ndarray:
        habitual = unit_draws(self.plan.seed, self.bidx, _HABIT) < NON_FILER_SHARE
        low = np.minimum(share, NON_FILER_FILES)
        high = (share - NON_FILER_SHARE * low) / (1 - NON_FILER_SHARE)
        return unit_draws(self.plan.seed, self.bidx, year) < np.where(habitual, low, high)


@dataclasses.dataclass(frozen=True)
class YearPlan(Plan):
    """One year of a several-year province: its departments' rows drawn from streams of their own year."""

    epoch: int = 0  # the year's place: 0 for the first year

    def rng(self, chunk: int, aspect: str) -> np.random.Generator:
        return super().rng(chunk, f"year{self.epoch}/{aspect}")


def year_plans(plan: Plan, years: int) -> list[YearPlan]:
    """The plans of ``years`` yearly cycles from ``plan.year`` on (as-of 31 July each)."""
    if not 2 <= years <= MAX_YEARS:
        raise ValueError(f"--years 须是 1 到 {MAX_YEARS} 的整数（1 为只生成一个周期），得到 {years}")
    if plan.as_of is not None:
        raise ValueError("--years 生成的是连续的年度周期（每年 7 月 31 日判定），不能同时给 --as-of")
    fields = {f.name: getattr(plan, f.name) for f in dataclasses.fields(Plan)}
    return [YearPlan(**(fields | {"year": plan.year + k}), epoch=k) for k in range(years)]


def histories(base: World, chunk: int, first_as_of: dt.date) -> pl.DataFrame:
    """The register of one chunk as it stands at the last extraction, with each business's history:
    ``_closed_on`` (null: never closed), ``_growth`` (yearly change of the latent size)."""
    plan = base.plan
    start, stop = plan.chunk_bounds(chunk)
    biz = businesses(base, start, stop, plan.rng(chunk, "businesses"))
    rng = plan.rng(chunk, "history")
    n = biz.height
    established = biz["established_on"].to_numpy().astype("datetime64[D]")
    floor = np.datetime64(first_as_of.replace(year=first_as_of.year - CLOSED_SINCE_YEARS))
    last = np.datetime64(plan.extracted_on)
    low = np.maximum(established + 60, floor)
    span = np.maximum((last - low).astype(np.int64), 0)
    closed_on = np.minimum(low + (rng.random(n) * (span + 1)).astype(np.int64), last)
    closes = ~biz["_active"].to_numpy()
    growth = rng.normal(GROWTH_MEAN, GROWTH_SD, n) - np.where(closes & (closed_on >= floor), DECLINE, 0.0)
    return biz.with_columns(
        _closed_on=pl.Series(np.where(closes, closed_on, np.datetime64("NaT")).astype("datetime64[D]")),
        _growth=pl.Series(growth),
        _alias=pl.Series(rng.choice(np.array(list(ACTIVE_ALIASES)), n, p=np.array(list(ACTIVE_ALIASES.values())))),
    ).with_columns(pl.col("_closed_on").cast(pl.Date))


def spine_of_year(history: pl.DataFrame, plan: YearPlan, years_to_last: int, chunk: int) -> pl.DataFrame:
    """The registration spine of one chunk in ``plan``'s year: founded by its extraction, closed or 存续, sized."""
    extracted = plan.extracted_on
    present = history.filter(pl.col("established_on") <= extracted)
    closed = pl.col("_closed_on").is_not_null() & (pl.col("_closed_on") <= extracted)
    size = present["_size"].to_numpy() - present["_growth"].to_numpy() * years_to_last
    staff = 1 + plan.rng(chunk, "history/staff").poisson(np.exp(STAFF_BASE + STAFF_SLOPE * size))
    if years_to_last == 0:
        staff = present["_staff"].to_numpy()  # the last year: the register as drawn
    return present.with_columns(
        status=pl.when(closed)
        .then(pl.col("status"))
        .otherwise(pl.when(pl.col("_active")).then("status").otherwise("_alias")),
        _active=~closed,
        _size=pl.Series(size),
        _staff=pl.Series(staff),
    ).drop("_closed_on", "_growth", "_alias")


def history_frame(history: pl.DataFrame) -> pl.DataFrame:
    """``history.parquet`` rows of one chunk: who each business is and when it was founded and closed."""
    return history.select(
        "_bidx",
        business_key=pl.coalesce("uscc", "reg_no"),
        established_on="established_on",
        closed_on="_closed_on",
        closing_status=pl.when(pl.col("_closed_on").is_not_null()).then("status"),
        region_code="region_code",
        industry_code="industry_code",
    )


def generate_years(
    plan: Plan, years: int, out: Path, progress: Callable[[int, int], None] | None = None
) -> list[Generated]:
    """Write ``years`` yearly inboxes ``<out>/<year>/`` (truth in ``<out>/<year>.truth/``) of one province."""
    plans = year_plans(plan, years)
    base = World(plans[-1])
    first_as_of = plans[0].as_of_date
    cached: dict[int, pl.DataFrame] = {}

    def history(chunk: int) -> pl.DataFrame:
        if chunk not in cached:
            cached.clear()
            cached[chunk] = histories(base, chunk, first_as_of)
        return cached[chunk]

    results = []
    for k, year_plan in enumerate(plans):

        def spine(chunk: int, year_plan: YearPlan = year_plan, k: int = k) -> pl.DataFrame:
            return spine_of_year(history(chunk), year_plan, years - 1 - k, chunk)

        result = generate(year_plan, out / str(year_plan.year), None, spine=spine, records_of=HistoryRecords)
        pl.concat([history_frame(history(c)) for c in range(year_plan.chunks)]).write_parquet(
            result.truth / "history.parquet"
        )
        results.append(result)
        if progress:
            progress(k + 1, years)
    return results
