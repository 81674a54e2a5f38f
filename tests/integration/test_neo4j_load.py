"""The Neo4j loader: schema, idempotence, incremental removal, resuming a killed load, privacy."""
from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from creditgraph.graph.memory_store import MemoryStore
from graph_helpers import FIXTURE, neo4j_auth

pytestmark = pytest.mark.neo4j

STAMPS = {"run_id", "loaded_at"}


def snapshot(store) -> tuple[set, set]:
    """Every node and relation with its properties, less the load stamps."""
    nodes, rels = set(), set()
    with store.driver.session(database=store.database) as s:
        for r in s.run("MATCH (n) WHERE NOT n:LoadState RETURN labels(n) AS l, properties(n) AS p"):
            props = {k: v for k, v in r["p"].items() if k not in STAMPS}
            nodes.add((tuple(sorted(r["l"])), repr(sorted(props.items()))))
        for r in s.run("MATCH (a)-[r]->(b) RETURN type(r) AS t, properties(r) AS p, "
                       "elementId(a) AS a, elementId(b) AS b, "
                       "coalesce(a.entity_id, a.record_uid, a.key, a.number) AS ka, "
                       "coalesce(b.entity_id, b.record_uid, b.key, b.number) AS kb"):
            props = {k: v for k, v in r["p"].items() if k not in STAMPS}
            rels.add((r["ka"], r["t"], r["kb"], repr(sorted(props.items()))))
    return nodes, rels


def _rewrite(path: Path, keep, change=None):
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
        cols = list(rows[0].keys()) if rows else []
    rows = [change(r) if change else r for r in rows if keep(r)]
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)


@pytest.fixture()
def changed(tmp_path) -> Path:
    """The fixture one run later: E-0015 gone, an employment gone, a ratio changed, a new firm."""
    out = tmp_path / "resolved_changed"
    shutil.copytree(FIXTURE, out)
    _rewrite(out / "entities.csv", lambda r: r["entity_id"] != "E-0015")
    with (out / "entities.csv").open("a", encoding="utf-8", newline="") as f:
        csv.writer(f).writerow(["E-0016", "enterprise", "营口新港物流有限公司", "", "", "",
                                "营口新港物流有限公司", 1, 1, "market", "market:00160",
                                "", "", "", ""])
    _rewrite(out / "relations.csv",
             lambda r: not (r["from_id"] == "P-0005" and r["type"] == "EMPLOYED_BY"),
             lambda r: {**r, "ratio": "0.7"} if (r["from_id"], r["to_id"]) == ("E-0003", "E-0001")
             else r)
    return out


def test_schema_is_idempotent(neo4j_store):
    neo4j_store.ensure_schema()
    neo4j_store.ensure_schema()
    with neo4j_store.driver.session() as s:
        names = {r["name"] for r in s.run("SHOW CONSTRAINTS YIELD name")}
        idx = {r["name"]: r for r in s.run("SHOW INDEXES YIELD name, type, options")}
    assert {"entity_id", "list_record_uid", "address_key", "phone_number"} <= names
    assert idx["entity_names"]["type"] == "FULLTEXT"
    assert idx["entity_names"]["options"]["indexConfig"]["fulltext.analyzer"] == "cjk"


def test_load_counts_and_idempotence(neo4j_store):
    first = neo4j_store.load(FIXTURE, batch_size=10, progress=False)
    mem = MemoryStore(None).load(FIXTURE)
    assert (first.nodes_created, first.relations_created) == (39, 64)
    assert (first.nodes_total, first.relations_total) == (mem.nodes_total, mem.relations_total)
    before = snapshot(neo4j_store)
    second = neo4j_store.load(FIXTURE, batch_size=10, progress=False)
    assert (second.nodes_created, second.relations_created) == (0, 0)
    assert (second.nodes_updated, second.relations_updated) == (39, 64)
    assert (second.nodes_retired, second.relations_retired) == (0, 0)
    assert snapshot(neo4j_store) == before
    assert set(first.timings) >= {"read", "schema", "nodes", "relations", "retire", "total"}


