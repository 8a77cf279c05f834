"""Personal identifiers keyed with HMAC-SHA256, so records can be joined on a person without holding the ID.

The key is the first 16 bytes (128 bits, RFC 2104 §5 allows truncation to half the hash) of
HMAC-SHA256(secret, id), hex-encoded: 32 characters. The secret comes from configuration
(``GETIHU_SECRET``), never from code.
"""

from __future__ import annotations

import hashlib
import hmac

import polars as pl

from schemas.sources import KEY_LENGTH

_BLOCK = 64  # SHA-256 block size in bytes


def _pads(secret: bytes) -> tuple[hashlib._Hash, hashlib._Hash]:
    # HMAC per RFC 2104 with the padded-key states computed once, not once per value
    if not secret:
        raise ValueError("an empty secret would make keys guessable")
    key = hashlib.sha256(secret).digest() if len(secret) > _BLOCK else secret
    key = key.ljust(_BLOCK, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    return inner, outer


def _keys_of_each(ids: pl.Series, secret: bytes) -> pl.Series:
    """The key of each value of ``ids``, repeated values keyed again (nulls stay null)."""
    inner, outer = _pads(secret)

    def key_of(value: bytes | None) -> str | None:
        if value is None:
            return None
        i = inner.copy()
        i.update(value)
        o = outer.copy()
        o.update(i.digest())
        return o.hexdigest()[:KEY_LENGTH]

    return pl.Series(ids.name, [key_of(v) for v in ids.cast(pl.String).cast(pl.Binary).to_list()], dtype=pl.String)


def person_key(ids: pl.Expr, secret: bytes) -> pl.Expr:
    """Expression form for distinct values (a lookup's): each value is keyed, repeats again."""
    _pads(secret)  # an empty secret is refused now, not inside a batch
    return ids.map_batches(lambda s: _keys_of_each(s, secret), return_dtype=pl.String)


_FINGERPRINT_LABEL = b"getihu: which key keyed this (raw layer)"


def key_fingerprint(secret: bytes) -> str:
    """What identifies a key without revealing it: HMAC-SHA256 of a fixed label under the key, 16 hex characters.

    The raw layer records it beside each loaded file, so a file keyed under another key is keyed again."""
    _pads(secret)
    return hmac.new(secret, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:16]
