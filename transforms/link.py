"""Linking tax identities, trademarks and patents to businesses (rules.md §3) — and never guessing.

Registration is the spine. A record reaches a business by, in this order (``route``):

1. ``uscc``: a 纳税人识别号 or trademark holder ID that is the USCC of a registered business.
2. ``operator_id``: a 纳税人识别号 (any 2-character suffix ignored) or trademark holder ID that is an operator's
   resident ID, compared as keys. A tax identity of an operator with several businesses links only when exactly
   one of them is 存续; a trademark counts for each of the operator's businesses ("个体工商户或其经营者").
3. ``name``, for a trademark or patent holder *without an ID*: its name, normalised, is the 名称 of exactly one
   business of the province (``detail`` ``business_name``), or else the 经营者姓名 of exactly one operator with a
   business in the county its address names (``operator_name``; it then counts, like route 2, for each of that
   operator's businesses).

A holder that carries an ID is never linked by name: the ID says who it is, and a namesake is someone else.
Anything else is ``unlinked`` or, when several businesses could be meant, ``ambiguous`` — counting for nobody,
with its candidate businesses listed for review; ``detail`` says why (``DETAILS``).

The linkage table (docs/architecture.md, "Files between stages") has one row per record, holder and business
reached — one row per record and holder when none is. A tax record is a tax identity (source ``taxpayer``): a
USCC, or an operator key with its suffix, across the three tax sources, with the number of rows of each behind
it. No clear personal data: identities are keyed, and holder names are not repeated here.
"""

from __future__ import annotations

import polars as pl

from schemas.codes import half_width
from schemas.vocabulary import IN_FORCE, TAX_ROWS, TAX_SOURCES
from schemas.work_files import LINKAGE_SCHEMA

TAX_IDENTITY = "taxpayer"  # the linkage source of tax identities

LINKED, UNLINKED, AMBIGUOUS = "linked", "unlinked", "ambiguous"
DETAILS: dict[str, str] = {
    "business_name": "linked: the holder's name is the 名称 of exactly one business of the province",
    "operator_name": "linked: the holder's name is that of exactly one operator in the county of the address",
    "uscc_not_registered": "the USCC is not that of a business in the registration extract",
    "not_an_operator": "the resident ID is not that of any business's operator",
    "operator_several_in_force": "the operator has several businesses in force (存续): which one paid is unknown",
    "operator_none_in_force": "the operator has several businesses, none in force (存续): which one paid is unknown",
    "several_businesses_named": "several businesses of the province have this 名称",
    "several_operators_named": "several operators of this name have businesses in the county of the address",
    "no_county_in_address": "no business has this 名称, and no address names one county of the province",
    "no_name_match": "no business has this 名称, and no operator of this name has a business in the county",
}

LINKAGE_KEY = ("source", "record", "holder_no", "business_key")


# --- shared pieces ---------------------------------------------------------------------------------------


def normalised_name(name: pl.Expr) -> pl.Expr:
    """A name as compared for linkage: full-width folded to half-width, every space removed; empty → null."""
    folded = half_width(name).str.replace_all(r"\s+", "")
    return pl.when(folded == "").then(None).otherwise(folded)


def tax_identity(uscc: pl.Expr, key: pl.Expr, suffix: pl.Expr) -> pl.Expr:
    """One string per taxpayer: the USCC, or the operator key with its suffix (``<key>/<suffix>``)."""
    keyed = pl.when(suffix.is_null()).then(key).otherwise(pl.concat_str(key, pl.lit("/"), suffix))
    return pl.coalesce(uscc, keyed)


def operators(registration: pl.LazyFrame, keys: pl.LazyFrame) -> pl.LazyFrame:
    """Per operator key of ``keys`` (a frame of ``operator_key``): all their businesses and those in force, each
    sorted. Records reach few of a province's operators, so their registrations are picked out before grouping.
    """
    return (
        registration.join(keys.unique(), on="operator_key", how="semi")
        .group_by("operator_key")
        .agg(
            businesses=pl.col("business_key").unique().sort(),
            in_force=pl.col("business_key").filter(pl.col("status") == IN_FORCE).unique().sort(),
        )
    )


def _finish(frame: pl.LazyFrame) -> pl.LazyFrame:
    """The columns of LINKAGE_SCHEMA in its order: those a branch does not set are null, candidates empty."""
    present = frame.collect_schema()
    return frame.select(
        pl.col(name).cast(dtype) if name in present else pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in LINKAGE_SCHEMA.items()
    ).with_columns(pl.col("candidates").fill_null(pl.lit([], dtype=pl.List(pl.String()))))


