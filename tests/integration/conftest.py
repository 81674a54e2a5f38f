"""Fixtures for the graph store tests against the local Neo4j (scripts/test starts it), and
the Spark session of the Spark engine's tests.

NEO4J_URI (default bolt://127.0.0.1:7687); the tests wipe the database they load into, so
they refuse a URI that is not on the loopback address. Without a reachable server the Neo4j
tests skip, unless CREDITGRAPH_NEO4J_REQUIRED=1 (then they fail).
"""
from __future__ import annotations

import os
from urllib.parse import urlparse

import pytest

from graph_helpers import NEO4J_URI, neo4j_auth


@pytest.fixture(scope="session")
def neo4j_uri() -> str:
    host = urlparse(NEO4J_URI).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        pytest.skip(f"refusing to wipe a non-local Neo4j at {NEO4J_URI}")
    from neo4j import GraphDatabase
    from neo4j.exceptions import ServiceUnavailable
    drv = GraphDatabase.driver(NEO4J_URI, auth=neo4j_auth(), connection_timeout=5)
    try:
        drv.verify_connectivity()
    except (ServiceUnavailable, OSError) as exc:
        msg = f"no Neo4j at {NEO4J_URI} (start it with python -m creditgraph.graph.server start): {exc}"
        if os.environ.get("CREDITGRAPH_NEO4J_REQUIRED") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    finally:
        drv.close()
    return NEO4J_URI


@pytest.fixture()
def neo4j_store(neo4j_uri):
    """An empty Neo4jStore (the database is wiped before the test)."""
    from creditgraph.graph.neo4j_store import Neo4jStore
    store = Neo4jStore(neo4j_uri, auth=neo4j_auth())
    store.wipe()
    yield store
    store.close()


@pytest.fixture(scope="module")
def spark():
    """A local[2] Spark session per test module (a module's CLI tests start and stop their own)."""
    from creditgraph.linkage import spark as spark_engine
    session = spark_engine.session("local[2]", shuffle_partitions=4)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    spark_engine.stop(session)
