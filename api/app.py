"""The app factory and `serve()` (what `creditgraph serve` calls).

    create_app(store=None, resolved_dir=None, settings=None) -> FastAPI

`store`: a graph Store (creditgraph.graph.factory.open_store); when None, an in-memory store is opened and
loaded from `resolved_dir`. `resolved_dir` (a resolve output) also gives the review queue and
the identity vault. Keys: api.keys (`$CREDITGRAPH_DATA/api_keys.json`), audit trail:
settings.audit_path, steward decisions: settings.decisions_path.
"""
from __future__ import annotations

import gc
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from creditgraph.api import errors
from creditgraph.api.audit import AuditMiddleware, AuditTrail
from creditgraph.api.browser_guide import browser_files
from creditgraph.api.credit import Credit
from creditgraph.api.headers import SecurityHeaders
from creditgraph.api.keys import KeyRing, keys_path
from creditgraph.api.queries import Queries
from creditgraph.api.reports import Reports
from creditgraph.api.routes import api_router
from creditgraph.base.settings import Settings, get_settings

STATIC = Path(__file__).resolve().parent / "static"
# Swagger UI's files from the fastapi-offline wheel: FastAPI's default /docs loads them from a CDN,
# a blank page on a machine without internet.
DOCS_ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"

DESCRIPTION = """
Query API over the resolved credit graph.

**Keys**: send `X-API-Key: KEY` (or `Authorization: Bearer KEY`). Keys are created with
`creditgraph apikey create NAME --role ROLE` (roles: service, investigator, steward, admin).
**Purpose**: every data request states why in `X-Purpose`; it is written to the audit trail
with who, when, the endpoint and its parameters (identity numbers masked).
**Identity numbers** show their last four only (`**************3018`), and persons no birth date,
except to investigator and admin keys, which alone may search by a person's number.
The steward review page is at [/review](/review).
"""


def mount_static(app: FastAPI) -> None:
    """/docs with its assets served here (FastAPI's self-hosting recipe) and Neo4j Browser's
    files (api/browser_guide.py): neither needs a key, and the audit skips /docs and /static."""
    app.mount("/static/docs", StaticFiles(directory=DOCS_ASSETS), name="docs-assets")
    app.mount("/static/browser", browser_files(), name="browser-files")

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(openapi_url=root + app.openapi_url, title=f"{app.title} - Swagger UI",
                                   swagger_js_url=f"{root}/static/docs/swagger-ui-bundle.js",
                                   swagger_css_url=f"{root}/static/docs/swagger-ui.css",
                                   swagger_favicon_url=f"{root}/static/docs/favicon.png")


def create_app(store: Any = None, resolved_dir: Path | str | None = None,
               settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    resolved_dir = Path(resolved_dir) if resolved_dir else None
    owns_store = store is None
    if owns_store:
        store = build_store(resolved_dir, settings=settings)  # the embedded store, loaded

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Everything built so far (modules, routes, the store, an in-memory graph) lives as long
        # as the process: freezing it keeps Python's full collections from walking it again and
        # again. Unfrozen, each took 50-80 ms under load, a stall for every request in flight.
        gc.collect()
        gc.freeze()
        yield
        if owns_store and hasattr(store, "close"):
            store.close()

    app = FastAPI(title="creditgraph", version="0.1.0", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)  # /docs: mount_static; no /redoc
    app.state.settings = settings
    app.state.store = store
    app.state.queries = Queries(store, resolved_dir, settings)
    app.state.credit = Credit(app.state.queries)
    app.state.reports = Reports(settings)
    app.state.keyring = KeyRing(keys_path(settings))
    app.state.audit = AuditTrail(settings.audit_path)

    errors.install(app)
    app.include_router(api_router)
    mount_static(app)

    @app.get("/review", include_in_schema=False)
    def review_page() -> FileResponse:
        return FileResponse(STATIC / "review.html", media_type="text/html; charset=utf-8")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/docs")

    app.add_middleware(AuditMiddleware, trail=app.state.audit)
    app.add_middleware(SecurityHeaders)  # outermost: on every response, refusals included
    return app


def build_store(resolved_dir: Path | str | None, neo4j_uri: str | None = None, load: bool | None = None,
                settings: Settings | None = None):
    """The store `serve` uses: Neo4j at `neo4j_uri`, else in memory ($CREDITGRAPH_DATA/graph.pickle);
    loaded from resolved_dir when `load` (default: always for memory; for Neo4j only when
    asked: `creditgraph load` usually did it, and a load of a big graph takes minutes)."""
    from creditgraph.graph.factory import open_store
    settings = settings or get_settings()
    store = open_store(neo4j_uri or f"memory://{settings.data / 'graph.pickle'}")
    if load is None:
        load = neo4j_uri is None
    if load and resolved_dir is not None:
        store.load(Path(resolved_dir))
    return store


def app_from_env() -> FastAPI:
    """App factory for `uvicorn --factory api.app:app_from_env` (several workers): the resolve
    output from CREDITGRAPH_RESOLVED_DIR, the store from NEO4J_URI (not reloaded) or in memory
    (loaded from the resolve output)."""
    import os
    resolved_dir = os.environ.get("CREDITGRAPH_RESOLVED_DIR") or None
    store = build_store(resolved_dir, os.environ.get("NEO4J_URI") or None)
    return create_app(store=store, resolved_dir=resolved_dir)


def serve(resolved_dir: Path | str | None, neo4j_uri: str | None = None, host: str = "127.0.0.1",
          port: int = 8000, load: bool | None = None, workers: int = 1) -> None:
    """`creditgraph serve --from DIR [--neo4j URI] --host --port --workers`."""
    import os

    import uvicorn
    if workers > 1:  # uvicorn spawns the processes; each builds its app with app_from_env
        if neo4j_uri and load:
            build_store(resolved_dir, neo4j_uri, load=True).close()  # load once, not per worker
        os.environ["CREDITGRAPH_RESOLVED_DIR"] = str(resolved_dir or "")
        os.environ["NEO4J_URI"] = neo4j_uri or ""
        # A worker answers the supervisor's health check from a thread; while it builds its graph (the
        # embedded store) on a busy machine that can take longer than uvicorn's 5 s, and the
        # supervisor would kill and respawn it mid-start. Longer is not free: the supervisor reads
        # its signals (a SIGTERM) between health checks, so one slow answer delays a shutdown.
        uvicorn.run("creditgraph.api.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                    log_level="info", access_log=False, proxy_headers=False,  # api.audit reads X-Forwarded-For
                    timeout_worker_healthcheck=30)
        return
    store = build_store(resolved_dir, neo4j_uri, load)
    app = create_app(store=store, resolved_dir=resolved_dir)
    try:
        uvicorn.run(app, host=host, port=port, log_level="info", access_log=False, proxy_headers=False)
    finally:
        store.close()
