"""Personal identifiers keyed with HMAC-SHA256, so records can be joined on a person without holding the ID.

The key is the first 16 bytes (128 bits, RFC 2104 §5 allows truncation to half the hash) of
HMAC-SHA256(secret, id), hex-encoded: 32 characters. The secret comes from configuration
(``GETIHU_SECRET``), never from code.
"""

from __future__ import annotations

import hashlib

import polars as pl

KEY_LENGTH = 32  # hex characters
_BLOCK = 64  # SHA-256 block size in bytes


def _pads(secret: bytes) -> tuple[hashlib._Hash, hashlib._Hash]:
    # HMAC per RFC 2104 with the padded-key states computed once, not once per value
    key = hashlib.sha256(secret).digest() if len(secret) > _BLOCK else secret
    key = key.ljust(_BLOCK, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    return inner, outer


def person_keys(ids: pl.Series, secret: bytes) -> pl.Series:
    """The key of every ID in ``ids`` (nulls stay null), computing each distinct ID once."""
    if not secret:
        raise ValueError("an empty secret would make keys guessable")
    inner, outer = _pads(secret)

    def key_of(value: str) -> str:
        i = inner.copy()
        i.update(value.encode())
        o = outer.copy()
        o.update(i.digest())
        return o.hexdigest()[:KEY_LENGTH]

    distinct = ids.drop_nulls().unique()
    lookup = pl.DataFrame(
        {"id": distinct, "key": [key_of(v) for v in distinct.to_list()]},
        schema={"id": pl.String, "key": pl.String},
    )
    frame = pl.DataFrame({"id": ids.cast(pl.String)})
    return frame.join(lookup, on="id", how="left", maintain_order="left")["key"].alias(ids.name)


def person_key(ids: pl.Expr, secret: bytes) -> pl.Expr:
    """Expression form of :func:`person_keys`, for use inside a frame's ``with_columns``."""
    return ids.map_batches(lambda s: person_keys(s, secret), return_dtype=pl.String)