def test_incremental_load_removes_what_is_gone(neo4j_store, changed):
    neo4j_store.load(FIXTURE, batch_size=10, progress=False)
    report = neo4j_store.load(changed, batch_size=10, progress=False)
    assert report.nodes_created == 1            # E-0016
    assert report.nodes_retired == 1            # E-0015 (DETACH DELETE)
    # E-0015's AT to the hub address, and P-0005's employment
    assert report.relations_retired == 2
    incremental = snapshot(neo4j_store)
    assert neo4j_store.query("entity_by_id", entity_id="E-0015") == []
    owners = neo4j_store.query("beneficial_owners", entity_id="E-0001")
    # E-0003's stake in E-0001 went 0.6 -> 0.7: P-0004 0.3 + 0.2 * 0.7, P-0002 0.5 * 0.7
    assert [(o["person_id"], o["share"]) for o in owners] == [("P-0004", 0.44), ("P-0002", 0.35)]
    neo4j_store.wipe()
    neo4j_store.load(changed, batch_size=10, progress=False)
    assert snapshot(neo4j_store) == incremental
    mem = MemoryStore(None)
    mem.load(FIXTURE)
    m = mem.load(changed)
    assert (m.nodes_created, m.nodes_retired, m.relations_retired) == (1, 1, 2)


KILLER = textwrap.dedent("""
    import os, signal, sys
    from creditgraph.graph.neo4j_store import Neo4jStore
    store = Neo4jStore(sys.argv[1], auth={auth!r})
    def hook(done, total):
        if done == int(sys.argv[3]):
            os.kill(os.getpid(), signal.SIGKILL)
    store.load(sys.argv[2], batch_size=3, on_batch=hook, progress=False)
""")


def test_killed_load_resumes_to_the_same_graph(neo4j_store, neo4j_uri, changed):
    neo4j_store.load(changed, batch_size=3, progress=False)
    expected = snapshot(neo4j_store)
    expected_counts = neo4j_store.counts()

    neo4j_store.wipe()
    neo4j_store.load(FIXTURE, batch_size=3, progress=False)   # the previous run's graph
    code = KILLER.format(auth=neo4j_auth())
    proc = subprocess.run([sys.executable, "-c", code, neo4j_uri, str(changed), "9"],
                          cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == -9, proc.stderr
    state = neo4j_store._run("load_state")[0]
    assert state["status"] == "running" and state["batches_done"] == 9
    assert snapshot(neo4j_store) != expected     # half old, half new

    report = neo4j_store.load(changed, batch_size=3, progress=False)
    assert report.resumed_from == 9
    assert report.run_id == state["run_id"]
    assert neo4j_store.counts() == expected_counts
    assert snapshot(neo4j_store) == expected
    assert neo4j_store._run("load_state")[0]["status"] == "complete"


def test_failure_midway_then_rerun(neo4j_store, changed):
    neo4j_store.load(FIXTURE, batch_size=4, progress=False)

    def boom(done, total):
        if done == 5:
            raise RuntimeError("injected failure")
    with pytest.raises(RuntimeError):
        neo4j_store.load(changed, batch_size=4, on_batch=boom, progress=False)
    report = neo4j_store.load(changed, batch_size=4, progress=False)
    assert report.resumed_from == 5
    mem = MemoryStore(None).load(changed)
    assert (report.nodes_total, report.relations_total) == (mem.nodes_total, mem.relations_total)


def test_persons_never_hold_the_number_in_clear(neo4j_store):
    neo4j_store.load(FIXTURE, batch_size=50, progress=False)
    with (FIXTURE / "identity_vault.csv").open(encoding="utf-8") as f:
        numbers = [r["id_number"] for r in csv.DictReader(f)]
    nodes, rels = snapshot(neo4j_store)
    text = repr(nodes) + repr(rels)
    assert numbers and not [n for n in numbers if n in text or n.upper() in text]
    row = neo4j_store.query("entity_by_id", entity_id="P-0001")[0]
    assert row["id_masked"] == "**************3015" and row["identifier"] is None


def test_fulltext_search_tolerates_variants(neo4j_store):
    neo4j_store.load(FIXTURE, batch_size=50, progress=False)
    for q in ["鑫达贸易(营口)有限公司", "营口 鑫达贸易", "鑫达贸易（营口）"]:
        ids = [r["entity_id"] for r in neo4j_store.query("search_name", q=q)]
        assert "E-0001" in ids[:3], (q, ids)
    assert [r["entity_id"] for r in neo4j_store.query("search_name", q="花信建材")][0] == "E-0005"
