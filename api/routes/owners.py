from typing import Annotated

from fastapi import APIRouter, Query

from creditgraph.api.access import Permission
from creditgraph.api.deps import QueriesDep, allow
from creditgraph.api.models import OwnersResult
from creditgraph.api.routes._common import ERRORS, EntityId

router = APIRouter(prefix="/entities", tags=["ownership"], responses=ERRORS)


@router.get("/{entity_id}/beneficial-owners", response_model=OwnersResult,
            dependencies=[allow(Permission.BENEFICIAL_OWNERS)],
            summary="Natural persons holding at least `threshold` ultimately (2024 measures: 25%)")
def beneficial_owners(entity_id: EntityId, queries: QueriesDep,
                      threshold: Annotated[float, Query(ge=0.0, le=1.0)] = 0.25) -> OwnersResult:
    return queries.beneficial_owners(entity_id, threshold)
