from typing import Annotated

from fastapi import APIRouter, Query

from creditgraph.api.access import Permission
from creditgraph.api.deps import QueriesDep, allow
from creditgraph.api.models import PathResult, RelationType
from creditgraph.api.routes._common import ENTITY_ID, ERRORS

router = APIRouter(tags=["paths"], responses=ERRORS)



@router.get("/path", response_model=PathResult, dependencies=[allow(Permission.PATH)],
            summary="All shortest relation paths between two parties (either direction)")
def path(queries: QueriesDep,
         from_id: Annotated[str, Query(**ENTITY_ID)], to_id: Annotated[str, Query(**ENTITY_ID)],
         max_length: Annotated[int, Query(ge=1, le=10, description="hops, at most 10")] = 6,
         types: Annotated[list[RelationType] | None, Query(description="relation types to follow")] = None,
         limit: Annotated[int, Query(ge=1, le=50)] = 10) -> PathResult:
    return queries.path(from_id, to_id, max_length, [t.value for t in types or []], limit)
