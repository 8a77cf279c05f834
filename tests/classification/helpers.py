"""Small builders for the classification tests: a plain standard whose score is easy to set."""

from __future__ import annotations

import datetime as dt

from schemas.classification import Standards, parse_standard
from transforms.classification.model import Application, Business, Recognition, benefits_from, valid_until_for

D = dt.date
APPLIED = D(2025, 8, 20)
ROUND_DAY = D(2025, 11, 30)
EARLIER_ROUND = D(2023, 11, 30)


def standard_data(region: str = "41", share: float = 0.05, level: str = "county", **extra) -> dict:
    """Every category: one indicator per point on ``valid_trademarks`` (1 point) and ``valid_patents`` (1 point),
    ``years_established`` ≥ 5 (1 point); pass mark 1."""
    indicators = [
        {"code": "T", "label": "商标", "points": 1, "feature": "valid_trademarks", "at_least": 1},
        {"code": "P", "label": "专利", "points": 1, "feature": "valid_patents", "at_least": 1},
        {"code": "Y", "label": "成立5年", "points": 1, "feature": "years_established", "at_least": 5},
    ]
    data = {
        "id": "T",
        "version": "2025.1",
        "region": region,
        "title": "测试标准",
        "document": "测试",
        "source": "tests",
        "categories": {c: {"pass_mark": 1, "indicators": indicators} for c in ("知名", "特色", "优质", "新兴")},
        "quota": {"share": share, "level": level},
    }
    data.update(extra)
    return data


def standards(share: float = 0.05, level: str = "county", **extra) -> Standards:
    return Standards({"41": parse_standard(standard_data(share=share, level=level, **extra), "41.toml")})


def business(
    uscc: str,
    region: str = "410102",
    type_: str = "成长型",
    operator: str | None = None,
    points: int = 1,
    **features,
) -> Business:
    """A business scoring ``points`` (0–3) under :func:`standards`."""
    f = {
        "valid_trademarks": int(points >= 1),
        "valid_patents": int(points >= 2),
        "years_established": 5 * (points >= 3),
    }
    f.update(features)
    return Business(uscc, f"名称{uscc}", region, type_, operator or f"op-{uscc}", "H6210", f)


def application(
    no: str, uscc: str, on: dt.date = APPLIED, channel: str = "自主申报", consent: bool | None = None, **kw
) -> Application:
    return Application(no, uscc, kw.pop("category", "知名"), on, channel, kw.pop("recommender", None), consent, **kw)


def recognition(
    no: str,
    uscc: str,
    on: dt.date = EARLIER_ROUND,
    region: str = "410102",
    operator: str | None = None,
    **kw,
) -> Recognition:
    return Recognition(
        recognition_no=no,
        uscc=uscc,
        category=kw.pop("category", "知名"),
        region_code=region,
        operator_key=operator or f"op-{uscc}",
        application_no=f"A-{no}",
        applied_on=kw.pop("applied_on", on.replace(month=8, day=20)),
        recognised_on=on,
        valid_until=kw.pop("valid_until", valid_until_for(on)),
        benefits_from=benefits_from(on),
        channel=kw.pop("channel", "自主申报"),
        recommender=kw.pop("recommender", None),
        round_year=on.year,
        **kw,
    )


def counts(**per_region: int) -> dict[str, int]:
    return {k.removeprefix("r"): v for k, v in per_region.items()}
