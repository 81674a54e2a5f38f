"""Apply an ingest's change (DIR/changes.json, linkage.incremental) to a loaded store.

Only the entities the ingest touched are written: the retired ones are deleted with their
relations; the ones to upsert lose their relations and list records, then are written again,
with their relations, list records, contacts and review pairs, by the loader's own reader
(graph.load.ResolvedReader) over a view of the output that holds just their rows and the rows
of the entities at the other end of their relations (written again unchanged, so that the
reader keeps the relation). A list record the batch ended, removed or changed on an entity it
left alone is written again on its own, its owner rewritten unchanged: its node gets its new
period, so `as_of` queries answer by it as soon as the change is applied. Deleted records go. Whatever the full loader makes of a row, this makes of it.
Every step is a delete or a MERGE: a change applied twice, or again after a crash halfway,
gives the same graph.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from creditgraph.base.files import open_private, private_dir
from creditgraph.graph.load import NODE_LABELS, RELATION_TYPES, ResolvedReader, content_hash

CHANGES = "changes.json"
IDS_PER_STATEMENT = 5000


def read_changes(out_dir: Path) -> dict:
    path = Path(out_dir) / CHANGES
    if not path.exists():
        raise FileNotFoundError(f"{out_dir}: no {CHANGES}; `creditgraph ingest` writes it")
    return json.loads(path.read_text(encoding="utf-8"))


def change_view(out_dir: Path, changes: dict, view: Path) -> Path:
    """The output's rows for the entities to upsert (and their relations' other ends), and the
    list records the change writes on their own (ended, removed, changed on an entity the batch
    left alone: with their owners, rewritten unchanged), as a resolve output directory the loader
    reads."""
    out_dir, upsert = Path(out_dir), set(changes["graph"]["upsert"])
    read = lambda name: pd.read_csv(out_dir / name, dtype=str, keep_default_na=False)
    relations, review = read("relations.csv"), read("review_queue.csv")
    relations = relations[relations["from_id"].isin(upsert) | relations["to_id"].isin(upsert)]
    review = review[review["left_entity"].isin(upsert) | review["right_entity"].isin(upsert)]
    ends = upsert | set(relations["from_id"]) | set(relations["to_id"])
    ends |= set(review["left_entity"]) | set(review["right_entity"])
    entities, lists = read("entities.csv"), read("list_records.csv")
    lists = lists[lists["entity_id"].isin(upsert) | lists["record_uid"].isin(changes["graph"]["records"])]
    ends |= set(lists["entity_id"])
    private_dir(view)
    for name, frame in (("entities.csv", entities[entities["entity_id"].isin(ends)]),
                        ("list_records.csv", lists),
                        ("relations.csv", relations), ("review_queue.csv", review)):
        with open_private(view / name, "w", encoding="utf-8", newline="") as f:
            frame.to_csv(f, index=False)
    return view


def apply_changes(store, out_dir: Path, batch_size: int = 5000) -> dict:
    """Apply DIR/changes.json to a Neo4jStore or a MemoryStore; returns counts and timings."""
    changes = read_changes(out_dir)
    t0 = time.perf_counter()
    view = Path(tempfile.mkdtemp(prefix="cg-change-"))
    try:
        change_view(out_dir, changes, view)
        timings = {"view": round(time.perf_counter() - t0, 2)}
        apply = _apply_memory if getattr(store, "kind", "") == "memory" else _apply_neo4j
        report = apply(store, Path(out_dir), changes, ResolvedReader(view), batch_size)
    finally:
        shutil.rmtree(view, ignore_errors=True)
    report["timings_s"] = {**timings, **report.get("timings_s", {}), "total": round(time.perf_counter() - t0, 2)}
    report.update(change=changes.get("batch"), upserted=len(changes["graph"]["upsert"]),
                  deleted=len(changes["graph"]["delete"]))
    return report


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _chunks(items: list, size: int = IDS_PER_STATEMENT):
    for i in range(0, len(items), size):
        yield items[i:i + size]


# -- Neo4j -------------------------------------------------------------------------------------

def _apply_neo4j(store, out_dir: Path, changes: dict, reader: ResolvedReader, batch_size: int) -> dict:
    g = changes["graph"]
    upsert, delete = g["upsert"], g["delete"]
    store.ensure_schema()
    t = time.perf_counter()
    addresses, phones = set(), set()
    for ids in _chunks(upsert + delete):
        row = store._run("changes_contacts", ids=ids)[0]
        addresses |= set(row["addresses"])
        phones |= set(row["phones"])
    for ids in _chunks(upsert + delete):
        store._run("changes_drop_records", ids=ids, uids=[])
    for uids in _chunks(g["records_deleted"]):
        store._run("changes_drop_records", ids=[], uids=uids)
    for ids in _chunks(upsert):
        store._run("changes_drop_relations", ids=ids, types=list(RELATION_TYPES))
    for ids in _chunks(delete):
        store._run("changes_drop_entities", ids=ids)
    dropped = time.perf_counter() - t
    t = time.perf_counter()
    state = store._run("load_state")
    run_id = state[0]["run_id"] if state else f"change-{changes.get('batch')}"
    loaded_at = _now()
    texts = {name: store._text(f"merge_{name}") for name in (*NODE_LABELS, *RELATION_TYPES)}  # as the loader
    written = 0
    for batch in reader.batches(batch_size):
        def write(tx, batch=batch):
            for _, name, rows in batch:
                tx.run(texts[name], rows=rows, run_id=run_id, loaded_at=loaded_at).consume()
        with store.driver.session(database=store.database) as session:
            session.execute_write(write)
        written += sum(len(rows) for _, _, rows in batch)
    store._run("changes_drop_orphans", addresses=sorted(addresses), phones=sorted(phones))
    store.driver.execute_query("CALL db.index.fulltext.awaitEventuallyConsistentIndexRefresh()",
                               database_=store.database)
    store._run("changes_applied", content_hash=content_hash(out_dir), change=changes.get("batch"),
               loaded_at=loaded_at)
    return {"store": "neo4j", "rows_written": written,
            "timings_s": {"drop": round(dropped, 2), "write": round(time.perf_counter() - t, 2)}}


# -- the embedded store ------------------------------------------------------------------------

def _apply_memory(store, out_dir: Path, changes: dict, reader: ResolvedReader, batch_size: int) -> dict:
    from creditgraph.graph.memory_store import ENTITY_LABELS, RELATION_TO_LABEL, node_id
    from creditgraph.graph.name_index import NameIndex
    graph, g = store.graph, changes["graph"]
    touched = [n for n in g["upsert"] + g["delete"] if graph.has_node(n)]
    t = time.perf_counter()
    contacts = {v for n in touched for _, v, d in graph.out_edges(n, data=True) if d["type"] in ("AT", "HAS_PHONE")}
    records = {v for n in touched for _, v, d in graph.out_edges(n, data=True) if d["type"] == "HAS_RECORD"}
    records |= {node_id("ListRecord", uid) for uid in g["records_deleted"]}
    graph.remove_nodes_from([r for r in records if graph.has_node(r)])
    for n in g["upsert"]:
        if graph.has_node(n):
            edges = [(u, v, k) for u, v, k, d in [*graph.out_edges(n, keys=True, data=True),
                                                  *graph.in_edges(n, keys=True, data=True)]
                     if d["type"] in RELATION_TYPES]
            graph.remove_edges_from(edges)
    graph.remove_nodes_from([n for n in g["delete"] if graph.has_node(n)])
    dropped = time.perf_counter() - t
    t = time.perf_counter()
    run_id, loaded_at = f"change-{changes.get('batch')}", _now()
    written = 0
    for batch in reader.batches(batch_size):
        for kind, name, rows in batch:
            written += len(rows)
            for row in rows:
                props = dict(row["props"], run_id=run_id, loaded_at=loaded_at)
                if kind == "node":
                    graph.add_node(node_id(name, row["id"]), label=name, props=props)
                else:
                    v = node_id(RELATION_TO_LABEL.get(name, "Enterprise"), row["to"])
                    graph.add_edge(row["from"], v, key=row["props"]["key"], type=name, props=props)
    graph.remove_nodes_from([c for c in contacts if graph.has_node(c) and graph.degree(c) == 0])
    store.names = NameIndex.of_graph(graph, ENTITY_LABELS)
    store.save()
    return {"store": "memory", "rows_written": written,
            "timings_s": {"drop": round(dropped, 2), "write": round(time.perf_counter() - t, 2)}}
