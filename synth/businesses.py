"""The registration spine of one chunk: who the businesses are, before any department reports on them.

Columns named as in ``schemas.sources`` are what registration delivers; columns starting with ``_`` are the
generator's own (latent size, tax-ID kind, test-case label) and never reach the inbox.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from synth import vocab
from synth.people import USCC_SINCE, person_names, reg_nos, resident_ids, trade_names, usccs
from synth.world import World

#: Shares the tests hold the generator to (tests/test_generate_distributions.py).
STATUS_SHARES = {"存续": 0.84, "注销": 0.107, "吊销": 0.045, "撤销": 0.005, "迁出": 0.003}
#: How 存续 is spelled (extracts.md v2): most registers write 存续; extracts from the national enterprise credit
#: information system write its own label 存续（在营、开业、在册）; some local systems 在营, 开业, 在册 or 在业.
ACTIVE_ALIASES = {
    "存续": 0.80,
    "存续（在营、开业、在册）": 0.08,
    "在营": 0.05,
    "在业": 0.03,
    "开业": 0.02,
    "在册": 0.02,
}
#: How 吊销 is spelled: a revoked business that has not been cancelled yet is often exported as 吊销未注销.
REVOKED_ALIASES = {"吊销": 0.7, "吊销未注销": 0.2, "吊销，未注销": 0.1}
ACTIVE = tuple(ACTIVE_ALIASES)
NAMED_SHARE = 0.76  # many individual businesses register no 字号
LEGACY_SHARE_OF_OLD = 0.05  # of businesses from before October 2016: never got a USCC
SHARED_OPERATOR_SHARE = 0.03  # businesses whose operator also runs the previous one
MOVED_IN_SHARE = 0.04  # USCC issued elsewhere (kept for life)
SEASONAL_SHARE = 0.025
TAX_REGISTERED_SHARE = 0.72
OPERATOR_TAX_ID_SHARE_OF_OLD = 0.35  # older businesses often file tax under the operator's resident ID
MEAN_AGE_YEARS = 4.5
#: Registrations per day, as a share of the register (about 1/(365 × mean age) of the young 85%): the extract,
#: taken a few days after D, also holds the businesses established between D and the extraction date.
NEW_PER_DAY = 0.85 / (365.25 * MEAN_AGE_YEARS)

_INDUSTRY_CODES = np.array([code for code, *_ in vocab.INDUSTRIES])
_INDUSTRY_SECTIONS = np.array([section for _, section, *_ in vocab.INDUSTRIES])
_INDUSTRY_P = np.array([w for _, _, w, _ in vocab.INDUSTRIES]) / sum(w for _, _, w, _ in vocab.INDUSTRIES)
INDUSTRY_WORDS = {code: word for code, _, _, word in vocab.INDUSTRIES}
_STREETS = np.array(vocab.STREETS)


def _choose(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    return rng.choice(np.array(list(shares)), size=n, p=np.array(list(shares.values())))


def _group_starts(shared: np.ndarray) -> np.ndarray:
    """For each position, the first position of its run of businesses with one operator."""
    starts = np.where(shared, 0, np.arange(len(shared)))
    return np.maximum.accumulate(starts)


def established_dates(rng: np.random.Generator, as_of: np.datetime64, n: int, lag_days: int = 0) -> np.ndarray:
    """Most businesses are young (the register grew fast after 2015); a long tail goes back to the 1980s.

    A few (``NEW_PER_DAY`` per day of ``lag_days``) were established after ``as_of``, before the extraction.
    """
    young = rng.exponential(MEAN_AGE_YEARS * 365.25, n)
    old = rng.uniform(0, 38 * 365.25, n)
    age = np.where(rng.random(n) < 0.85, young, old).astype(np.int64)
    after = (rng.random(n) < NEW_PER_DAY * lag_days) & (lag_days > 0)
    age = np.where(after, -rng.integers(1, max(lag_days, 1) + 1, n), age)
    return as_of - age.astype("timedelta64[D]")


def businesses(world: World, start: int, stop: int, rng: np.random.Generator) -> pl.DataFrame:
    """Registrations of businesses ``start`` to ``stop - 1`` with the latent facts the other sources follow."""
    plan = world.plan
    n = stop - start
    bidx = np.arange(start, stop, dtype=np.int64)
    as_of = np.datetime64(plan.as_of_date)
    regions = world.regions
    region_pos = rng.choice(regions.height, size=n, p=world.region_weights)
    region = regions["region_code"].to_numpy()[region_pos]
    established = established_dates(rng, as_of, n, (plan.extracted_on - plan.as_of_date).days)
    old = established < USCC_SINCE

    status = _choose(rng, STATUS_SHARES, n)
    active = status == "存续"
    status = np.where(active, _choose(rng, ACTIVE_ALIASES, n), status)
    status = np.where(status == "吊销", _choose(rng, REVOKED_ALIASES, n), status)
    legacy = old & (rng.random(n) < LEGACY_SHARE_OF_OLD)
    # an operator's second business follows the first; legacy businesses never share (tax-ID truth stays exact)
    shared = (rng.random(n) < SHARED_OPERATOR_SHARE) & ~legacy & ~np.roll(legacy, 1)
    shared[0] = False
    group = _group_starts(shared)
    person = bidx[group]

    moved = rng.random(n) < MOVED_IN_SHARE
    elsewhere = np.where(
        rng.random(n) < 0.7,
        regions["region_code"].to_numpy()[rng.integers(0, regions.height, n)],
        np.array(vocab.OTHER_ID_REGIONS)[rng.integers(0, len(vocab.OTHER_ID_REGIONS), n)],
    )
    authority = np.where(moved, elsewhere, region)
    uscc = usccs(bidx, authority, established)
    reg_no = reg_nos(bidx, authority)

    age_at_start = rng.integers(20, 56, n)
    birth_year = established.astype("datetime64[Y]").astype(np.int64) + 1970 - age_at_start
    operator_id = resident_ids(world, person, birth_year[group])
    operator_name = person_names(rng, n).gather(group)

    industry = rng.choice(len(_INDUSTRY_CODES), size=n, p=_INDUSTRY_P)
    industry_code = np.where(
        rng.random(n) < 0.5,
        np.char.add(_INDUSTRY_SECTIONS[industry], _INDUSTRY_CODES[industry]),
        _INDUSTRY_CODES[industry],
    )
    county = regions["region_name"].to_numpy()[region_pos]
    city = regions["city_name"].to_numpy()[region_pos]
    city = np.where(city == "省直辖县级行政区划", "", city)
    words = np.array([INDUSTRY_WORDS[c] for c in _INDUSTRY_CODES])[industry]
    prefix = np.where(rng.random(n) < 0.7, county, np.where(city == "", county, city))
    name = np.char.add(np.char.add(prefix, trade_names(world, bidx).to_numpy()), words)
    named = rng.random(n) < NAMED_SHARE
    street = _STREETS[rng.integers(0, len(_STREETS), n)]
    number = rng.integers(1, 400, n).astype(str)
    address = np.char.add(
        np.char.add(np.char.add(np.char.add(world.province_name, np.char.add(city, county)), street), number), "号"
    )

    size = rng.normal(0.0, 1.0, n)  # latent scale: sales, staff, tax and social security all follow it
    staff = 1 + rng.poisson(np.exp(-0.75 + 0.9 * size))
    tax_registered = rng.random(n) < np.where(active, TAX_REGISTERED_SHARE, 0.5)
    by_operator = legacy | (old & ~shared & ~np.roll(shared, -1) & (rng.random(n) < OPERATOR_TAX_ID_SHARE_OF_OLD))
    suffixed = rng.random(n) < 0.3
    tax_id_kind = np.where(
        ~(tax_registered | legacy), "none", np.where(by_operator, np.where(suffixed, "operator+01", "operator"), "uscc")
    )
    capital = np.where(rng.random(n) < 0.7, np.round(rng.lognormal(np.log(30_000), 1.0, n), -2), np.nan)

    seasonal = rng.random(n)
    return (
        pl.DataFrame(
            {
                "_bidx": bidx,
                "uscc": uscc,
                "reg_no": reg_no,
                "name": name,
                "operator_name": operator_name,
                "operator_id": operator_id,
                "_person": person,
                "org_form": _choose(rng, {"个人经营": 0.9, "家庭经营": 0.07, "": 0.03}, n),
                "industry_code": industry_code,
                "region_code": region,
                "established_on": established,
                "status": status,
                "seasonal": seasonal < SEASONAL_SHARE,
                "_seasonal_given": seasonal < 0.6,
                "address": address,
                "capital_yuan": capital * 100,
                "_authority": np.char.add(county, "市场监督管理局"),
                "_active": active,
                "_size": size,
                "_staff": staff,
                "_tax_id_kind": tax_id_kind,
                "_region_name": county,
                "_legacy": legacy,
                "_old": old,
                "_named": named,
            },
        )
        .with_columns(
            pl.when(pl.col("_seasonal_given")).then(pl.col("seasonal")).alias("seasonal"),
            pl.col("established_on").cast(pl.Date),
            pl.when(~pl.col("_legacy")).then(pl.col("uscc")).alias("uscc"),
            pl.when(pl.col("_old")).then(pl.col("reg_no")).alias("reg_no"),
            pl.when(pl.col("_named")).then(pl.col("name")).alias("name"),
            pl.col("org_form").replace("", None),
            pl.col("capital_yuan").cast(pl.Int64, strict=False),
            pl.lit(None, pl.String).alias("_designed"),
            pl.lit(None, pl.String).alias("_trap"),
        )
        .drop("_old", "_named", "_seasonal_given")
    )
