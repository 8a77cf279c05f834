"""What the departments know about one chunk's businesses: every source except registration, as typed frames.

Frames use the canonical column names of ``schemas.sources``; money columns hold exact **cents** (Int64) until
they are written in the unit the department uses. ``_bidx`` is the business a row belongs to (null: nobody in
the province). Linkage truth comes in ``*_links`` frames: one row per (record, business) with the route's
``owner`` and whether a correct linker can ``attributable``-ly reach that business.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from synth import vocab
from synth.codes import ascii_matrix, base31, patent_application_numbers, scramble, strings, uscc_with_check
from synth.people import person_names, resident_ids
from synth.world import CHUNK_SIZE, World

ANNUAL_REPORT_FILING = {"active": 0.86, "closed": 0.45}  # share filing a year's report
AMENDED_SHARE = 0.03  # reports corrected later (年报修改): a second version, filed later, with other figures
SAME_DAY_CONFLICT_SHARE = 0.002  # two versions filed on one day with different figures (a conflict)
TWIN_EPISODE_SHARE = 0.004  # a listing episode delivered twice with different 移出日期 (a sync error upstream)
CULTURE_FEE_INDUSTRIES = ("8052", "6241")  # 文化事业建设费 falls on entertainment (浴池, 茶馆 here)
ABNORMAL_SHARE = 0.06
SERIOUS_SHARE = 0.003
SUSPENSION_SHARE = 0.012
PENALTY_SHARE = 0.02
GENERAL_TAXPAYER_SHARE = 0.015
TAX_ABNORMAL_SHARE = 0.012
EMPLOYER_SHARE_OF_STAFFED = 0.3
TRADEMARK_SHARE = 0.004
PATENT_SHARE = 0.0015
OUTSIDER_SHARE = 0.25  # trademarks, patents and tax IDs that belong to nobody registered here
MARKS_PER_CHUNK = 20_000  # trademark and patent serials reserved per chunk
EMPLOYEE_RESERVE = 1_000  # chunk 0's first employee numbers belong to the designed businesses
VAT_MEDIAN_PER_MONTH = 180  # yuan, for a business of median size (small-scale taxpayers pay 1%)
INSURANCES = ("企业职工基本养老保险", "职工基本医疗保险", "失业保险", "工伤保险")
INSURANCE_RATES = (0.16, 0.08, 0.007, 0.004)  # employer rates on the contribution base
PENALTY_KINDS = {
    "警告": 0.35,
    "罚款": 0.45,
    "没收违法所得": 0.1,
    "通报批评": 0.05,
    "暂扣许可证件": 0.02,
    "责令停产停业": 0.03,
}
NICE_CLASSES = np.array([35, 30, 43, 25, 29, 32, 44, 20, 3, 5, 33, 41, 9, 16, 21])


NAT = np.datetime64("NaT", "D")


def _days(values: np.ndarray) -> np.ndarray:
    return values.astype("timedelta64[D]")


def np_date(value: dt.date) -> np.datetime64:
    return np.datetime64(value, "D")


def years_before(day: dt.date, years: int) -> dt.date:
    """``day`` minus whole calendar years, 29 February becoming 28 February (rules.md, interpretation 2)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def random_dates(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """A uniform date in ``[low, high]`` per row (``high`` below ``low`` gives ``low``)."""
    span = np.maximum((high - low).astype(np.int64), 0) + 1
    return low + _days((rng.random(len(span)) * span).astype(np.int64))


def expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row ``i`` repeated ``counts[i]`` times: the owner position and the number within the owner of each copy."""
    owner = np.repeat(np.arange(len(counts)), counts)
    within = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, within


def cents_text(cents: pl.Expr) -> pl.Expr:
    """Exact ``-1234.56`` text of an amount in cents."""
    magnitude = cents.abs()
    return pl.format(
        "{}{}.{}",
        pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit("")),
        magnitude // 100,
        (magnitude % 100).cast(pl.String).str.zfill(2),
    )


def month_starts(first: dt.date, last: dt.date) -> np.ndarray:
    """First days of the months from ``first``'s month to ``last``'s month, inclusive."""
    return np.arange(np.datetime64(first, "M"), np.datetime64(last, "M") + 1).astype("datetime64[D]")


def tax_periods(first_year: int, as_of: dt.date, months_per_period: int) -> tuple[np.ndarray, np.ndarray]:
    """Tax periods (month or quarter) from January of ``first_year`` that ended before ``as_of``: starts, ends."""
    months = np.arange(np.datetime64(f"{first_year}-01"), np.datetime64(as_of, "M"), months_per_period)
    starts = months.astype("datetime64[D]")
    ends = (months + months_per_period).astype("datetime64[D]") - 1
    keep = ends < np_date(as_of)
    return starts[keep], ends[keep]


class ChunkRecords:
    """Builds every department's rows for one chunk of businesses (the random, not the designed, ones)."""

    def __init__(self, world: World, chunk: int, biz: pl.DataFrame) -> None:
        self.world = world
        self.plan = world.plan
        self.chunk = chunk
        self.biz = biz
        self.n = biz.height
        self.as_of = np_date(self.plan.as_of_date)
        # rows may be dated up to the extraction, a few days after D (rules.md, Terms): not in force on D
        self.extracted = np_date(self.plan.extracted_on)
        self.year = self.plan.year
        self.report_year = self.plan.report_year
        self.est = biz["established_on"].to_numpy().astype("datetime64[D]")
        self.bidx = biz["_bidx"].to_numpy()
        self.size = biz["_size"].to_numpy()
        self.active = biz["_active"].to_numpy()
        self.has_uscc = biz["uscc"].is_not_null().to_numpy()
        # market-regulation sources reach a legacy business (no USCC) by its 注册号 (extracts.md v2)
        self.has_key = self.has_uscc | biz["reg_no"].is_not_null().to_numpy()

    def rng(self, aspect: str) -> np.random.Generator:
        return self.plan.rng(self.chunk, aspect)

    def _pick(self, share: np.ndarray | float, aspect: str) -> np.ndarray:
        """Businesses drawn with probability ``share`` among those with a key of the listing sources (USCC, 注册号)."""
        chosen = self.rng(aspect).random(self.n) < share
        return np.flatnonzero(chosen & self.has_key & (self.est <= self.as_of))  # not the days-old ones after D

    def _col(self, name: str, rows: np.ndarray) -> pl.Series:
        return self.biz[name].gather(rows)

    # --- market regulation ------------------------------------------------------------------------------

    def files_report(self, rng: np.random.Generator, year: int, share: np.ndarray) -> np.ndarray:
        """Whether each business filed its report of ``year``: drawn afresh for one cycle (``synth.history``
        keeps a business's habit from year to year)."""
        return rng.random(self.n) < share

    def annual_report(self) -> pl.DataFrame:
        rng = self.rng("annual_report")
        parts = []
        for year in range(self.report_year - 2, self.year):
            due = self.has_key & (self.est <= np_date(dt.date(year, 12, 31)))
            share = np.where(self.active, ANNUAL_REPORT_FILING["active"], ANNUAL_REPORT_FILING["closed"])
            rows = np.flatnonzero(due & self.files_report(rng, year, share))
            late = rng.random(len(rows)) < 0.06
            low = np.where(late, np_date(dt.date(year + 1, 7, 1)), np_date(dt.date(year + 1, 1, 1)))
            high = np.where(late, np_date(dt.date(year + 1, 12, 31)), np_date(dt.date(year + 1, 6, 30)))
            filed = random_dates(rng, low, high)
            keep = filed <= self.extracted
            rows, filed = rows[keep], filed[keep]
            k = len(rows)
            sales = np.round(np.exp(np.log(110_000) + 0.95 * self.size[rows] + rng.normal(0, 0.25, k)))
            staff = np.maximum(self.biz["_staff"].to_numpy()[rows] + rng.choice([-1, 0, 0, 0, 0, 1], k), 1)
            parts.append(
                pl.DataFrame(
                    {
                        "_bidx": self.bidx[rows],
                        "uscc": self._col("uscc", rows),
                        "reg_no": self._col("reg_no", rows),
                        "report_year": np.full(k, year, dtype=np.int32),
                        "filed_on": filed,
                        "sales_yuan": np.where(rng.random(k) < 0.96, sales * 100, np.nan),
                        "tax_declared_yuan": np.where(
                            rng.random(k) < 0.9, np.round(sales * rng.uniform(0.0, 0.012, k)) * 100, np.nan
                        ),
                        "staff_count": np.where(rng.random(k) < 0.97, staff, -1),
                        "has_website": rng.random(k) < 0.08,
                        "_website_given": rng.random(k) < 0.9,
                    }
                )
            )
        reports = self._amended(rng, pl.concat(parts))
        return (
            reports.with_columns(
                pl.col("filed_on").cast(pl.Date),
                pl.col("sales_yuan", "tax_declared_yuan").fill_nan(None).cast(pl.Int64),
                pl.when(pl.col("staff_count") >= 0).then(pl.col("staff_count")).cast(pl.Int32).alias("staff_count"),
                pl.when(pl.col("_website_given")).then(pl.col("has_website")).alias("has_website"),
            )
            .drop("_website_given")
            .sort("_bidx", "report_year", "filed_on", "_version")
            .drop("_version")
        )

    def _amended(self, rng: np.random.Generator, reports: pl.DataFrame) -> pl.DataFrame:
        """Corrected versions (年报修改) filed later with other figures, and a few same-day conflicting versions.

        A correction is filed 1 to 120 days after the version it corrects (kept when on or before the extraction,
        so some fall after D and do not count on D); a same-day version differs in its sales.
        """
        k = reports.height
        filed = reports["filed_on"].to_numpy().astype("datetime64[D]")
        amend = rng.random(k) < AMENDED_SHARE
        later = filed + _days(rng.integers(1, 121, k))
        amend &= later <= self.extracted
        conflict = ~amend & (rng.random(k) < SAME_DAY_CONFLICT_SHARE)
        sales = reports["sales_yuan"].to_numpy()
        factor = rng.uniform(0.7, 1.4, k)
        staff = reports["staff_count"].to_numpy()
        corrected = reports.filter(pl.Series(amend)).with_columns(
            filed_on=pl.Series(later[amend]),
            sales_yuan=pl.Series(np.round(np.nan_to_num(sales[amend], nan=5_000_000.0) * factor[amend], -2)),
            staff_count=pl.Series(
                np.maximum(np.where(staff[amend] < 0, 1, staff[amend]) + rng.integers(-1, 2, amend.sum()), 1)
            ),
        )
        same_day = reports.filter(pl.Series(conflict)).with_columns(
            sales_yuan=pl.Series(np.nan_to_num(sales[conflict], nan=0.0) + 100_000.0)
        )
        return pl.concat(
            [
                reports.with_columns(_version=pl.lit(0)),
                corrected.with_columns(_version=pl.lit(1)),
                same_day.with_columns(_version=pl.lit(2)),
            ],
            how="vertical_relaxed",
        )

    def _episodes(self, aspect: str, share: float, years_back: int, removed_share: float) -> pl.DataFrame:
        """Listings with an optional end: ``(listed, removed)``; some businesses are listed again after removal."""
        rng = self.rng(aspect)
        rows = self._pick(share, aspect + "/who")
        floor = np_date(years_before(self.plan.as_of_date, years_back))
        end = self.extracted  # listings and removals up to the extraction: some after D
        listed = random_dates(rng, np.maximum(self.est[rows], floor), np.full(len(rows), end))
        removed = random_dates(rng, listed + 1, np.full(len(rows), end))
        ended = (rng.random(len(rows)) < removed_share) & (listed < end)
        again = ended & (removed < end - 1) & (rng.random(len(rows)) < 0.15)
        relisted = random_dates(rng, removed[again] + 1, np.full(again.sum(), end))
        # a twin of the episode (same start) with another end: open if the episode ended, else ended
        twin = (rng.random(len(rows)) < TWIN_EPISODE_SHARE) & (ended | (listed < end))
        twin_removed = np.where(ended, NAT, random_dates(rng, listed + 1, np.full(len(rows), end)))
        frame = pl.DataFrame(
            {
                "_row": np.concatenate([rows, rows[again], rows[twin]]),
                "listed_on": np.concatenate([listed, relisted, listed[twin]]),
                "removed_on": np.concatenate(
                    [np.where(ended, removed, NAT), np.full(again.sum(), NAT), twin_removed[twin]]
                ),
            }
        )
        return frame.with_columns(pl.col("listed_on", "removed_on").cast(pl.Date))

    def _by_business(self, frame: pl.DataFrame, sort: tuple[str, ...]) -> pl.DataFrame:
        rows = frame["_row"].to_numpy()
        return (
            frame.with_columns(
                _bidx=pl.Series(self.bidx[rows]), uscc=self._col("uscc", rows), reg_no=self._col("reg_no", rows)
            )
            .drop("_row")
            .sort("_bidx", *sort)
        )

    def abnormal_list(self) -> pl.DataFrame:
        frame = self._episodes("abnormal_list", ABNORMAL_SHARE, 6, 0.55)
        reasons = np.array(vocab.ABNORMAL_REASONS)[
            self.rng("abnormal_list/reason").choice(
                len(vocab.ABNORMAL_REASONS), frame.height, p=[0.55, 0.35, 0.06, 0.04]
            )
        ]
        frame = frame.with_columns(reason=pl.Series(reasons))
        return self._by_business(frame, ("listed_on", "removed_on")).select(
            "_bidx", "uscc", "reg_no", "listed_on", "reason", "removed_on"
        )

    def serious_list(self) -> pl.DataFrame:
        frame = self._episodes("serious_list", SERIOUS_SHARE, 5, 0.25)
        return self._by_business(frame, ("listed_on", "removed_on")).select(
            "_bidx", "uscc", "reg_no", "listed_on", "removed_on"
        )

    def suspension(self) -> pl.DataFrame:
        rng = self.rng("suspension")
        seasonal = self.biz["seasonal"].fill_null(False).to_numpy()
        rows = self._pick(np.where(seasonal, 0.25, SUSPENSION_SHARE), "suspension/who")
        k = len(rows)
        floor = np_date(years_before(self.plan.as_of_date, 5))
        start = random_dates(rng, np.maximum(self.est[rows], floor), np.full(k, self.extracted))
        # the legal maximum ends exactly 3 years on: keep clear of that day, where readings could differ
        limit = np_date(years_before(self.plan.as_of_date, 3))
        start = np.where(start == limit, start - 1, start)
        until = start + _days(rng.integers(60, 1096, k))
        resumed_early = (rng.random(k) < 0.35) & (start < self.extracted)
        resumed = random_dates(rng, start + 1, np.minimum(until, self.extracted))
        # a suspension whose filed end passed within the legal maximum is closed by a filed resumption
        closed_at_end = ~resumed_early & (until < self.extracted) & (start > limit)
        resumed = np.where(resumed_early, resumed, np.where(closed_at_end, until, NAT))
        frame = pl.DataFrame(
            {
                "_row": rows,
                "suspended_from": start,
                "suspended_until": until,
                "resumed_on": resumed.astype("datetime64[D]"),
            }
        ).with_columns(pl.col("suspended_from", "suspended_until", "resumed_on").cast(pl.Date))
        return self._by_business(frame, ("suspended_from",)).select(
            "_bidx", "uscc", "reg_no", "suspended_from", "suspended_until", "resumed_on"
        )

    def penalty(self) -> pl.DataFrame:
        rng = self.rng("penalty")
        rows = self._pick(PENALTY_SHARE, "penalty/who")
        owner, within = expand(np.where(rng.random(len(rows)) < 0.15, 2, 1))
        rows = rows[owner]
        k = len(rows)
        decided = random_dates(rng, self.est[rows], np.full(k, self.extracted))
        kinds = np.array(list(PENALTY_KINDS))[rng.choice(len(PENALTY_KINDS), k, p=list(PENALTY_KINDS.values()))]
        fined = np.isin(kinds, ["罚款", "没收违法所得"])
        amount = np.where(fined, np.round(rng.lognormal(np.log(2000), 1.0, k), -2) * 100, np.nan)
        repaired = random_dates(rng, decided + 30, np.full(k, self.extracted))
        repaired_ok = (rng.random(k) < 0.4) & (repaired <= self.extracted) & (decided + 30 <= self.extracted)
        county = self._col("_region_name", rows).str.slice(0, 2).to_numpy().astype(str)
        year = (decided.astype("datetime64[Y]").astype(np.int64) + 1970).astype(str)
        serial = ((self.bidx[rows] * 2 + within) % 100_000 + 1).astype(str)
        decision_no = np.char.add(np.char.add(np.char.add(np.char.add(county, "市监罚〔"), year), "〕"), serial)
        frame = pl.DataFrame(
            {
                "_row": rows,
                "decision_no": np.char.add(decision_no, "号"),
                "decided_on": decided,
                "penalty_kind": kinds,
                "amount_yuan": amount,
                "repaired_on": np.where(repaired_ok, repaired, NAT).astype("datetime64[D]"),
            }
        ).with_columns(
            pl.col("decided_on", "repaired_on").cast(pl.Date), pl.col("amount_yuan").fill_nan(None).cast(pl.Int64)
        )
        return self._by_business(frame, ("decided_on", "decision_no")).select(
            "_bidx", "uscc", "reg_no", "decision_no", "decided_on", "penalty_kind", "amount_yuan", "repaired_on"
        )

    # --- tax -------------------------------------------------------------------------------------------

    def outsider_persons(self, offset: int, k: int) -> np.ndarray:
        """Person numbers of people who run no business here: half a chunk's block for each use."""
        if k > CHUNK_SIZE // 2:
            raise ValueError("too many outsiders in one chunk")
        return 2 * self.plan.businesses + self.chunk * CHUNK_SIZE + offset * (CHUNK_SIZE // 2) + np.arange(k)

    def outsider_usccs(self, head: bytes, k: int) -> pl.Series:
        """Valid USCCs issued outside the province (``92``: a business that moved away; ``91``: a company)."""
        rng = self.rng("outsiders/" + head.decode())
        numbers = self.plan.businesses + self.chunk * CHUNK_SIZE + np.arange(k)
        other = np.array(vocab.OTHER_ID_REGIONS)[rng.integers(0, len(vocab.OTHER_ID_REGIONS), k)]
        body = np.hstack(
            [
                np.tile(np.frombuffer(head, dtype=np.uint8), (k, 1)),
                ascii_matrix(other, 6),
                np.tile(np.frombuffer(b"MA", dtype=np.uint8), (k, 1)),
                base31(scramble(numbers, 31**7), 7),
            ]
        )
        return strings(uscc_with_check(body))

    def tax_identities(self) -> pl.DataFrame:
        """One row per 纳税人识别号: the business's USCC or its operator's resident ID (maybe + ``01``); outsiders.

        Random businesses whose operator runs several businesses always file under their USCC, so every
        identity here reaches exactly its own business (the designed cases cover the ambiguous ones).
        """
        kinds = self.biz["_tax_id_kind"].to_numpy()
        rows = np.flatnonzero(kinds != "none")
        kinds = kinds[rows]
        operator = self._col("operator_id", rows)
        ids = pl.select(
            pl.when(pl.Series(kinds == "uscc"))
            .then(self._col("uscc", rows))
            .when(pl.Series(kinds == "operator"))
            .then(operator)
            .otherwise(operator + "01")
        ).to_series()
        own = pl.DataFrame(
            {
                "taxpayer_id": ids,
                "_bidx": self.bidx[rows],
                "owner": np.where(kinds == "uscc", "business", "operator"),
                "attributable": np.ones(len(rows), dtype=bool),
                "taxpayer_name": self._col("name", rows).fill_null(self._col("operator_name", rows)),
                "_size": self.size[rows],
                "_established": self.est[rows],
                "_culture": self._col("industry_code", rows).str.slice(-4).is_in(CULTURE_FEE_INDUSTRIES),
            }
        )
        rng = self.rng("tax/outsiders")
        k = rng.binomial(len(rows), 0.02)
        is_person = rng.random(k) < 0.5
        person = resident_ids(self.world, self.outsider_persons(0, k), rng.integers(1960, 2000, k))
        outside = pl.DataFrame(
            {
                "taxpayer_id": pl.select(
                    pl.when(pl.Series(is_person)).then(person).otherwise(self.outsider_usccs(b"92", k))
                ).to_series(),
                "_bidx": pl.Series([None] * k, dtype=pl.Int64),
                "owner": np.full(k, "outsider"),
                "attributable": np.zeros(k, dtype=bool),
                "taxpayer_name": person_names(rng, k),
                "_size": rng.normal(0, 1, k),
                "_established": random_dates(rng, np.full(k, np_date(dt.date(2000, 1, 1))), np.full(k, self.as_of)),
                "_culture": np.zeros(k, dtype=bool),
            }
        )
        return pl.concat([own, outside]).with_columns(pl.col("_established").cast(pl.Date))

    def taxpayer(self, identities: pl.DataFrame) -> pl.DataFrame:
        rng = self.rng("taxpayer")
        k = identities.height
        est = identities["_established"].to_numpy().astype("datetime64[D]")
        size = identities["_size"].to_numpy()
        general = rng.random(k) < np.where(size > 1.5, 0.12, GENERAL_TAXPAYER_SHARE)
        since = random_dates(rng, est, np.full(k, self.extracted))
        ended = general & (rng.random(k) < 0.15) & (since < self.extracted)
        until = random_dates(rng, since + 1, np.full(k, self.extracted))
        return identities.select(
            "_bidx",
            "taxpayer_id",
            "taxpayer_name",
            general_from=pl.Series(np.where(general, since, NAT).astype("datetime64[D]")).cast(pl.Date),
            general_until=pl.Series(np.where(ended, until, NAT).astype("datetime64[D]")).cast(pl.Date),
        )

    def tax_abnormal(self, identities: pl.DataFrame) -> pl.DataFrame:
        rng = self.rng("tax_abnormal")
        rows = np.flatnonzero(rng.random(identities.height) < TAX_ABNORMAL_SHARE)
        k = len(rows)
        est = identities["_established"].to_numpy().astype("datetime64[D]")[rows]
        floor = np_date(years_before(self.plan.as_of_date, 4))
        declared = random_dates(rng, np.maximum(est, floor), np.full(k, self.extracted))
        lifted = random_dates(rng, declared + 1, np.full(k, self.extracted))
        lifted_ok = (rng.random(k) < 0.5) & (declared < self.extracted)
        return identities[rows].select(
            "_bidx",
            "taxpayer_id",
            declared_on=pl.Series(declared).cast(pl.Date),
            lifted_on=pl.Series(np.where(lifted_ok, lifted, NAT).astype("datetime64[D]")).cast(pl.Date),
        )

    def tax_payment(self, identities: pl.DataFrame) -> pl.DataFrame:
        """Payments from January of Y-2 to the as-of date: VAT each period with surcharges and income tax, some refunds.

        Most individual businesses pay nothing (below the VAT threshold); payers pay quarterly, a few monthly.
        """
        rng = self.rng("tax_payment")
        k = identities.height
        size = identities["_size"].to_numpy()
        pays = rng.random(k) < np.clip(0.45 + 0.2 * size, 0.05, 0.9)
        monthly = pays & (rng.random(k) < 0.22)
        frames = []
        for is_monthly, months_per_period in ((False, 3), (True, 1)):
            payers = np.flatnonzero(pays & (monthly == is_monthly))
            starts, ends = tax_periods(self.year - 2, self.plan.extracted_on, months_per_period)
            periods = len(starts)
            owner, period = expand(np.full(len(payers), periods))
            who = payers[owner]
            est = identities["_established"].to_numpy().astype("datetime64[D]")[who]
            paid_on = ends[period] + _days(rng.integers(1, 16, len(who)))
            keep = (rng.random(len(who)) < 0.75) & (ends[period] >= est) & (paid_on <= self.extracted)
            who, period, paid_on = who[keep], period[keep], paid_on[keep]
            median = np.log(VAT_MEDIAN_PER_MONTH * months_per_period) + 1.0 * size[who]
            vat = np.maximum(np.round(rng.lognormal(median, 0.8) * 100), 1)
            culture = identities["_culture"].to_numpy()[who]
            frames.append(self._tax_rows(rng, who, starts[period], ends[period], paid_on, vat, culture))
        rows = pl.concat(frames)
        ids = identities["taxpayer_id"]
        return (
            rows.with_columns(taxpayer_id=ids.gather(rows["_who"]), _bidx=identities["_bidx"].gather(rows["_who"]))
            .sort("_who", "paid_on", "_kind")
            .select("_bidx", "taxpayer_id", "tax_kind", "period_from", "period_to", "paid_on", "amount_yuan")
        )

    def _tax_rows(self, rng, who, start, end, paid_on, vat, culture) -> pl.DataFrame:
        """Each payment event: VAT, and with some of them surcharges, income tax and a later refund.

        教育费附加, 地方教育附加 and 文化事业建设费 are not tax (rules.md, interpretation 3): the truth leaves them out.
        """
        parts = [("增值税", np.ones(len(who), dtype=bool), vat)]
        for kind, share, rate in (
            ("城市维护建设税", 0.45, 0.07),
            ("教育费附加", 0.25, 0.03),
            ("地方教育附加", 0.2, 0.02),
        ):
            parts.append((kind, rng.random(len(who)) < share, np.maximum(np.round(vat * rate), 1)))
        parts.append(("文化事业建设费", culture & (rng.random(len(who)) < 0.5), np.maximum(np.round(vat * 0.03), 1)))
        parts.append(
            ("个人所得税", rng.random(len(who)) < 0.35, np.round(rng.lognormal(np.log(20_000), 0.8, len(who))))
        )
        frames = []
        for order, (kind, chosen, amount) in enumerate(parts):
            frames.append(
                pl.DataFrame(
                    {
                        "_who": who[chosen],
                        "_kind": order,
                        "tax_kind": kind,
                        "period_from": start[chosen],
                        "period_to": end[chosen],
                        "paid_on": paid_on[chosen],
                        "amount_yuan": amount[chosen].astype(np.int64),
                    }
                )
            )
        refund = rng.random(len(who)) < 0.012
        refunded_on = paid_on[refund] + _days(rng.integers(5, 61, refund.sum()))
        ok = refunded_on <= self.extracted
        frames.append(
            pl.DataFrame(
                {
                    "_who": who[refund][ok],
                    "_kind": 9,
                    "tax_kind": "增值税",
                    "period_from": start[refund][ok],
                    "period_to": end[refund][ok],
                    "paid_on": refunded_on[ok],
                    "amount_yuan": -np.maximum(np.round(vat[refund][ok] * rng.uniform(0.1, 1.0, ok.sum())), 1).astype(
                        np.int64
                    ),
                }
            )
        )
        return pl.concat(frames).with_columns(pl.col("period_from", "period_to", "paid_on").cast(pl.Date))

    # --- social security -------------------------------------------------------------------------------

    def social_security(self) -> pl.DataFrame:
        """Contributions by month from January of Y-1 to the month before the as-of date.

        Employers are active businesses with staff; some insure the operator too, and a few operators pay only
        for themselves. One person in ten pays as 个人缴纳 under the business (flexible employment): never counted.
        """
        rng = self.rng("social_security")
        staff = self.biz["_staff"].to_numpy()
        eligible = self.active & self.has_uscc
        employer = eligible & (staff >= 2) & (rng.random(self.n) < EMPLOYER_SHARE_OF_STAFFED)
        operator_only = eligible & ~employer & (rng.random(self.n) < 0.01)
        employees = np.where(employer, np.maximum(rng.binomial(np.maximum(staff - 1, 0), 0.65), 1), 0)
        with_operator = operator_only | (employer & (rng.random(self.n) < 0.6))
        # persons: the operator (if insured) then the employees, per business
        owner, within = expand(employees + with_operator)
        is_operator = with_operator[owner] & (within == 0)
        employee_no = np.cumsum(~is_operator) - 1
        if len(employee_no) and EMPLOYEE_RESERVE + employee_no[-1] >= CHUNK_SIZE:
            raise ValueError("too many employees in one chunk")
        employee_person = self.plan.businesses + self.chunk * CHUNK_SIZE + EMPLOYEE_RESERVE + employee_no
        birth_years = self.year - rng.integers(18, 60, len(owner))
        employee_ids = resident_ids(self.world, employee_person, birth_years)
        person_id = pl.select(
            pl.when(pl.Series(is_operator)).then(self._col("operator_id", owner)).otherwise(employee_ids)
        ).to_series()
        personal = rng.random(len(owner)) < 0.1
        base = rng.uniform(3000, 6500, len(owner))
        # spell of months within the window, not before the business existed
        months = month_starts(dt.date(self.report_year, 1, 1), self.plan.as_of_date)[:-1]
        first_month = np.searchsorted(months, self.est[owner].astype("datetime64[M]").astype("datetime64[D]"))
        spell_start = np.maximum(
            np.where(rng.random(len(owner)) < 0.7, 0, rng.integers(0, len(months), len(owner))), first_month
        )
        spell_end = np.where(rng.random(len(owner)) < 0.75, len(months) - 1, rng.integers(0, len(months), len(owner)))
        spell_end = np.maximum(spell_end, spell_start)
        counts = np.where(spell_start < len(months), spell_end - spell_start + 1, 0)
        person, offset = expand(counts)
        month = months[np.minimum(spell_start[person] + offset, len(months) - 1)]
        insured = np.column_stack(
            [
                np.ones(len(owner), bool),
                np.ones(len(owner), bool),
                rng.random(len(owner)) < 0.5,
                rng.random(len(owner)) < 0.6,
            ]
        )
        frames = []
        for i, (insurance, rate) in enumerate(zip(INSURANCES, INSURANCE_RATES, strict=True)):
            rows = insured[person, i]
            p = person[rows]
            frames.append(
                pl.DataFrame(
                    {
                        "_person_row": p,
                        "_ins": np.full(len(p), i),
                        "insurance": np.full(len(p), insurance),
                        "contribution_month": month[rows],
                        "amount_yuan": np.round(base[p] * rate * 100).astype(np.int64),
                    }
                )
            )
        rows = pl.concat(frames)
        p = rows["_person_row"].to_numpy()
        return (
            rows.with_columns(
                _bidx=pl.Series(self.bidx[owner[p]]),
                employer_uscc=self._col("uscc", owner[p]),
                person_id=person_id.gather(p),
                payment_mode=pl.Series(np.where(personal[p], "个人缴纳", "单位缴纳")),
                contribution_month=pl.col("contribution_month").cast(pl.Date),
            )
            .sort("contribution_month", "_bidx", "_person_row", "_ins")
            .select(
                "_bidx", "employer_uscc", "person_id", "insurance", "contribution_month", "payment_mode", "amount_yuan"
            )
        )

    # --- intellectual property -------------------------------------------------------------------------

    def trademark(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Marks held by businesses (by USCC, or by name alone), by operators (resident ID), and by outsiders."""
        rng = self.rng("trademark")
        holders = np.flatnonzero(rng.random(self.n) < np.where(self.size > 1.5, 0.02, TRADEMARK_SHARE))
        owner, _ = expand(1 + rng.poisson(0.5, len(holders)))
        rows = holders[owner]
        k = len(rows)
        named = self._col("name", rows).is_not_null().to_numpy()
        has_uscc = self.has_uscc[rows]
        route = rng.random(k)
        by_uscc = has_uscc & (route < 0.4)
        by_name = ~by_uscc & named & (route < 0.7)
        by_operator = ~by_uscc & ~by_name
        holder_name = pl.select(
            pl.when(pl.Series(by_operator | ~named))
            .then(self._col("operator_name", rows))
            .otherwise(self._col("name", rows))
        ).to_series()
        holder_id = pl.select(
            pl.when(pl.Series(by_uscc))
            .then(self._col("uscc", rows))
            .when(pl.Series(by_operator))
            .then(self._col("operator_id", rows))
        ).to_series()
        registered = random_dates(rng, self.est[rows], np.full(k, self.as_of))
        own = pl.DataFrame(
            {
                "_bidx": self.bidx[rows],
                "_person": self.biz["_person"].to_numpy()[rows],
                "owner": np.where(by_operator, "operator", "business"),
                "holder_name": holder_name,
                "holder_id": holder_id,
                "holder_address": self._col("address", rows),
                "registered_on": registered,
            }
        )
        outside = self._outside_holders(rng, rng.binomial(k, OUTSIDER_SHARE), with_ids=True)
        marks = pl.concat([own, outside], how="diagonal").with_columns(pl.col("registered_on").cast(pl.Date))
        n = marks.height
        if n >= MARKS_PER_CHUNK:
            raise ValueError("too many trademarks in one chunk")
        numbers = 10_000_000 + self.chunk * MARKS_PER_CHUNK + np.arange(n)
        renewed = rng.random(n) < 0.8
        marks = (
            marks.with_columns(
                trademark_no=pl.Series(numbers.astype(str)),
                nice_class=pl.Series(NICE_CLASSES[rng.integers(0, len(NICE_CLASSES), n)].astype(np.int32)),
                trademark_status=pl.Series(rng.choice(["注册", "注销", "无效", "撤销"], n, p=[0.9, 0.04, 0.02, 0.04])),
                _renewed=pl.Series(renewed),
            )
            .with_columns(
                protected_until=pl.col("registered_on").dt.offset_by("10y").dt.offset_by("-1d"),
            )
            .with_columns(
                protected_until=pl.when(pl.col("_renewed") & (pl.col("protected_until") < self.plan.as_of_date))
                .then(pl.col("protected_until").dt.offset_by("10y"))
                .otherwise(pl.col("protected_until"))
            )
        )
        links = self._links(marks, "trademark_no")
        columns = ("trademark_no", "holder_name", "holder_id", "holder_address", "nice_class", "registered_on",
                   "protected_until", "trademark_status")  # fmt: skip
        return marks.select("_bidx", *columns), links

    def _outside_holders(self, rng: np.random.Generator, k: int, with_ids: bool) -> pl.DataFrame:
        """Holders nobody registered here can claim: companies and institutions, and people living elsewhere."""
        company = rng.random(k) < 0.6
        names = np.array(vocab.OUTSIDE_COMPANIES + vocab.OUTSIDE_INSTITUTIONS)[rng.integers(0, 13, k)]
        person_name = person_names(rng, k)
        person = resident_ids(self.world, self.outsider_persons(1, k), rng.integers(1950, 2000, k))
        ids = pl.select(pl.when(pl.Series(company)).then(self.outsider_usccs(b"91", k)).otherwise(person)).to_series()
        given = rng.random(k) < 0.5
        return pl.DataFrame(
            {
                "_bidx": pl.Series([None] * k, dtype=pl.Int64),
                "_person": pl.Series([None] * k, dtype=pl.Int64),
                "owner": np.full(k, "outsider"),
                "holder_name": pl.select(
                    pl.when(pl.Series(company)).then(pl.Series(names)).otherwise(person_name)
                ).to_series(),
                "holder_id": pl.select(pl.when(pl.Series(given & with_ids)).then(ids)).to_series(),
                "holder_address": np.array(vocab.OUTSIDE_ADDRESSES)[rng.integers(0, len(vocab.OUTSIDE_ADDRESSES), k)],
                "registered_on": random_dates(rng, np.full(k, np_date(dt.date(2005, 1, 1))), np.full(k, self.as_of)),
            }
        )

    def _links(self, records: pl.DataFrame, record: str) -> pl.DataFrame:
        """(record, business) truth: operator-held records belong to every business of that operator."""
        operator_businesses = self.biz.select("_person", _owned=pl.col("_bidx"))
        by_operator = (
            records.filter(pl.col("owner") == "operator")
            .join(operator_businesses, on="_person", how="inner")
            .select(record, _bidx=pl.col("_owned"), owner="owner")
        )
        others = records.filter(pl.col("owner") != "operator").select(record, "_bidx", "owner")
        return (
            pl.concat([others, by_operator])
            .with_columns(attributable=pl.col("_bidx").is_not_null())
            .sort(record, "_bidx", nulls_last=True)
        )

    def patent(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Patents of named businesses (holders are names only, so unnamed businesses hold none) and of outsiders."""
        rng = self.rng("patent")
        named = self.biz["name"].is_not_null().to_numpy()
        holders = np.flatnonzero(named & (rng.random(self.n) < np.where(self.size > 1.5, 0.008, PATENT_SHARE)))
        owner, _ = expand(1 + (rng.random(len(holders)) < 0.3))
        rows = holders[owner]
        k = len(rows)
        co_holder = rng.random(k) < 0.15
        separator = np.where(rng.random(k) < 0.5, ";", "；")
        institution = np.array(vocab.OUTSIDE_INSTITUTIONS)[rng.integers(0, len(vocab.OUTSIDE_INSTITUTIONS), k)]
        names = self._col("name", rows).to_numpy().astype(str)
        holder_names = np.where(co_holder, np.char.add(np.char.add(names, separator), institution), names)
        own = pl.DataFrame(
            {
                "_bidx": self.bidx[rows],
                "_person": self.biz["_person"].to_numpy()[rows],
                "owner": np.full(k, "business"),
                "holder_name": holder_names,
                "holder_address": self._col("address", rows),
                "registered_on": random_dates(rng, self.est[rows], np.full(k, self.as_of - 150)),
            }
        )
        outside = self._outside_holders(rng, rng.binomial(k, OUTSIDER_SHARE), with_ids=False)
        patents = pl.concat([own, outside.drop("holder_id")], how="diagonal").with_columns(
            pl.col("registered_on").cast(pl.Date)
        )
        n = patents.height
        if n >= MARKS_PER_CHUNK:
            raise ValueError("too many patents in one chunk")
        filed = patents["registered_on"].to_numpy().astype("datetime64[D]")
        granted = filed + _days(rng.integers(150, 721, n))
        kind = rng.choice([1, 2, 3], n, p=[0.05, 0.55, 0.4])
        serial = 1_000_000 + self.chunk * MARKS_PER_CHUNK + np.arange(n)
        patents = patents.with_columns(
            application_no=patent_application_numbers(
                filed.astype("datetime64[Y]").astype(np.int64) + 1970, kind, serial
            ),
            patent_kind=pl.Series(np.array(["发明", "实用新型", "外观设计"])[kind - 1]),
            holder_names=pl.col("holder_name"),
            granted_on=pl.Series(granted).cast(pl.Date),
            legal_status=pl.Series(rng.choice(["有效", "失效", "无效"], n, p=[0.75, 0.22, 0.03])),
        ).filter(pl.col("granted_on") <= self.plan.extracted_on)
        links = self._links(patents, "application_no")
        columns = ("application_no", "patent_kind", "holder_names", "holder_address", "granted_on", "legal_status")
        return patents.select("_bidx", *columns), links
