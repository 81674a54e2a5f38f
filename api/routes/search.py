from typing import Annotated

from fastapi import APIRouter, Query

from creditgraph.api.access import Permission
from creditgraph.api.deps import QueriesDep, allow
from creditgraph.api.models import Kind, SearchResult
from creditgraph.api.routes._common import ERRORS

router = APIRouter(prefix="/search", tags=["search"], responses=ERRORS)


@router.get("/name", response_model=SearchResult, dependencies=[allow(Permission.SEARCH)],
            summary="Entities by name (aliases included)")
def search_name(queries: QueriesDep,
                q: Annotated[str, Query(min_length=1, max_length=100, pattern=r"[^\W_]",
                                        description="part of a name (letters or digits needed)")],
                kind: Kind | None = None,
                limit: Annotated[int, Query(ge=1, le=100)] = 20) -> SearchResult:
    return queries.search_name(q, kind.value if kind else None, limit)


@router.get("/identifier", response_model=SearchResult, dependencies=[allow(Permission.SEARCH)],
            summary="Entity by identifier: USCC, organisation code, registration/tax number, "
                    "identity number (matched by its keyed hash, never stored in clear)")
def search_identifier(queries: QueriesDep,
                      value: Annotated[str, Query(min_length=1, max_length=40)]) -> SearchResult:
    return queries.search_identifier(value)
