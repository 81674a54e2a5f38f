from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import Field

from creditgraph.api.access import Permission
from creditgraph.api.audit import aware
from creditgraph.api.deps import allow
from creditgraph.api.models import AuditEntry, AuditResult
from creditgraph.api.routes._common import ERRORS

router = APIRouter(prefix="/audit", tags=["audit"], responses=ERRORS)


class AuditPage(AuditResult):
    next_before: int | None = Field(None, description=(
        "the cursor: pass it as `before` for the next, older page; null when the start of the trail "
        "(or `since`) was reached"))


@router.get("", response_model=AuditPage, dependencies=[allow(Permission.AUDIT)],
            summary="The audit trail, newest first, a page at a time (admin)")
def audit(request: Request,
          who: Annotated[str | None, Query(max_length=100)] = None,
          endpoint: Annotated[str | None, Query(max_length=200, description="substring of the route")] = None,
          status: Annotated[int | None, Query(ge=100, le=599)] = None,
          since: Annotated[datetime | None, Query(description=(
              "lines written at or after this time, e.g. 2024-05-01 or 2024-05-01T08:00+08:00 (no zone: UTC)"))] = None,
          until: Annotated[datetime | None, Query(description=(
              "lines written before this time: until=2024-05-02 takes in all of May 1"))] = None,
          purpose: Annotated[str | None, Query(max_length=200, description="substring of the purpose")] = None,
          before: Annotated[int | None, Query(ge=1, description="only lines with a smaller seq: "
                                                                "next_before of the previous page")] = None,
          limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> AuditPage:
    purpose = purpose.lower() if purpose else None

    def match(rec: dict) -> bool:
        return ((who is None or rec.get("who") == who)
                and (not endpoint or endpoint in str(rec.get("endpoint", "")))
                and (status is None or rec.get("status") == status)
                and (not purpose or purpose in str(rec.get("purpose") or "").lower()))

    hits, cursor = request.app.state.audit.page(match=match, before=before, limit=limit,
                                                     since=since and aware(since), until=until and aware(until))
    return AuditPage(entries=[AuditEntry(**h) for h in hits], next_before=cursor)
