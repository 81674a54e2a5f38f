import math
import threading
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status

from creditgraph.api.access import Permission, allowed, roles_for
from creditgraph.api.deps import QueriesDep, allow
from creditgraph.api.keys import Principal
from creditgraph.api.models import Error, Kind, SearchResult
from creditgraph.api.ratelimit import TokenBuckets
from creditgraph.api.routes._common import ERRORS
from creditgraph.base.privacy import mask

router = APIRouter(prefix="/search", tags=["search"], responses=ERRORS)
_limits_lock = threading.Lock()
MAX_RETRY_AFTER_S = 86_400


@router.get("/name", response_model=SearchResult, dependencies=[allow(Permission.SEARCH)],
            summary="Entities by name (aliases included)")
def search_name(queries: QueriesDep,
                q: Annotated[str, Query(min_length=1, max_length=100, pattern=r"[^\W_]",
                                        description="part of a name (letters or digits needed)")],
                kind: Kind | None = None,
                limit: Annotated[int, Query(ge=1, le=100)] = 20) -> SearchResult:
    return queries.search_name(q, kind.value if kind else None, limit)


@router.get("/identifier", response_model=SearchResult,
            responses={429: {"model": Error, "description": "too many identity-number searches by "
                                                            "this key: retry after Retry-After seconds"}},
            summary="Entity by identifier: USCC, organisation code, registration/tax number, or "
                    "(investigator, admin; rate limited per key) a person's identity number, "
                    "matched by its keyed hash, never stored in clear")
def search_identifier(request: Request, queries: QueriesDep,
                      principal: Annotated[Principal, allow(Permission.SEARCH)],
                      value: Annotated[str, Query(min_length=1, max_length=40)]) -> SearchResult:
    ident = queries.identifier(value)
    person = ident.type == "id18"
    audit = {"identifier": mask(ident.value) if person else ident.value, "identifier_type": ident.type}
    request.state.audit_extra = {**getattr(request.state, "audit_extra", {}), **audit}
    if person:
        _may_search_a_person(request, principal)
    result = queries.search_identifier(ident)
    request.state.audit_extra["result"] = "hit" if result.hits else "miss"
    return result


def _may_search_a_person(request: Request, principal: Principal) -> None:
    """403 below investigator; 429 past the key's rate (settings.id_search_*)."""
    if not allowed(principal.roles, Permission.SEARCH_ID_NUMBER):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"searching by a person's identity number is {Permission.SEARCH_ID_NUMBER.value}, "
                            f"for {', '.join(roles_for(Permission.SEARCH_ID_NUMBER))} keys; search "
                            "enterprises by USCC, organisation code or registration number, persons by name")
    wait = _limits(request).take(principal.name)
    if wait:
        retry = min(math.ceil(wait), MAX_RETRY_AFTER_S)
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            f"key {principal.name!r} searched too many identity numbers: retry in {retry} s",
                            headers={"Retry-After": str(retry)})


def _limits(request: Request) -> TokenBuckets:
    """The app's buckets, made on first use from its settings (one set per worker process)."""
    state = request.app.state
    with _limits_lock:
        if getattr(state, "id_search_limits", None) is None:
            settings = state.settings
            state.id_search_limits = TokenBuckets(settings.id_search_burst, settings.id_search_per_minute)
    return state.id_search_limits
