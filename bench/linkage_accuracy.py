"""Linkage against the generator's ground truth: precision (no wrong link, ever) and recall, per source.

    GETIHU_SECRET=... .venv/bin/python -m bench.linkage_accuracy --linkage WORK/linkage.parquet \\
        --truth INBOX.truth/links.parquet [--show 20]

``links.parquet`` (``getihu generate``) has one row per true (record, business) pair — ``attributable`` when a
correct linker can reach it — and one row with no business for records nobody here owns. Its tax records are
clear 纳税人识别号 per tax source; they are keyed here with the run's secret (``GETIHU_SECRET``) into the tax
identities of ``linkage.parquet``.

- precision = linked (record, business) pairs that are true / all linked pairs; a pair that is true but not
  attributable (the truth's designed ambiguities) is reported apart: linking it would have been a guess.
- recall = attributable true pairs linked / all attributable true pairs.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import polars as pl

from schemas.codes import normalised_code, resident_id_problem
from schemas.vocabulary import TAX_SOURCES
from transforms.keys import person_key
from transforms.link import LINKED, TAX_IDENTITY, tax_identity


def keyed_tax_records(truth: pl.DataFrame, secret: bytes) -> pl.DataFrame:
    """Truth rows of the tax sources as tax identities (source ``taxpayer``), the way ingest keys them."""
    tax = truth.filter(pl.col("source").is_in(TAX_SOURCES)).with_columns(code=normalised_code(pl.col("record")))
    # as ingest decides: a valid resident ID (+ suffix) is a person even if it also passes as a USCC
    is_person = resident_id_problem(pl.col("code").str.head(18)).is_null()
    tax = tax.with_columns(
        taxpayer_uscc=pl.when(~is_person).then(pl.col("code")),
        resident_id=pl.when(is_person).then(pl.col("code").str.head(18)),
        taxpayer_suffix=pl.when(is_person & (pl.col("code").str.len_chars() > 18)).then(pl.col("code").str.slice(18)),
    )
    tax = tax.with_columns(taxpayer_key=person_key(pl.col("resident_id"), secret))
    identity = tax_identity(pl.col("taxpayer_uscc"), pl.col("taxpayer_key"), pl.col("taxpayer_suffix"))
    return tax.select(
        source=pl.lit(TAX_IDENTITY), record=identity, business_key="business_key", attributable="attributable"
    ).unique()


def accuracy(linkage: pl.DataFrame, truth: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per source: linked pairs, true, true but not attributable, wrong, precision; attributable pairs, found,
    recall. And the wrong links themselves."""
    linked = linkage.filter(pl.col("status") == LINKED).select("source", "record", "business_key").unique()
    pairs = truth.filter(pl.col("business_key").is_not_null()).select(
        "source", "record", "business_key", "attributable"
    )
    judged = linked.join(pairs, on=["source", "record", "business_key"], how="left")
    found = pairs.filter("attributable").join(
        linked.with_columns(found=pl.lit(True)), on=["source", "record", "business_key"], how="left"
    )
    precision = judged.group_by("source").agg(
        linked=pl.len(),
        true=pl.col("attributable").is_not_null().sum(),
        true_not_attributable=(pl.col("attributable") == False).sum(),  # noqa: E712
        wrong=pl.col("attributable").is_null().sum(),
    )
    recall = found.group_by("source").agg(attributable=pl.len(), found=pl.col("found").fill_null(False).sum())
    table = (
        precision.join(recall, on="source", how="full", coalesce=True)
        .fill_null(0)
        .with_columns(
            precision=pl.col("true") / pl.col("linked"),
            recall=pl.col("found") / pl.col("attributable"),
        )
        .sort("source")
    )
    wrong = judged.filter(pl.col("attributable").is_null()).drop("attributable").sort("source", "record")
    return table, wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--linkage", type=Path, required=True)
    parser.add_argument("--truth", type=Path, required=True)
    parser.add_argument("--show", type=int, default=20, help="wrong links to print")
    args = parser.parse_args()
    secret = os.environ.get("GETIHU_SECRET", "").encode()
    if not secret:
        raise SystemExit("GETIHU_SECRET must be the secret the run keyed personal IDs with")
    truth = pl.read_parquet(args.truth)
    truth = pl.concat(
        [
            truth.filter(~pl.col("source").is_in(TAX_SOURCES)).select(
                "source", "record", "business_key", "attributable"
            ),
            keyed_tax_records(truth, secret),
        ]
    )
    table, wrong = accuracy(pl.read_parquet(args.linkage), truth)
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=200):
        print(table)
        if wrong.height:
            print(f"{wrong.height} wrong links, the first {args.show}:")
            print(wrong.head(args.show))
    totals = table.select(pl.col("linked", "true", "wrong", "attributable", "found").sum()).row(0, named=True)
    print(
        json.dumps(
            totals
            | {
                "precision": totals["true"] / max(totals["linked"], 1),
                "recall": totals["found"] / max(totals["attributable"], 1),
            }
        )
    )


if __name__ == "__main__":
    main()
