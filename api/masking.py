"""Masking of identity numbers, applied when a response model is serialised.

Each request sets whether its principal may see numbers in clear (`set_clear_ids`, called by
the auth dependency); the response models ask `clear_ids_allowed()` while they serialise.
The default is masked, so a path that forgets to set it leaks nothing. The mask itself is
`creditgraph.base.privacy.mask` (and `scrub` for free text), the one every face uses.
"""
from __future__ import annotations

from contextvars import ContextVar

from creditgraph.base.privacy import mask

_clear_ids: ContextVar[bool] = ContextVar("creditgraph_clear_ids", default=False)


def set_clear_ids(allowed: bool) -> None:
    _clear_ids.set(bool(allowed))


def clear_ids_allowed() -> bool:
    return _clear_ids.get()


def mask_number(value: str | None) -> str | None:
    """A person's identifier as shown below investigator, whatever its shape (privacy.mask)."""
    return None if value is None else mask(str(value))
