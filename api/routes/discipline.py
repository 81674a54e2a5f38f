from fastapi import APIRouter

from creditgraph.api.access import Permission
from creditgraph.api.deps import QueriesDep, allow
from creditgraph.api.models import DisciplineResult
from creditgraph.api.routes._common import ERRORS, EntityId

router = APIRouter(prefix="/entities", tags=["joint discipline"], responses=ERRORS)


@router.get("/{entity_id}/joint-discipline", response_model=DisciplineResult,
            dependencies=[allow(Permission.DISCIPLINE_FORWARD)],
            summary="Forward: the persons a listed enterprise's listing reaches (legal rep, executives, ...)")
def forward(entity_id: EntityId, queries: QueriesDep) -> DisciplineResult:
    return queries.discipline(entity_id, "forward")


@router.get("/{entity_id}/joint-discipline/reverse", response_model=DisciplineResult,
            dependencies=[allow(Permission.DISCIPLINE_REVERSE)],
            summary="Reverse: is this party under joint discipline through a listed enterprise?")
def reverse(entity_id: EntityId, queries: QueriesDep) -> DisciplineResult:
    return queries.discipline(entity_id, "reverse")
