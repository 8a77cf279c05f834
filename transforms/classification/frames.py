"""Polars frames in and out of the classification records (``model``), for the flows and the outputs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import fields

import polars as pl

from transforms.classification.model import (
    Application,
    Business,
    Credential,
    Debtor,
    Event,
    InfoReport,
    OfficeEvent,
    Penalty,
    Recognition,
    ReviewResult,
)
from transforms.classification.review import ReviewRow
from transforms.classification.round import Decision, QuotaUse

BUSINESS_COLUMNS = ("business_key", "uscc", "name", "region_code", "industry_code", "business_type", "operator_key")

RECOGNITION_SCHEMA = {
    "recognition_no": pl.String,
    "uscc": pl.String,
    "category": pl.String,
    "region_code": pl.String,
    "operator_key": pl.String,
    "application_no": pl.String,
    "applied_on": pl.Date,
    "recognised_on": pl.Date,
    "valid_until": pl.Date,
    "benefits_from": pl.Date,
    "channel": pl.String,
    "recommender": pl.String,
    "round_year": pl.Int32,
    "status": pl.String,
    "ended_on": pl.Date,
    "base_type": pl.String,
    "base_sales": pl.Decimal(18, 2),
    "base_tax": pl.Decimal(18, 2),
    "base_insured": pl.Int32,
}
EVENT_SCHEMA = {
    "recognition_no": pl.String,
    "uscc": pl.String,
    "event": pl.String,
    "date": pl.Date,
    "reasons": pl.String,
    "document_no": pl.String,
    "year": pl.Int32,
    "step": pl.String,
}


def _rows(frame: pl.DataFrame, columns: Sequence[str]) -> Iterable[dict]:
    present = [c for c in columns if c in frame.columns]
    for row in frame.select(present).iter_rows(named=True):
        yield {c: row.get(c) for c in columns}


def applications(frame: pl.DataFrame) -> list[Application]:
    names = [f.name for f in fields(Application)]
    return [Application(**r) for r in _rows(frame, names)]


def businesses(frame: pl.DataFrame) -> dict[str, Business]:
    feature_columns = [c for c in frame.columns if c not in BUSINESS_COLUMNS]
    out = {}
    for row in frame.iter_rows(named=True):
        out[row["uscc"]] = Business(
            uscc=row["uscc"],
            name=row.get("name"),
            region_code=row["region_code"],
            business_type=row["business_type"],
            operator_key=row.get("operator_key"),
            industry_code=row.get("industry_code"),
            features={c: row[c] for c in feature_columns},
        )
    return out


def penalties(frame: pl.DataFrame) -> list[Penalty]:
    return [Penalty(**r) for r in _rows(frame, ["uscc", "decided_on", "penalty_kind", "repaired_on", "decision_no"])]


def debtors(frame: pl.DataFrame) -> list[Debtor]:
    return [Debtor(**r) for r in _rows(frame, ["person_key", "listed_on", "removed_on"]) if r["person_key"]]


def credentials(frame: pl.DataFrame) -> list[Credential]:
    names = ["uscc", "credential_type", "level", "obtained_on", "valid_until"]
    return [Credential(**r) for r in _rows(frame, names)]


def reviews(frame: pl.DataFrame) -> dict[str, ReviewResult]:
    return {
        r["application_no"]: ReviewResult(**r) for r in _rows(frame, ["application_no", "visit_result", "objection"])
    }


def info_reports(frame: pl.DataFrame) -> list[InfoReport]:
    names = ["uscc", "report_year", "filed_on", "operator_changed", "new_operator_key"]
    return [InfoReport(**{**r, "operator_changed": bool(r["operator_changed"])}) for r in _rows(frame, names)]


def office_events(frame: pl.DataFrame) -> list[OfficeEvent]:
    return [OfficeEvent(**r) for r in _rows(frame, ["uscc", "event", "date", "document_no"])]


def recognitions(frame: pl.DataFrame) -> list[Recognition]:
    return [Recognition(**r) for r in _rows(frame, list(RECOGNITION_SCHEMA))]


def events(frame: pl.DataFrame) -> list[Event]:
    return [
        Event(**{**r, "reasons": tuple(r["reasons"].split(";")) if r["reasons"] else ()})
        for r in _rows(frame, list(EVENT_SCHEMA))
    ]


def _fields(item: object, names: Iterable[str]) -> dict:
    return {n: getattr(item, n) for n in names}  # dataclasses.asdict deep-copies every value: 10x slower


def recognition_frame(items: Iterable[Recognition]) -> pl.DataFrame:
    rows = [_fields(r, RECOGNITION_SCHEMA) for r in items]
    return pl.DataFrame(rows, schema=RECOGNITION_SCHEMA, orient="row").sort("recognition_no")


def event_frame(items: Iterable[Event]) -> pl.DataFrame:
    rows = [{**_fields(e, EVENT_SCHEMA), "reasons": ";".join(e.reasons) or None} for e in items]
    frame = pl.DataFrame(rows, schema=EVENT_SCHEMA, orient="row")
    return frame.sort("recognition_no", "date", "year", "step", "event", maintain_order=True)


def decision_frame(items: Iterable[Decision], year: int) -> pl.DataFrame:
    """One row per application (warehouse ``applications``; decisions.csv is its Chinese view)."""
    rows = []
    for d in items:
        a, b, s = d.application, d.business, d.score
        rows.append(
            {
                "year": year,
                "application_no": a.application_no,
                "uscc": a.uscc,
                "name": b.name if b else None,
                "region_code": b.region_code if b else None,
                "category": a.category,
                "applied_on": a.applied_on,
                "channel": a.channel,
                "recommender": a.recommender,
                "relaxation": a.relaxation,
                "business_type": b.business_type if b else None,
                "score": s.points if s else None,
                "pass_mark": s.pass_mark if s else None,
                "indicators_met": (";".join(s.met) or None) if s else None,
                "standard": s.standard if s else None,
                "quota_unit": d.unit,
                "rank": d.rank,
                "outcome": d.outcome,
                "reasons": ";".join(d.reasons) or None,
            }
        )
    schema = {
        "year": pl.Int32,
        "application_no": pl.String,
        "uscc": pl.String,
        "name": pl.String,
        "region_code": pl.String,
        "category": pl.String,
        "applied_on": pl.Date,
        "channel": pl.String,
        "recommender": pl.String,
        "relaxation": pl.String,
        "business_type": pl.String,
        "score": pl.Int32,
        "pass_mark": pl.Int32,
        "indicators_met": pl.String,
        "standard": pl.String,
        "quota_unit": pl.String,
        "rank": pl.Int32,
        "outcome": pl.String,
        "reasons": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row").sort("application_no")


def quota_frame(items: Iterable[QuotaUse]) -> pl.DataFrame:
    rows = [
        {
            "quota_unit": q.unit,
            "base": q.base,
            "places": q.places,
            "held": q.held,
            "candidates": q.candidates,
            "recognised": q.recognised,
            "freed": q.freed,
            "remaining": q.remaining,
        }
        for q in items
    ]
    schema = {k: (pl.String if k == "quota_unit" else pl.Int64) for k in
              ("quota_unit", "base", "places", "held", "candidates", "recognised", "freed", "remaining")}  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


def review_frame(items: Iterable[ReviewRow]) -> pl.DataFrame:
    rows = [
        {
            "recognition_no": r.recognition.recognition_no,
            "uscc": r.recognition.uscc,
            "region_code": r.recognition.region_code,
            "category": r.recognition.category,
            "recognised_on": r.recognition.recognised_on,
            "valid_until": r.recognition.valid_until,
            "result": r.result,
            "reasons": ";".join(r.reasons) or None,
        }
        for r in items
    ]
    schema = {
        "recognition_no": pl.String,
        "uscc": pl.String,
        "region_code": pl.String,
        "category": pl.String,
        "recognised_on": pl.Date,
        "valid_until": pl.Date,
        "result": pl.String,
        "reasons": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def valid_on(frame: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """The recognitions of a register frame valid on ``day`` (the rule of ``Recognition.valid_on``)."""
    ended = pl.col("status").is_in(["取消", "撤销"]) & pl.col("ended_on").is_not_null() & (pl.col("ended_on") <= day)
    return frame.filter((pl.col("recognised_on") <= day) & (pl.col("valid_until") >= day) & ~ended)
