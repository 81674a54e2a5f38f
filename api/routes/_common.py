"""Shared bits of the routers: the documented error responses and the bounded parameters."""
import re
from datetime import date
from typing import Annotated

from fastapi import HTTPException, Path, Query, status
from pydantic import BeforeValidator

from creditgraph.api.access import Permission, allowed, roles_for
from creditgraph.api.keys import Principal
from creditgraph.api.models import Error

ERRORS = {
    400: {"model": Error, "description": "bad request (missing X-Purpose, bad parameter)"},
    401: {"model": Error, "description": "no or unknown API key"},
    403: {"model": Error, "description": "the key's roles do not allow this"},
    404: {"model": Error, "description": "no such entity / pair"},
    422: {"description": "parameter out of bounds or malformed"},
    503: {"model": Error, "description": "graph store unavailable; retry"},
}

# the shape of an entity id, for path and query parameters alike
ENTITY_ID = dict(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")

EntityId = Annotated[str, Path(**ENTITY_ID, description="entity id, e.g. E-0001 or P-0001")]


def _iso_only(value):
    """YYYY-MM-DD and nothing else (pydantic's date also takes a time after it): else 422."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


AsOf = Annotated[date | None, Query(description=(
    "the date the rules apply at, YYYY-MM-DD; default today (the server's date): only records in "
    "force that day reach anyone")), BeforeValidator(_iso_only)]
IncludeHistory = Annotated[bool, Query(description=(
    "also records outside their period at `as_of` (not yet, ended, removed), each with its status; "
    "needs the `history` permission"))]


def check_history(principal: Principal, include_history: bool) -> None:
    """403 when `include_history` is asked by a role that may not see records out of force."""
    if include_history and not allowed(principal.roles, Permission.HISTORY):
        mine = ", ".join(sorted(r.value for r in principal.roles))
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"key {principal.name!r} has role(s) {mine}; include_history needs one of: "
                            f"{', '.join(roles_for(Permission.HISTORY))}")
