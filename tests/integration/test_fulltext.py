"""Neo4j answers search_name from the full-text index entity_names (CJK analyzer), and Lucene
hands back only the best $limit hits: no label scan, no operator sorting every hit."""
from __future__ import annotations

import pytest

from creditgraph.graph.queries import library

from graph_helpers import FIXTURE, neo4j_auth

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def store(neo4j_uri):
    from creditgraph.graph.neo4j_store import Neo4jStore
    neo = Neo4jStore(neo4j_uri, auth=neo4j_auth())
    neo.wipe()
    neo.load(FIXTURE, batch_size=7, progress=False)
    yield neo
    neo.close()


def operators(plan: dict) -> list[dict]:
    return [plan, *(op for child in plan.get("children", []) for op in operators(child))]


def run(store, prefix: str, **params):
    text = library()["search_name"].statements[0].text
    with store.driver.session(database=store.database) as session:
        return session.run(f"{prefix} {text}", params).consume()


def test_the_index_is_full_text_with_the_cjk_analyzer(store):
    rows, _, _ = store.driver.execute_query(
        "SHOW FULLTEXT INDEXES YIELD name, labelsOrTypes, properties, options, state "
        "WHERE name = 'entity_names' RETURN *", database_=store.database)
    index = rows[0].data()
    assert index["state"] == "ONLINE"
    assert set(index["labelsOrTypes"]) == {"Enterprise", "Person"}
    assert set(index["properties"]) == {"name", "aliases"}
    assert index["options"]["indexConfig"]["fulltext.analyzer"] == "cjk"


def test_the_plan_calls_the_full_text_index(store):
    ops = operators(run(store, "EXPLAIN", q="鑫达贸易", limit=20).plan)
    types = {op["operatorType"].split("@")[0] for op in ops}
    assert "ProcedureCall" in types
    assert not types & {"AllNodesScan", "NodeByLabelScan", "UnionNodeByLabelsScan", "Filter"}
    call = next(op for op in ops if op["operatorType"].startswith("ProcedureCall"))
    assert "db.index.fulltext.queryNodes" in call["args"]["Details"]


def test_lucene_returns_only_the_limit(store):
    """有限公司 is in most fixture names; with limit 2 no operator sees more than 2 rows."""
    every = store.query("search_name", q="有限公司", limit=100)
    assert len(every) > 5
    ops = operators(run(store, "PROFILE", q="有限公司", limit=2).profile)
    assert max(op.get("rows") or 0 for op in ops) == 2
    top = store.query("search_name", q="有限公司", limit=2)
    assert [r["entity_id"] for r in top] == [r["entity_id"] for r in every[:2]]
