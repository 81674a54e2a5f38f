"""Bulk import against the transactional load (issue 12), with a parity check on each output.

    python benchmarks/graph_bulk.py --home H --bolt-port P --http-port Q
        [--city RESOLVED_DIR] [--entities 1000000] [--relations 3000000] [--skip-full | --bulk-only]
        [--heap 2g] [--pagecache 2g] [--import-memory 4g] [--sample 60] [--json FILE]

For each output (a resolved synthetic city given by --city, e.g. the issue's 100k mentions; then
benchmarks/graph_load.py's synthetic resolve output of --entities, generated when missing): the
transactional loader into the emptied database of the local server at H, then `load --bulk`
(graph/bulk.py) over the same home, each timed wall to wall (schema and indexes included, the
bulk's server stop and start too). Parity, as the issue defines it: node and relationship
counts by label and type, and every named query's answer on a sample of entities (the best
connected, listed ones, their neighbours and a seeded draw).

WIPES the neo4j database of H. Prints a JSON summary last (and writes it with --json).
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from graph_load import generate  # noqa: E402  (the 1M-entity output of the graph benchmark)

SAMPLES = {  # Cypher listing entity ids per group, picked from in order or at random
    "connected": "MATCH (e:Entity) RETURN e.entity_id AS id ORDER BY COUNT {(e)--()} DESC, id LIMIT 1000",
    "listed": "MATCH (e:Entity)-[:HAS_RECORD]->() RETURN DISTINCT e.entity_id AS id ORDER BY id",
    "near_listed": "MATCH (e:Entity)-[:LEGAL_REP_OF|SHAREHOLDER_OF|EXECUTIVE_OF]-(:Entity)"
                   "-[:HAS_RECORD]->() RETURN DISTINCT e.entity_id AS id ORDER BY id LIMIT 100000",
    "any": "MATCH (e:Entity) RETURN e.entity_id AS id ORDER BY id",
}
AUTO_PARAMS = {"rules", "as_of"}


def _rows(store, cypher: str, **params) -> list[dict]:
    records, _, _ = store.driver.execute_query(cypher, params, database_=store.database)
    return [r.data() for r in records]


def counts(store) -> dict:
    labels = _rows(store, "MATCH (n) UNWIND labels(n) AS k RETURN k, count(*) AS n ORDER BY k")
    types = _rows(store, "MATCH ()-[r]->() RETURN type(r) AS k, count(*) AS n ORDER BY k")
    return {"labels": {r["k"]: r["n"] for r in labels}, "types": {r["k"]: r["n"] for r in types}}


def sample(store, n: int, seed: int = 7) -> list[dict]:
    rng, ids = random.Random(seed), []
    per = max(1, n // len(SAMPLES))
    for group, cypher in SAMPLES.items():
        found = [r["id"] for r in _rows(store, cypher) if r["id"] not in ids]
        ids += found[:per] if group == "connected" else rng.sample(found, min(per, len(found)))
    return _rows(store, "UNWIND $ids AS id MATCH (e:Entity {entity_id: id}) "
                        "OPTIONAL MATCH (e)-[*2..2]-(b:Entity) WHERE b <> e "
                        "WITH e, min(b.entity_id) AS reach "
                        "RETURN e.entity_id AS id, e.name AS name, reach, "
                        "coalesce(e.identifier, e.id_hash) AS identifier", ids=ids)


def cases(name: str, entities: list[dict]) -> list[dict]:
    from creditgraph.graph.queries import library
    nq = library()[name]
    required = sorted(nq.params - set(nq.defaults) - AUTO_PARAMS)
    if not required:
        return [{}]
    values = {"entity_id": "id", "from_id": "id", "to_id": "reach", "identifier": "identifier",
              "q": "name"}
    unknown = set(required) - set(values) - {nq.selector}
    if unknown:
        raise SystemExit(f"query {name!r}: no sample value for {sorted(unknown)}")
    out = []
    for i, e in enumerate(entities):
        case = {p: e[values[p]] for p in required if p != nq.selector}
        if nq.selector in required:
            allowed = [v for v in nq.allowed_values if v != "*"]
            case[nq.selector] = allowed[i % len(allowed)]
        if all(v is not None for v in case.values()):
            out.append(case)
    return out


def answers(store, entities: list[dict]) -> dict:
    from creditgraph.graph.queries import library
    out = {}
    for name in library().public():
        for params in cases(name, entities):
            rows = store.query(name, **params)
            if name == "search_name" and rows:  # see test_bulk_import._comparable
                cut = min(r["score"] for r in rows)
                rows = [len(rows), *({**r, "score": None} for r in rows if r["score"] > cut)]
            out[f"{name} {json.dumps(params, ensure_ascii=False, sort_keys=True)}"] = rows
    return out


def compare(trans: dict, bulk: dict) -> dict:
    differ = [k for k in trans["answers"] if bulk["answers"].get(k) != trans["answers"][k]]
    return {"counts_equal": trans["counts"] == bulk["counts"],
            "queries": len(trans["answers"]),
            "queries_answered": sum(bool(v) for v in trans["answers"].values()),
            "queries_differing": len(differ), "first_differing": differ[:5]}


def run_bulk_only(out_dir: Path, args) -> dict:
    """The bulk import alone (an output too large to load transactionally in the time there is)."""
    from creditgraph.graph import server
    from creditgraph.graph.bulk import bulk_load
    from creditgraph.graph.neo4j_store import Neo4jStore

    server.start(args.home, bolt_port=args.bolt_port, http_port=args.http_port, heap=args.heap,
                 pagecache=args.pagecache, wait=600)
    t = time.perf_counter()
    report = bulk_load(out_dir, args.home, import_memory=args.import_memory)
    bulk_s = time.perf_counter() - t
    store = Neo4jStore(f"bolt://127.0.0.1:{args.bolt_port}")
    try:
        graph = counts(store)
    finally:
        store.close()
    return {"out_dir": str(out_dir), "nodes": report.nodes_total,
            "relations": report.relations_total, "bulk_s": round(bulk_s, 1),
            "bulk_timings": report.timings, "counts": graph}


def run(out_dir: Path, args) -> dict:
    from creditgraph.graph import server
    from creditgraph.graph.bulk import bulk_load
    from creditgraph.graph.neo4j_store import Neo4jStore

    uri = f"bolt://127.0.0.1:{args.bolt_port}"
    server.start(args.home, bolt_port=args.bolt_port, http_port=args.http_port, heap=args.heap,
                 pagecache=args.pagecache, wait=600)
    store = Neo4jStore(uri)
    try:
        store.wipe()
        t = time.perf_counter()
        report = store.load(out_dir, batch_size=args.batch_size, progress=False)
        trans_s = time.perf_counter() - t
        entities = sample(store, args.sample)
        trans = {"counts": counts(store), "answers": answers(store, entities)}
    finally:
        store.close()
    t = time.perf_counter()
    bulk_report = bulk_load(out_dir, args.home, import_memory=args.import_memory)
    bulk_s = time.perf_counter() - t
    store = Neo4jStore(uri)
    try:
        bulk = {"counts": counts(store), "answers": answers(store, entities)}
    finally:
        store.close()
    return {"out_dir": str(out_dir), "nodes": report.nodes_total,
            "relations": report.relations_total,
            "transactional_s": round(trans_s, 1), "transactional_timings": report.timings,
            "bulk_s": round(bulk_s, 1), "bulk_timings": bulk_report.timings,
            "speedup": round(trans_s / bulk_s, 2), "counts": trans["counts"],
            "parity": compare(trans, bulk), "sample_entities": len(entities)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--home", type=Path, required=True, help="server home (its database is WIPED)")
    ap.add_argument("--bolt-port", type=int, required=True)
    ap.add_argument("--http-port", type=int, required=True)
    ap.add_argument("--city", type=Path, help="a resolved synthetic city to compare on first")
    ap.add_argument("--entities", type=int, default=1_000_000)
    ap.add_argument("--relations", type=int, default=3_000_000)
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "bench" / "graph_synthetic")
    ap.add_argument("--skip-full", action="store_true", help="only the --city comparison")
    ap.add_argument("--bulk-only", action="store_true",
                    help="the full output by bulk import alone (no transactional load, no parity)")
    ap.add_argument("--batch-size", type=int, default=10_000)
    ap.add_argument("--heap", default="2g")
    ap.add_argument("--pagecache", default="2g")
    ap.add_argument("--import-memory", default="4g", help="the importer's off-heap memory")
    ap.add_argument("--sample", type=int, default=60, help="entities the named queries start from")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    from creditgraph.graph import server

    summary: dict = {"heap": args.heap, "pagecache": args.pagecache,
                     "import_memory": args.import_memory, "batch_size": args.batch_size}
    try:
        if args.city:
            summary["city"] = run(args.city, args)
            print("city", json.dumps(summary["city"]), flush=True)
        if not args.skip_full:
            full = args.out / f"{args.entities}_{args.relations}"
            if not (full / "entities.csv").exists():
                summary["generate"] = generate(full, args.entities, args.relations)
            summary["full"] = (run_bulk_only if args.bulk_only else run)(full, args)
            print("full", json.dumps(summary["full"]), flush=True)
    finally:
        server.stop(args.home)
    text = json.dumps(summary, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    ok = all(r["parity"]["counts_equal"] and not r["parity"]["queries_differing"]
             for k, r in summary.items() if k in ("city", "full") and "parity" in r)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
