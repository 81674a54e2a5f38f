from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from creditgraph.api.access import Permission
from creditgraph.api.deps import QueriesDep, allow
from creditgraph.api.keys import Principal
from creditgraph.api.models import DecisionIn, DecisionOut, ReviewQueue
from creditgraph.api.routes._common import ERRORS

router = APIRouter(prefix="/review", tags=["review"], responses=ERRORS)


@router.get("/queue", response_model=ReviewQueue, dependencies=[allow(Permission.REVIEW)],
            summary="Items the linkage could not decide (pairs, and mentions with candidates): those nobody "
                    "has looked at first, then those marked unsure; decided ones only with include_decided")
def queue(queries: QueriesDep, include_decided: bool = False,
          limit: Annotated[int, Query(ge=1, le=200)] = 50,
          offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> ReviewQueue:
    return queries.review_queue(include_decided, limit, offset)


@router.post("/decisions", response_model=DecisionOut, status_code=status.HTTP_201_CREATED,
             summary="Record a steward's verdict (same / different / unsure) in the decision log; on an item "
                     "with candidates, same with the candidate chosen or different from them all")
def decide(body: DecisionIn, request: Request, queries: QueriesDep,
           principal: Annotated[Principal, allow(Permission.REVIEW)]) -> DecisionOut:
    request.state.audit_params = {"pair_id": body.pair_id, "verdict": body.verdict.value,
                                  **({"candidate": body.candidate} if body.candidate else {})}
    return queries.decide(body.pair_id, body.verdict, body.note, principal.name, body.candidate)
