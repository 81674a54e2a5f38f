from datetime import date

from fastapi import APIRouter

from creditgraph.api.access import Permission
from creditgraph.api.deps import CreditDep, allow
from creditgraph.api.models import CreditProfile
from creditgraph.api.routes._common import ERRORS, AsOf, EntityId

router = APIRouter(prefix="/entities", tags=["credit"], responses=ERRORS)


@router.get("/{entity_id}/credit", response_model=CreditProfile, dependencies=[allow(Permission.CREDIT_PROFILE)],
            summary="Credit profile at as_of: records by department and list with their status, grades, "
                    "the rules they trigger and whom they reach, the reverse check, related parties under discipline")
def credit_profile(entity_id: EntityId, credit: CreditDep, as_of: AsOf = None) -> CreditProfile:
    return credit.profile(entity_id, (as_of or date.today()).isoformat())
