from typing import Annotated

from fastapi import APIRouter, Query

from creditgraph.api.access import Permission
from creditgraph.api.deps import QueriesDep, allow
from creditgraph.api.models import RelatedResult, RelationType, SharedContactsResult
from creditgraph.api.routes._common import ERRORS, EntityId

router = APIRouter(prefix="/entities", tags=["relations"], responses=ERRORS,
                   dependencies=[allow(Permission.RELATED)])

Types = Annotated[list[RelationType] | None, Query(
    description="relation types to follow (repeat the parameter); default all but POSSIBLY_SAME_AS")]


@router.get("/{entity_id}/related", response_model=RelatedResult,
            summary="Parties within `depth` hops (1-3), in either direction, optionally through some relation types")
def related(entity_id: EntityId, queries: QueriesDep,
            depth: Annotated[int, Query(ge=1, le=3, description="hops, 1 to 3")] = 1,
            types: Types = None,
            limit: Annotated[int, Query(ge=1, le=500)] = 100) -> RelatedResult:
    return queries.related(entity_id, depth, [t.value for t in types or []], limit)


@router.get("/{entity_id}/shared-contacts", response_model=SharedContactsResult,
            summary="Entities sharing an address or phone (suspected ties); crowded contacts ignored")
def shared_contacts(entity_id: EntityId, queries: QueriesDep,
                    max_sharing: Annotated[int, Query(ge=2, le=200, description=(
                        "ignore a contact held by more entities than this (registration agents)"))] = 20,
                    limit: Annotated[int, Query(ge=1, le=500)] = 100) -> SharedContactsResult:
    return queries.shared_contacts(entity_id, max_sharing, limit)
