"""Masking of identity numbers, applied when a response model is serialised.

Each request sets whether its principal may see numbers in clear (`set_clear_ids`, called by
the auth dependency); the response models ask `clear_ids_allowed()` while they serialise.
The default is masked, so a path that forgets to set it leaks nothing.
"""
from __future__ import annotations

import re
from contextvars import ContextVar

from creditgraph.base.privacy import mask
from creditgraph.base.text import normalize_raw
from creditgraph.linkage.identifiers import classify

_clear_ids: ContextVar[bool] = ContextVar("creditgraph_clear_ids", default=False)

# 18 digits (last may be X) or 15 digits, not inside a longer run of letters/digits
_NUMBER_RE = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")


def set_clear_ids(allowed: bool) -> None:
    _clear_ids.set(bool(allowed))


def clear_ids_allowed() -> bool:
    return _clear_ids.get()


def mask_number(value: str | None) -> str | None:
    """Mask a person's identifier whatever its shape; a masked value passes unchanged."""
    if value is None:
        return None
    v = normalize_raw(str(value))
    if not v or "*" in v:
        return value
    ident = classify(v, "person")
    if ident is not None and ident.type == "id18" and len(ident.value) == 18:
        return mask(ident.value)
    if len(v) >= 12:
        return v[:6] + "*" * (len(v) - 10) + v[-4:]
    return "*" * len(v)


def looks_like_person_number(text: str) -> bool:
    ident = classify(text, "person")
    return ident is not None and ident.type == "id18" and ident.note != "birth date implausible"


def scrub(text: str) -> str:
    """Mask every identity-number-shaped run (18 digits, or 15 with a plausible date) in text."""
    def repl(m: re.Match) -> str:
        s = m.group(0)
        return mask_number(s) if looks_like_person_number(s) else s
    return _NUMBER_RE.sub(repl, text)


def scrub_any(value):
    """scrub() through nested dicts/lists/strings."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: scrub_any(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_any(v) for v in value]
    return value
