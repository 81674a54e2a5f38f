"""`open_store`: the factory that picks one of the two stores (it sits above both, so that
neither store module imports the other nor the factory)."""
from __future__ import annotations

import os
from pathlib import Path

from creditgraph.base.settings import get_settings
from creditgraph.graph.store import BaseStore


def default_memory_path() -> Path:
    return get_settings().data / "graph.pickle"


def open_store(uri: str | None = None, *, database: str | None = None,
               path: str | Path | None = None) -> BaseStore:
    """A Neo4jStore for a bolt/neo4j URI (argument or $NEO4J_URI), else a MemoryStore."""
    uri = uri if uri is not None else os.environ.get("NEO4J_URI") or None
    if uri and not uri.startswith("memory"):
        from creditgraph.graph.neo4j_store import Neo4jStore
        user = os.environ.get("NEO4J_USER", "neo4j")
        password = os.environ.get("NEO4J_PASSWORD")
        return Neo4jStore(uri, auth=(user, password) if password else None,
                          database=database or os.environ.get("NEO4J_DATABASE") or "neo4j")
    from creditgraph.graph.memory_store import MemoryStore
    if uri and uri.startswith("memory://") and len(uri) > len("memory://"):
        path = uri[len("memory://"):]
    return MemoryStore(Path(path) if path else default_memory_path())
