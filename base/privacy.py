"""Identity numbers: the one keyed hash and the one mask used everywhere.

The graph and every CSV but `identity_vault.csv` hold a person's number only as
`id_hash(number)` (to join on) and `mask(number)` (to show). The resolve stage and the API
both call these, so a number typed into the API finds the entity resolve wrote.
"""
from __future__ import annotations

import hashlib
import hmac

from creditgraph.base.settings import Settings, id_key
from creditgraph.base.text import normalize_raw

ID_HASH_CHARS = 32


def id_hash(id18: str, key: bytes | None = None, settings: Settings | None = None) -> str:
    """HMAC-SHA256 of the 18-character identity number, hex, first 32 characters.

    `id18` is the canonical number (`linkage.identifiers.classify(raw).value` for type
    `id18`: legacy 15-digit numbers upgraded, `x` upper-cased); NFKC, case and separators are
    normalised again here, so the raw value of a clean number hashes the same.
    The key is `creditgraph.base.settings.id_key()` (CREDITGRAPH_ID_KEY or DATA/secret.key).
    """
    value = normalize_raw(id18)
    secret = key if key is not None else id_key(settings)
    return hmac.new(secret, value.encode("utf-8"), hashlib.sha256).hexdigest()[:ID_HASH_CHARS]


def mask(id18: str) -> str:
    """The public-list mask: `210802********3018` (area code and last four kept).

    `id18` is the canonical 18-character number (legacy numbers already upgraded)."""
    v = normalize_raw(id18)
    return v[:6] + "*" * (len(v) - 10) + v[-4:]
