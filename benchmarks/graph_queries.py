"""Query latency benchmark: p50/p95 of the named queries from random start entities.

    python benchmarks/graph_queries.py --uri bolt://127.0.0.1:7687 \
        --resolved data/bench/graph_synthetic/1000000_3000000 [--n 1000]
    python benchmarks/graph_queries.py --memory [--memory-entities 100000] [--n 1000] [--out DIR]

Neo4j: the graph already loaded from --resolved (run benchmarks/graph_load.py first; this
script does not load or wipe). Memory: generates a synthetic resolve output of
--memory-entities entities (3 relations per entity) with graph_load.generate and loads it
into a MemoryStore. Start entities are drawn (seeded) from the resolve output: any entity
for related_parties (depth 3), listed subjects for joint_discipline_forward, enterprises for
joint_discipline_reverse and beneficial_owners. Each query is warmed up on 50 other starts.
Targets: related_parties depth 3 < 50 ms, joint discipline < 100 ms, beneficial owners < 100 ms
(p95 on Neo4j). Prints a JSON summary last.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

TARGETS_MS = {"related_parties_d3": 50, "joint_discipline_forward": 100,
              "joint_discipline_reverse": 100, "beneficial_owners": 100}


def starts(resolved: Path, n: int, seed: int = 11) -> dict[str, list[str]]:
    rng = np.random.default_rng(seed)
    ent = pd.read_csv(resolved / "entities.csv", dtype=str, usecols=["entity_id", "kind"])
    lists = pd.read_csv(resolved / "list_records.csv", dtype=str, usecols=["entity_id", "list"])
    from creditgraph.graph.store import discipline_rules
    ruled = {r["list"] for r in discipline_rules()}
    listed = lists[lists["list"].isin(ruled)]["entity_id"].drop_duplicates().to_numpy()
    firms = ent[ent["kind"] == "enterprise"]["entity_id"].to_numpy()
    every = ent["entity_id"].to_numpy()

    def draw(pool):
        return list(rng.choice(pool, size=n + 50, replace=len(pool) < n + 50))
    return {"related_parties_d3": draw(every), "joint_discipline_forward": draw(listed),
            "joint_discipline_reverse": draw(firms), "beneficial_owners": draw(firms)}


def bench(store, picks: dict[str, list[str]], n: int) -> dict:
    calls = {
        "related_parties_d3": lambda e: store.query("related_parties", entity_id=e, depth=3),
        "joint_discipline_forward": lambda e: store.query("joint_discipline_forward", entity_id=e),
        "joint_discipline_reverse": lambda e: store.query("joint_discipline_reverse", entity_id=e),
        "beneficial_owners": lambda e: store.query("beneficial_owners", entity_id=e),
    }
    out = {}
    for name, fn in calls.items():
        ids = picks[name]
        for e in ids[n:]:
            fn(e)          # warm-up
        times, rows = [], []
        for e in ids[:n]:
            t = time.perf_counter()
            rows.append(len(fn(e)))
            times.append((time.perf_counter() - t) * 1000)
        a = np.array(times)
        out[name] = {"n": n, "p50_ms": round(float(np.percentile(a, 50)), 2),
                     "p95_ms": round(float(np.percentile(a, 95)), 2),
                     "p99_ms": round(float(np.percentile(a, 99)), 2),
                     "max_ms": round(float(a.max()), 2),
                     "mean_rows": round(float(np.mean(rows)), 1),
                     "target_p95_ms": TARGETS_MS[name]}
        print(name, out[name], flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--uri", default=None)
    ap.add_argument("--resolved", type=Path,
                    default=ROOT / "data" / "bench" / "graph_synthetic" / "1000000_3000000")
    ap.add_argument("--memory", action="store_true", help="benchmark the MemoryStore instead")
    ap.add_argument("--memory-entities", type=int, default=100_000)
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "bench" / "graph_synthetic",
                    help="where --memory generates (or finds) its synthetic resolve output")
    ap.add_argument("--n", type=int, default=1000)
    args = ap.parse_args(argv)
    summary: dict = {}
    if args.memory:
        from creditgraph.graph.memory_store import MemoryStore
        from graph_load import generate
        resolved = args.out / f"{args.memory_entities}_{args.memory_entities * 3}"
        if not (resolved / "entities.csv").exists():
            generate(resolved, args.memory_entities, args.memory_entities * 3)
        store = MemoryStore(None)
        report = store.load(resolved)
        summary["store"] = {"kind": "memory", "resolved": str(resolved),
                            "nodes": report.nodes_total, "relations": report.relations_total,
                            "load_s": report.timings["total"]}
    else:
        from creditgraph.graph.factory import open_store
        store = open_store(args.uri)
        resolved = args.resolved
        summary["store"] = {"kind": store.kind, "uri": getattr(store, "uri", None),
                            "resolved": str(resolved), **store.counts()}
    print(summary["store"], flush=True)
    try:
        summary["queries"] = bench(store, starts(resolved, args.n), args.n)
    finally:
        store.close()
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
