"""Is the person filing an objection the business's operator? The resident ID typed is keyed with the same HMAC
as ingest (``transforms.personal.keyed_lookup``, the column's own normalisation) and compared with the operator
key the cycle accepted for the business (``work/<P>/<cycle_id>/accepted/registration.parquet``); the name is
compared too. Only a yes/no leaves this module: the clear ID is never stored, logged nor shown, and nothing
of the registration row reaches a page.
"""

from __future__ import annotations

import hmac
import unicodedata
from pathlib import Path

import polars as pl

from schemas.sources import SOURCES
from transforms.personal import keyed_lookup

_OPERATOR_ID = next(c for c in SOURCES["registration"].columns if c.name == "operator_id")


def typed_key(resident_id: str, secret: bytes) -> str | None:
    """The key of the ID as typed (None when it is not a valid resident ID: a wrong check character, a bad date)."""
    lookup = keyed_lookup(pl.Series(_OPERATOR_ID.name, [resident_id]), _OPERATOR_ID, secret)
    if lookup.is_empty() or lookup[f"{_OPERATOR_ID.name}_rule"][0] is not None:
        return None
    return lookup[_OPERATOR_ID.key_name][0]


def _name_form(name: str | None) -> str:
    return "".join(unicodedata.normalize("NFKC", name or "").split())


def is_operator(
    home: Path, province: str, cycle_id: str, business_key: str, name: str, resident_id: str, secret: bytes
) -> bool:
    """True when ``name`` and ``resident_id`` are those the cycle accepted for the business's operator."""
    key = typed_key(resident_id, secret)
    registration = home / "work" / province / cycle_id / "accepted" / "registration.parquet"
    if key is None or not registration.is_file():
        return False
    held = (
        pl.scan_parquet(registration)
        .filter(pl.col("business_key") == business_key)
        .select(_OPERATOR_ID.key_name, "operator_name")
        .collect()
    )
    return any(
        row[0] is not None
        and hmac.compare_digest(row[0].encode(), key.encode())
        and _name_form(row[1]) == _name_form(name)
        for row in held.iter_rows()
    )
