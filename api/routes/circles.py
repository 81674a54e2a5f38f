from typing import Annotated

from fastapi import APIRouter, Query

from creditgraph.api.access import Permission
from creditgraph.api.deps import QueriesDep, allow
from creditgraph.api.models import CirclesResult
from creditgraph.api.routes._common import ENTITY_ID, ERRORS

router = APIRouter(tags=["guarantee circles"], responses=ERRORS)


@router.get("/guarantee-circles", response_model=CirclesResult,
            dependencies=[allow(Permission.GUARANTEE_CIRCLES)],
            summary="Cycles of guarantees between enterprises, optionally through one entity")
def guarantee_circles(queries: QueriesDep,
                      entity_id: Annotated[str | None, Query(**ENTITY_ID)] = None,
                      max_length: Annotated[int, Query(ge=2, le=8)] = 6,
                      limit: Annotated[int, Query(ge=1, le=100)] = 20) -> CirclesResult:
    return queries.guarantee_circles(entity_id, max_length, limit)