def _found_by_id(business_key: pl.Expr, route: str, detail_if_not: str) -> list[pl.Expr]:
    """status / route / business_key / detail of a record looked up by an ID: found, or unlinked and why."""
    found = business_key.is_not_null()
    return [
        pl.when(found).then(pl.lit(LINKED)).otherwise(pl.lit(UNLINKED)).alias("status"),
        pl.when(found).then(pl.lit(route)).alias("route"),
        business_key.alias("business_key"),
        pl.when(~found).then(pl.lit(detail_if_not)).alias("detail"),
    ]


# --- tax identities --------------------------------------------------------------------------------------

_IDENTITY_COLUMNS = ["taxpayer_uscc", "taxpayer_key", "taxpayer_suffix"]


def tax_identities(tax_sources: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
    """Every tax identity with the number of rows each tax source has of it (large sources aggregate first)."""
    per_source = [
        frame.group_by(_IDENTITY_COLUMNS).agg(pl.len().cast(pl.Int64).alias(f"{name}_rows"))
        for name, frame in tax_sources.items()
    ]
    return (
        pl.concat(per_source, how="diagonal")
        .group_by(_IDENTITY_COLUMNS)
        .agg(pl.col(rows).sum() for rows in TAX_ROWS)  # a source without the identity sums to 0
    )


def link_tax(identities: pl.LazyFrame, registration: pl.LazyFrame) -> pl.LazyFrame:
    """Routes 1 and 2 for tax identities: a USCC of a business, or an operator with one business in force."""
    identity = tax_identity(pl.col("taxpayer_uscc"), pl.col("taxpayer_key"), pl.col("taxpayer_suffix"))
    common = [pl.lit(TAX_IDENTITY).alias("source"), identity.alias("record"), pl.lit(1).alias("holder_no"), *TAX_ROWS]

    by_uscc = (
        identities.filter(pl.col("taxpayer_uscc").is_not_null())
        .join(
            registration.select("uscc", "business_key").filter(pl.col("uscc").is_not_null()),
            left_on="taxpayer_uscc",
            right_on="uscc",
            how="left",
        )
        .select(*common, *_found_by_id(pl.col("business_key"), "uscc", "uscc_not_registered"))
    )

    n_businesses = pl.col("businesses").list.len()
    n_in_force = pl.col("in_force").list.len()
    not_an_operator = pl.col("businesses").is_null()
    found = (n_businesses == 1) | (n_in_force == 1)
    several_in_force = (n_businesses > 1) & (n_in_force > 1)
    none_in_force = (n_businesses > 1) & (n_in_force == 0)
    keyed = identities.filter(pl.col("taxpayer_uscc").is_null())
    by_operator = keyed.join(
        operators(registration, keyed.select(operator_key="taxpayer_key")),
        left_on="taxpayer_key",
        right_on="operator_key",
        how="left",
    ).select(
        *common,
        pl.when(not_an_operator)
        .then(pl.lit(UNLINKED))
        .when(found)
        .then(pl.lit(LINKED))
        .otherwise(pl.lit(AMBIGUOUS))
        .alias("status"),
        pl.when(found).then(pl.lit("operator_id")).alias("route"),
        pl.when(n_businesses == 1)
        .then(pl.col("businesses").list.first())
        .when(n_in_force == 1)
        .then(pl.col("in_force").list.first())
        .alias("business_key"),
        pl.when(several_in_force)
        .then(pl.col("in_force"))
        .when(none_in_force)
        .then(pl.col("businesses"))
        .alias("candidates"),
        pl.when(not_an_operator)
        .then(pl.lit("not_an_operator"))
        .when(several_in_force)
        .then(pl.lit("operator_several_in_force"))
        .when(none_in_force)
        .then(pl.lit("operator_none_in_force"))
        .alias("detail"),
    )
    return pl.concat([_finish(by_uscc), _finish(by_operator)])


# --- trademarks and patents ------------------------------------------------------------------------------


def county_of_address(addresses: pl.LazyFrame, regions: pl.DataFrame) -> pl.LazyFrame:
    """``address → county`` (a region code) for addresses naming exactly one county of the province.

    A county counts as named when the address contains its name *and* its city's (or, for a county the
    province administers directly, the province's) name: county names repeat across cities and provinces
    (向阳区, 鼓楼区), and a short one (新县, 郊区) can occur inside another word.
    """
    directly_administered = regions["city_code"].str.ends_with("90")
    named = regions.select(
        "region_code",
        "region_name",
        anchor=pl.when(directly_administered).then(pl.col("province_name")).otherwise(pl.col("city_name")),
    )
    region_names = named["region_name"].unique().sort().to_list()
    anchors = named["anchor"].unique().sort().to_list()
    if not region_names:  # a province without reference regions: no address can name a county of it
        return pl.LazyFrame(schema={"address": pl.String(), "county": pl.String()})
    return (
        addresses.filter(pl.col("address").is_not_null())
        .unique()
        .with_columns(
            named_region=pl.col("address").str.extract_many(region_names, overlapping=True),
            named_anchors=pl.col("address").str.extract_many(anchors, overlapping=True),
        )
        .explode("named_region")
        .join(named.lazy(), left_on="named_region", right_on="region_name")
        .filter(pl.col("named_anchors").list.contains(pl.col("anchor")))
        .group_by("address")
        .agg(pl.col("region_code").unique())
        .filter(pl.col("region_code").list.len() == 1)
        .select("address", county=pl.col("region_code").list.first())
    )


def link_by_name(holders: pl.LazyFrame, registration: pl.LazyFrame, regions: pl.DataFrame) -> pl.LazyFrame:
    """Route 3 for holders without an ID (``source, record, holder_no, holder_name, address``)."""
    holders = holders.with_columns(name_norm=normalised_name(pl.col("holder_name")))
    # a million registrations, a few thousand holder names: only the registrations bearing one are grouped
    names = holders.select("name_norm").unique()
    businesses_named = (
        registration.select("business_key", name_norm=normalised_name(pl.col("name")))
        .join(names, on="name_norm", how="semi")
        .group_by("name_norm")
        .agg(named=pl.col("business_key").unique().sort())
    )
    operators_named = (
        registration.select(
            "business_key", "operator_key", county="region_code", name_norm=normalised_name(pl.col("operator_name"))
        )
        .join(names, on="name_norm", how="semi")
        .group_by("county", "name_norm")
        .agg(
            operator_keys=pl.col("operator_key").unique().sort(),
            county_businesses=pl.col("business_key").unique().sort(),
        )
    )
    holders = (
        holders.join(businesses_named, on="name_norm", how="left")
        .join(county_of_address(holders.select("address"), regions), on="address", how="left")
        .join(operators_named, on=["county", "name_norm"], how="left")
        .with_columns(operator_key=pl.col("operator_keys").list.first())
    )
    holders = holders.join(
        operators(registration, holders.select("operator_key").drop_nulls()), on="operator_key", how="left"
    )
    n_named = pl.col("named").list.len()
    n_operators = pl.col("operator_keys").list.len()
    one_business = n_named == 1
    one_operator = n_named.is_null() & (n_operators == 1)
    several_businesses = n_named > 1
    several_operators = n_named.is_null() & (n_operators > 1)
    resolved = holders.select(
        "source",
        "record",
        "holder_no",
        pl.when(one_business | one_operator)
        .then(pl.lit(LINKED))
        .when(several_businesses | several_operators)
        .then(pl.lit(AMBIGUOUS))
        .otherwise(pl.lit(UNLINKED))
        .alias("status"),
        pl.when(one_business | one_operator).then(pl.lit("name")).alias("route"),
        # the operator found by name holds it for each of their businesses: one row each after the explode
        pl.when(one_business)
        .then(pl.col("named"))
        .when(one_operator)
        .then(pl.col("businesses"))
        .otherwise(pl.lit([None], dtype=pl.List(pl.String())))
        .alias("business_key"),
        pl.when(several_businesses)
        .then(pl.col("named"))
        .when(several_operators)
        .then(pl.col("county_businesses"))
        .alias("candidates"),
        pl.when(one_business)
        .then(pl.lit("business_name"))
        .when(one_operator)
        .then(pl.lit("operator_name"))
        .when(several_businesses)
        .then(pl.lit("several_businesses_named"))
        .when(several_operators)
        .then(pl.lit("several_operators_named"))
        .when(pl.col("county").is_null())
        .then(pl.lit("no_county_in_address"))
        .otherwise(pl.lit("no_name_match"))
        .alias("detail"),
    ).explode("business_key")
    return _finish(resolved)


def link_trademarks(trademark: pl.LazyFrame, registration: pl.LazyFrame, regions: pl.DataFrame) -> pl.LazyFrame:
    """Every trademark: by the holder's USCC, else the holder's resident ID, else (no ID) by name."""
    common = [pl.lit("trademark").alias("source"), pl.col("trademark_no").alias("record"), pl.lit(1).alias("holder_no")]
    by_uscc = (
        trademark.filter(pl.col("holder_uscc").is_not_null())
        .join(
            registration.select("uscc", "business_key").filter(pl.col("uscc").is_not_null()),
            left_on="holder_uscc",
            right_on="uscc",
            how="left",
        )
        .select(*common, *_found_by_id(pl.col("business_key"), "uscc", "uscc_not_registered"))
    )
    keyed = trademark.filter(pl.col("holder_uscc").is_null() & pl.col("holder_key").is_not_null())
    by_operator = (
        keyed.join(
            operators(registration, keyed.select(operator_key="holder_key")),
            left_on="holder_key",
            right_on="operator_key",
            how="left",
        )
        .explode("businesses")  # counts for each of the operator's businesses
        .select(*common, *_found_by_id(pl.col("businesses"), "operator_id", "not_an_operator"))
    )
    by_name = link_by_name(
        trademark.filter(pl.col("holder_uscc").is_null() & pl.col("holder_key").is_null()).select(
            *common, holder_name="holder_name", address="holder_address"
        ),
        registration,
        regions,
    )
    return pl.concat([_finish(by_uscc), _finish(by_operator), by_name])


def patent_holders(patent: pl.LazyFrame) -> pl.LazyFrame:
    """One row per holder of each patent; only the first holder has an address (专利权人地址 is the first's)."""
    names = (
        pl.col("holder_names")
        .str.replace_all("；", ";")
        .str.split(";")
        .list.eval(pl.element().str.strip_chars().filter(pl.element() != ""))
    )
    return (
        patent.select(
            pl.lit("patent").alias("source"),
            pl.col("application_no").alias("record"),
            pl.col("holder_address").alias("first_address"),
            names.alias("holder_name"),
        )
        .with_columns(holder_no=pl.int_ranges(1, pl.col("holder_name").list.len() + 1, dtype=pl.Int16))
        .explode("holder_name", "holder_no")
        .filter(pl.col("holder_name").is_not_null())
        .with_columns(address=pl.when(pl.col("holder_no") == 1).then(pl.col("first_address")))
        .drop("first_address")
    )


def link_patents(patent: pl.LazyFrame, registration: pl.LazyFrame, regions: pl.DataFrame) -> pl.LazyFrame:
    """Every holder of every patent, by name (patents carry no holder ID)."""
    return link_by_name(patent_holders(patent), registration, regions)


# --- all of it -------------------------------------------------------------------------------------------


def with_quarantined(registration: pl.LazyFrame, quarantined: pl.LazyFrame | None) -> pl.LazyFrame:
    """Registration with the businesses whose row was quarantined (``QUARANTINED_BUSINESSES_SCHEMA``): they still
    exist, so they count among their operator's businesses (a status broken in delivery counts as in force) —
    quarantine must not turn an ambiguous record into a guessed link. They carry no USCC or name here, so no
    record is linked to them by USCC or by name; one linked to them by operator counts for no published business.
    """
    if quarantined is None:
        return registration
    accepted = registration.select("business_key").collect_schema()
    extra = (
        quarantined.join(registration.select("business_key"), on="business_key", how="anti")
        .with_columns(pl.col("status").fill_null(IN_FORCE))
        .cast({"business_key": accepted["business_key"]})
    )
    return pl.concat([registration, extra], how="diagonal_relaxed")


def linkage(
    sources: dict[str, pl.LazyFrame], regions: pl.DataFrame, quarantined: pl.LazyFrame | None = None
) -> pl.LazyFrame:
    """The linkage table of a cycle from its accepted tables, the businesses whose registration was quarantined
    and the province's regions, sorted by its key."""
    registration = with_quarantined(sources["registration"], quarantined)
    return pl.concat(
        [
            link_tax(tax_identities({name: sources[name] for name in TAX_SOURCES}), registration),
            link_trademarks(sources["trademark"], registration, regions),
            link_patents(sources["patent"], registration, regions),
        ]
    ).sort(*LINKAGE_KEY, nulls_last=True)
