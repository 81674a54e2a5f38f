"""Against the running local Neo4j (scripts/test starts it with scripts/neo4j-local start).

Env: NEO4J_URI (default bolt://127.0.0.1:7687), NEO4J_USER / NEO4J_PASSWORD when the home was
initialised with a password, CREDITGRAPH_DATA (the server home is $CREDITGRAPH_DATA/neo4j).
Without a reachable server these tests skip, unless CREDITGRAPH_NEO4J_REQUIRED=1 (then fail).
"""

from __future__ import annotations

import urllib.request
import uuid
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


def test_write_and_read_in_a_throwaway_transaction(driver):
    marker = f"creditgraph-test-{uuid.uuid4()}"
    with driver.session() as session:  # the server's default database
        tx = session.begin_transaction()
        try:
            tx.run("CREATE (:CreditgraphSmokeTest {marker: $m, name: $name})",
                   m=marker, name="测试企业有限公司").consume()
            rows = tx.run("MATCH (n:CreditgraphSmokeTest {marker: $m}) RETURN n.name AS name",
                          m=marker).data()
            assert rows == [{"name": "测试企业有限公司"}]
        finally:
            tx.rollback()
        # rolled back: nothing left behind
        count = session.run("MATCH (n:CreditgraphSmokeTest {marker: $m}) RETURN count(n) AS c",
                            m=marker).single()["c"]
        assert count == 0


def test_server_info(driver):
    info = driver.get_server_info()
    assert info.agent.startswith("Neo4j/5.")
    records, _, _ = driver.execute_query(
        "CALL dbms.components() YIELD name, edition RETURN name, edition")
    assert records[0]["name"] == "Neo4j Kernel"


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
