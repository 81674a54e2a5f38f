from typing import Annotated

from fastapi import APIRouter

from creditgraph.api.access import Permission
from creditgraph.api.deps import QueriesDep, allow
from creditgraph.api.keys import Principal
from creditgraph.api.models import DisciplineResult
from creditgraph.api.routes._common import ERRORS, AsOf, EntityId, IncludeHistory, check_history

router = APIRouter(prefix="/entities", tags=["joint discipline"], responses=ERRORS)


@router.get("/{entity_id}/joint-discipline", response_model=DisciplineResult,
            summary="Forward: whom a listed entity's records in force reach (legal rep, executives, ...; "
                    "a red list's incentives reach the entity itself)")
def forward(entity_id: EntityId, queries: QueriesDep,
            principal: Annotated[Principal, allow(Permission.DISCIPLINE_FORWARD)],
            as_of: AsOf = None, include_history: IncludeHistory = False) -> DisciplineResult:
    check_history(principal, include_history)
    return queries.discipline(entity_id, "forward", as_of=as_of, include_history=include_history)


@router.get("/{entity_id}/joint-discipline/reverse", response_model=DisciplineResult,
            summary="Reverse: is this party under joint discipline at a date (itself, its legal rep, "
                    "controller, executives), and which incentives does it earn?")
def reverse(entity_id: EntityId, queries: QueriesDep,
            principal: Annotated[Principal, allow(Permission.DISCIPLINE_REVERSE)],
            as_of: AsOf = None, include_history: IncludeHistory = False) -> DisciplineResult:
    check_history(principal, include_history)
    return queries.discipline(entity_id, "reverse", as_of=as_of, include_history=include_history)
