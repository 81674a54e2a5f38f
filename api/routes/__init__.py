"""One router per resource, gathered in `api_router`."""
from fastapi import APIRouter

from creditgraph.api.routes import (audit, circles, credit, discipline, entities, health, owners, paths, related,
                                    reports, review, search)

api_router = APIRouter()
for module in (health, search, entities, related, discipline, owners, credit, reports, circles, paths, review, audit):
    api_router.include_router(module.router)
