from typing import Annotated

from fastapi import APIRouter, Query, Request

from creditgraph.api.access import Permission
from creditgraph.api.deps import allow
from creditgraph.api.models import AuditEntry, AuditResult
from creditgraph.api.routes._common import ERRORS

router = APIRouter(prefix="/audit", tags=["audit"], responses=ERRORS)


@router.get("", response_model=AuditResult, dependencies=[allow(Permission.AUDIT)],
            summary="The audit trail, newest first (admin)")
def audit(request: Request,
          who: Annotated[str | None, Query(max_length=100)] = None,
          endpoint: Annotated[str | None, Query(max_length=200, description="substring of the route")] = None,
          status: Annotated[int | None, Query(ge=100, le=599)] = None,
          since: Annotated[str | None, Query(max_length=40, description="ISO time, e.g. 2024-05-01")] = None,
          until: Annotated[str | None, Query(max_length=40)] = None,
          purpose: Annotated[str | None, Query(max_length=200, description="substring of the purpose")] = None,
          limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> AuditResult:
    hits = request.app.state.audit.search(who=who, endpoint=endpoint, status=status, since=since,
                                          until=until, purpose=purpose, limit=limit)
    return AuditResult(entries=[AuditEntry(**h) for h in hits])
