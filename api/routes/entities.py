from fastapi import APIRouter

from creditgraph.api.access import Permission
from creditgraph.api.deps import QueriesDep, allow
from creditgraph.api.models import EntityDetail, ListRecord
from creditgraph.api.routes._common import ERRORS, EntityId

router = APIRouter(prefix="/entities", tags=["entities"], responses=ERRORS,
                   dependencies=[allow(Permission.ENTITY)])


@router.get("/{entity_id}", response_model=EntityDetail,
            summary="One entity with its provenance (departments, source records) and list records")
def entity(entity_id: EntityId, queries: QueriesDep) -> EntityDetail:
    return queries.entity(entity_id)


@router.get("/{entity_id}/records", response_model=list[ListRecord],
            summary="The entity's blacklist / red-list records")
def list_records(entity_id: EntityId, queries: QueriesDep) -> list[ListRecord]:
    return queries.list_records(entity_id)
