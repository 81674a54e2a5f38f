"""`creditgraph load --changes` (graph.apply_changes): a store loaded with a full resolve, then
given only each daily ingest's change, holds the same graph as a full load of the final output:
the same nodes and relations with the same properties (run ids and load times aside), on the
embedded store and on Neo4j; and a store that is open (as the API holds it) sees the change
without being reopened."""
from __future__ import annotations

import json
import shutil
from datetime import date, timedelta

import pytest

from creditgraph.graph.apply_changes import apply_changes
from creditgraph.graph.memory_store import MemoryStore
from creditgraph.linkage.incremental import ingest
from creditgraph.base.settings import id_key
from incremental_helpers import city, ending_batch

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
    return c["full"], outs, c


@pytest.fixture(scope="module")
def ending(days, tmp_path_factory):
    """The full output, and that output after a court day that ends and removes listings."""
    full, _, c = days
    root = tmp_path_factory.mktemp("ending")
    day = ending_batch(c, root)
    out = shutil.copytree(full, root / "out")
    ingest(day["batch"], out, {}, id_key(c["settings"]))
    return full, out, day


def statuses(store, day: dict) -> dict:
    """Each ended or removed record's status the day after its new end (ended) and on its removal
    day (removed), and on the last day an ended one is in force, as the store answers."""
    plus = lambda d, n: (date.fromisoformat(d) + timedelta(days=n))
    out = {}
    for uid, end in {**day["ended"], **day["removed"]}.items():
        owner = day["owners"][uid]
        for as_of in (plus(end, 0 if uid in day["removed"] else 1), plus(end, -1 if uid in day["removed"] else 0)):
            rows = store.records(owner, as_of=as_of)
            out[(uid, as_of.isoformat())] = next(r["status"] for r in rows if r["record_uid"] == uid)
    return out


def expected(day: dict, changed: bool) -> dict:
    out = {}
    for uid, end in {**day["ended"], **day["removed"]}.items():
        after = "removed" if uid in day["removed"] else "ended"
        first = (date.fromisoformat(end) + timedelta(days=0 if uid in day["removed"] else 1)).isoformat()
        last = (date.fromisoformat(end) - timedelta(days=1 if uid in day["removed"] else 0)).isoformat()
        out[(uid, first)] = after if changed else "in_force"
        out[(uid, last)] = "in_force"
    return out


def _props(props: dict) -> str:
    return json.dumps({k: v for k, v in props.items() if k not in LOAD_PROPS}, sort_keys=True, ensure_ascii=False)


def memory_graph(store: MemoryStore) -> tuple[set, set]:
    g = store.graph
    nodes = {(n, d["label"], _props(d["props"])) for n, d in g.nodes(data=True)}
    edges = {(u, v, k, d["type"], _props(d["props"])) for u, v, k, d in g.edges(keys=True, data=True)}
    return nodes, edges


def test_memory_store_changes_equal_a_full_load(days, tmp_path):
    full, outs, _ = days
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
    full, outs, _ = days
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


def test_memory_store_answers_ended_and_removed_records_as_of_after_the_change(ending, tmp_path):
    """Records the batch ended (a term set, an end brought forward) and removed (a removal export)
    stop reaching from their new end in the open store, right after `load --changes`, without
    rewriting their owners; the graph equals a full load of the new output."""
    full, out, day = ending
    store = MemoryStore(tmp_path / "graph.pickle")
    store.load(full)
    served = MemoryStore(tmp_path / "graph.pickle")
    assert statuses(served, day) == expected(day, changed=False)
    report = apply_changes(MemoryStore(tmp_path / "graph.pickle"), out)
    assert report["upserted"] == 0 and report["rows_written"] > 0
    assert statuses(served, day) == expected(day, changed=True)
    reference = MemoryStore(tmp_path / "reference.pickle")
    reference.load(out)
    assert memory_graph(MemoryStore(tmp_path / "graph.pickle")) == memory_graph(reference)


@pytest.mark.neo4j
def test_neo4j_answers_ended_and_removed_records_as_of_after_the_change(ending, neo4j_store):
    full, out, day = ending
    neo4j_store.load(full)
    assert statuses(neo4j_store, day) == expected(day, changed=False)
    report = apply_changes(neo4j_store, out)
    assert report["upserted"] == 0 and report["rows_written"] > 0
    assert statuses(neo4j_store, day) == expected(day, changed=True)
    applied = neo4j_graph(neo4j_store)
    neo4j_store.wipe()
    neo4j_store.load(out)
    assert applied == neo4j_graph(neo4j_store)
