"""Shared bits of the routers: the documented error responses and the bounded parameters."""
from typing import Annotated

from fastapi import Path

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
