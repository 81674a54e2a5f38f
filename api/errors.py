"""Errors the API answers with a message, never a bare 500.

Store failures become 503 (the graph is unreachable or busy: retry) or 400 (the store refused
the parameters); NotFound and BadRequest come from the query layer.
"""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from neo4j import exceptions as nx

from creditgraph.graph.queries import QueryError

log = logging.getLogger("creditgraph.api")


class NotFound(LookupError):
    pass


class BadRequest(ValueError):
    pass


def _json(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


# the graph is unreachable or busy -> 503; the store refused the parameters -> 400
UNAVAILABLE = (ConnectionError, TimeoutError, nx.ServiceUnavailable, nx.SessionExpired,
               nx.TransientError, nx.DatabaseUnavailable, nx.DriverError)
REFUSED = (nx.ClientError, QueryError)


def install(app: FastAPI) -> None:
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

    for cls in UNAVAILABLE:
        app.add_exception_handler(cls, store_unavailable)
    for cls in REFUSED:
        app.add_exception_handler(cls, store_refused)
