from fastapi import APIRouter, Request

from creditgraph.api.models import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Liveness (no key needed)")
def health(request: Request) -> Health:
    state = request.app.state
    return Health(status="ok", store=type(state.store).__name__, review_queue=state.queries.queue_size())
