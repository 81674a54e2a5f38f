"""`creditgraph load --changes` (graph.apply_changes): a store loaded with a full resolve, then
given only each daily ingest's change, holds the same graph as a full load of the final output:
the same nodes and relations with the same properties (run ids and load times aside), on the
embedded store and on Neo4j; and a store that is open (as the API holds it) sees the change
without being reopened."""
from __future__ import annotations

import json
import shutil

import pytest

from creditgraph.graph.apply_changes import apply_changes
from creditgraph.graph.memory_store import MemoryStore
from creditgraph.linkage.incremental import ingest
from creditgraph.base.settings import id_key
from incremental_helpers import city

from graph_helpers import neo4j_auth

LOAD_PROPS = {"run_id", "loaded_at"}


@pytest.fixture(scope="module")
def days(tmp_path_factory):
    """The full output and a copy of the output after each of three ingests."""
    c = city(tmp_path_factory.mktemp("apply"), enterprises=1000, persons=1500, rows=100)
    daily = c["root"] / "daily"
    shutil.copytree(c["full"], daily)
    outs = []
    for n, batch in enumerate(c["batches"], start=1):
        ingest(batch, daily, {}, id_key(c["settings"]))
        outs.append(shutil.copytree(daily, c["root"] / f"after_{n}"))
    return c["full"], outs


def _props(props: dict) -> str:
    return json.dumps({k: v for k, v in props.items() if k not in LOAD_PROPS}, sort_keys=True, ensure_ascii=False)


def memory_graph(store: MemoryStore) -> tuple[set, set]:
    g = store.graph
    nodes = {(n, d["label"], _props(d["props"])) for n, d in g.nodes(data=True)}
    edges = {(u, v, k, d["type"], _props(d["props"])) for u, v, k, d in g.edges(keys=True, data=True)}
    return nodes, edges


def test_memory_store_changes_equal_a_full_load(days, tmp_path):
    full, outs = days
    store = MemoryStore(tmp_path / "graph.pickle")
    store.load(full)
    served = MemoryStore(tmp_path / "graph.pickle")  # opened once, as the API holds it
    for out in outs:
        report = apply_changes(MemoryStore(tmp_path / "graph.pickle"), out)
        assert report["upserted"] > 0
    reference = MemoryStore(tmp_path / "reference.pickle")
    reference.load(outs[-1])
    applied = MemoryStore(tmp_path / "graph.pickle")
    assert memory_graph(applied) == memory_graph(reference)
    new = json.loads((outs[-1] / "changes.json").read_text())["entities"]["new"][0]
    assert served.query("entity_by_id", entity_id=new), "the open store did not see the change"
    assert memory_graph(served) == memory_graph(reference)


def neo4j_graph(store) -> tuple[list, list]:
    nodes, _, _ = store.driver.execute_query(
        "MATCH (n) WHERE NOT n:LoadState RETURN labels(n) AS labels, properties(n) AS props")
    rels, _, _ = store.driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN type(r) AS type, properties(r) AS props, "
        "coalesce(a.entity_id, a.record_uid, a.key, a.number) AS a, coalesce(b.entity_id, b.record_uid, b.key, b.number) AS b")
    return (sorted((sorted(r["labels"]), _props(r["props"])) for r in nodes),
            sorted((r["type"], r["a"], r["b"], _props(r["props"])) for r in rels))


@pytest.mark.neo4j
def test_neo4j_changes_equal_a_full_load(days, neo4j_store):
    full, outs = days
    neo4j_store.load(full)
    for out in outs:
        apply_changes(neo4j_store, out)
    applied = neo4j_graph(neo4j_store)
    counts = neo4j_store.counts()
    new = json.loads((outs[-1] / "changes.json").read_text())["entities"]["new"][0]
    assert neo4j_store.query("entity_by_id", entity_id=new)
    neo4j_store.wipe()
    neo4j_store.load(outs[-1])
    assert neo4j_store.counts() == counts
    reference = neo4j_graph(neo4j_store)
    assert len(applied[0]) == len(reference[0]) and len(applied[1]) == len(reference[1])
    assert applied == reference
