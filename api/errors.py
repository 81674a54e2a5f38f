"""Errors the API answers with a message, never a bare 500.

Store failures become 503 (the graph is unreachable or busy: retry) or 400 (the store refused
the parameters); NotFound and BadRequest come from the query layer.
"""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

log = logging.getLogger("creditgraph.api")


class NotFound(LookupError):
    pass


class BadRequest(ValueError):
    pass


class StoreUnavailable(RuntimeError):
    pass


def _json(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _store_error_classes() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """(unavailable -> 503, refused -> 400) exception classes of the installed stores."""
    unavailable: list[type] = [StoreUnavailable, ConnectionError, TimeoutError]
    refused: list[type] = []
    try:
        from neo4j import exceptions as nx
        unavailable += [nx.ServiceUnavailable, nx.SessionExpired, nx.TransientError,
                        nx.DatabaseUnavailable, nx.DriverError]
        refused += [nx.ClientError]
    except ImportError:  # pragma: no cover
        pass
    try:
        from graph.queries import QueryError
        refused.append(QueryError)
    except ImportError:  # pragma: no cover
        pass
    try:  # the store module may define its own error types
        import graph.store as gs
        for name in ("StoreUnavailable", "StoreError"):
            cls = getattr(gs, name, None)
            if isinstance(cls, type) and issubclass(cls, Exception):
                (unavailable if name == "StoreUnavailable" else refused).append(cls)
    except Exception:  # pragma: no cover - store module not there yet
        pass
    return tuple(unavailable), tuple(refused)


def install(app: FastAPI) -> None:
    unavailable, refused = _store_error_classes()

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound):
        return _json(404, str(exc))

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, exc: BadRequest):
        return _json(400, str(exc))

    async def store_unavailable(request: Request, exc: Exception):
        log.warning("store unavailable on %s: %r", request.url.path, exc)
        return JSONResponse({"detail": f"the graph store is unavailable ({type(exc).__name__}): "
                                       "retry in a moment; if it persists, check the Neo4j server"},
                            status_code=503, headers={"Retry-After": "5"})

    async def store_refused(request: Request, exc: Exception):
        log.warning("store refused %s: %r", request.url.path, exc)
        return _json(400, f"the graph store refused this query: {exc}. Check the parameters")

    for cls in unavailable:
        app.add_exception_handler(cls, store_unavailable)
    for cls in refused:
        app.add_exception_handler(cls, store_refused)
