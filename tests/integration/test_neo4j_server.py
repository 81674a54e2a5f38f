"""Against the running local Neo4j (scripts/test starts it with scripts/neo4j-local start).

Env: NEO4J_URI (default bolt://127.0.0.1:7687), NEO4J_USER / NEO4J_PASSWORD when the home was
initialised with a password, CREDITGRAPH_DATA (the server home is $CREDITGRAPH_DATA/neo4j).
Without a reachable server these tests skip, unless CREDITGRAPH_NEO4J_REQUIRED=1 (then fail).
"""

from __future__ import annotations

import urllib.request
from urllib.parse import urlparse

import pytest

from creditgraph.graph import server
from graph_helpers import NEO4J_URI, neo4j_auth

pytestmark = pytest.mark.neo4j

@pytest.fixture(scope="module")
def driver(neo4j_uri):
    from neo4j import GraphDatabase

    drv = GraphDatabase.driver(neo4j_uri, auth=neo4j_auth(), connection_timeout=5)
    yield drv
    drv.close()


def test_server_runs_the_version_we_assemble(driver):
    """graph/server.py pins the jars it fetches; the server answering is that build."""
    assert driver.get_server_info().agent == f"Neo4j/{server.NEO4J_VERSION}"


def test_status_reports_running(driver):
    url = urlparse(NEO4J_URI)
    if url.hostname not in ("127.0.0.1", "localhost"):
        pytest.skip(f"{NEO4J_URI} is not the local server managed by graph.server")
    info = server.status()
    assert info["running"], info
    assert info["pid"] > 0
    assert info["bolt_port"] == (url.port or 7687)
    assert info["bolt_listening"] and info["http_listening"]
    with urllib.request.urlopen(info["browser_url"], timeout=10) as resp:
        assert resp.status == 200
        assert b"Neo4j Browser" in resp.read()
