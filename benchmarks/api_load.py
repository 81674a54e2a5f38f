"""API load benchmark: 50 concurrent clients (locust, a second process) against the query API
on the local Neo4j holding the graph benchmark's synthetic graph (default 1M entities).

    python benchmarks/api_load.py --uri bolt://127.0.0.1:7797 [--prepare] [--entities 1000000]
        [--clients 50] [--duration 60] [--workers 2] [--depth 2] [--wait 0]

--prepare generates the resolve output with benchmarks/graph_load.py's generator (if missing)
and loads it with Neo4jStore.load: that WIPES whatever else the database holds (loopback only).
Without it the graph already in the database is used. The API runs under uvicorn
(`api.app:app_from_env`, --workers processes), locust runs headless in another process for
--duration seconds. Targets: entity detail p95 < 20 ms, related parties p95 < 60 ms, no errors.
Prints a JSON summary last (p50/p95/p99 per endpoint, requests/s, failures); exit 1 when a
target is missed. --wait > 0 gives each client a think time of 0..wait s (a paced load);
0 is a closed loop (saturation). uvicorn uses uvloop/httptools when installed
(uvicorn[standard]); results: docs/api.md.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGETS = {"entity detail": 20.0, "related parties": 60.0}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graph_load():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import graph_load
    return graph_load


def sample_ids(uri: str, out: Path | None, n: int, seed: int = 11) -> list[str]:
    """Random entity ids: from the resolve output's entities.csv, else from the database."""
    rng = random.Random(seed)
    if out and (out / "entities.csv").exists():
        with open(out / "entities.csv", encoding="utf-8", newline="") as f:
            ids = [r["entity_id"] for r in csv.DictReader(f)]
        return rng.sample(ids, min(n, len(ids)))
    from neo4j import GraphDatabase
    with GraphDatabase.driver(uri) as driver:
        total = driver.execute_query("MATCH (n:Entity) RETURN count(n) AS c").records[0]["c"]
        recs = driver.execute_query(
            "MATCH (n:Entity) WITH n SKIP toInteger(rand() * $skip) LIMIT $n RETURN n.entity_id AS id",
            skip=max(total - n, 0), n=n).records
    return [r["id"] for r in recs]


def count_entities(uri: str) -> int:
    from neo4j import GraphDatabase
    with GraphDatabase.driver(uri) as driver:
        return driver.execute_query("MATCH (n:Entity) RETURN count(n) AS c").records[0]["c"]


def wait_up(base: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the API at {base} did not come up in {timeout}s")


def read_stats(prefix: Path) -> dict:
    out = {}
    with open(f"{prefix}_stats.csv", encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            name = r["Name"]
            out[name] = {"requests": int(r["Request Count"]), "failures": int(r["Failure Count"]),
                         "rps": round(float(r["Requests/s"]), 1),
                         "p50_ms": float(r["50%"]), "p95_ms": float(r["95%"]), "p99_ms": float(r["99%"]),
                         "avg_ms": round(float(r["Average Response Time"]), 2)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--uri", default=os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687"))
    ap.add_argument("--prepare", action="store_true", help="generate (if missing) and load the graph")
    ap.add_argument("--entities", type=int, default=1_000_000)
    ap.add_argument("--relations", type=int, default=3_000_000)
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "bench" / "graph_synthetic")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=int, default=60, help="seconds of load (bounded)")
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    ap.add_argument("--depth", type=int, default=2, help="related parties depth")
    ap.add_argument("--wait", type=float, default=0.0, help="max think time per client, s")
    ap.add_argument("--ids", type=int, default=20_000, help="random entity ids to query")
    args = ap.parse_args(argv)
    if (urlparse(args.uri).hostname or "") not in ("127.0.0.1", "localhost", "::1"):
        ap.error("loopback only: give a local Neo4j URI")
    if not 1 <= args.duration <= 900:
        ap.error("--duration must be 1..900 s")

    full = args.out / f"{args.entities}_{args.relations}"
    summary: dict = {"uri": args.uri, "clients": args.clients, "duration_s": args.duration,
                     "workers": args.workers, "depth": args.depth, "think_time_max_s": args.wait,
                     "cpus": os.cpu_count()}
    if args.prepare:
        gl = _graph_load()
        if not (full / "entities.csv").exists():
            summary["generate"] = gl.generate(full, args.entities, args.relations)
        from graph.neo4j_store import Neo4jStore
        store = Neo4jStore(args.uri)
        try:
            t = time.perf_counter()
            report = store.load(full, batch_size=10_000)
            summary["load_s"] = round(time.perf_counter() - t, 1)
            summary["load"] = {"nodes_total": report.nodes_total, "relations_total": report.relations_total}
        finally:
            store.close()
    summary["entities_in_graph"] = count_entities(args.uri)
    ids = sample_ids(args.uri, full if (full / "entities.csv").exists() else None, args.ids)

    work = Path(tempfile.mkdtemp(prefix="cg-api-bench-"))
    try:
        from api.keys import create_key
        data = work / "data"
        key = create_key("bench", ["investigator"], data / "api_keys.json")
        (work / "ids.txt").write_text("\n".join(ids) + "\n", encoding="utf-8")
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "CREDITGRAPH_DATA": str(data), "NEO4J_URI": args.uri,
               "CREDITGRAPH_RESOLVED_DIR": str(full) if full.exists() else "",
               "PYTHONPATH": str(ROOT)}
        api = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "api.app:app_from_env",
                                "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers),
                                "--no-access-log", "--log-level", "warning"], cwd=ROOT, env=env)
        try:
            wait_up(base)
            # warm-up: page cache and query plans
            with httpx.Client(base_url=base, headers={"X-API-Key": key, "X-Purpose": "warm-up"}) as c:
                for eid in ids[:300]:
                    c.get(f"/entities/{eid}")
                    c.get(f"/entities/{eid}/related", params={"depth": args.depth})
            prefix = work / "locust"
            lenv = {**env, "CG_BENCH_IDS": str(work / "ids.txt"), "CG_BENCH_KEY": key,
                    "CG_BENCH_DEPTH": str(args.depth), "CG_BENCH_WAIT": str(args.wait)}
            subprocess.run([sys.executable, "-m", "locust", "-f", str(ROOT / "benchmarks" / "api_locustfile.py"),
                            "--headless", "-u", str(args.clients), "-r", str(args.clients),
                            "-t", f"{args.duration}s", "--host", base, "--csv", str(prefix),
                            "--only-summary", "--stop-timeout", "5", "--loglevel", "WARNING"],
                           cwd=ROOT, env=lenv, timeout=args.duration + 120, check=False)
            stats = read_stats(prefix)
        finally:
            api.terminate()
            try:
                api.wait(15)
            except subprocess.TimeoutExpired:
                api.kill()
        summary["endpoints"] = {k: v for k, v in stats.items() if k != "Aggregated"}
        summary["total"] = stats.get("Aggregated")
        verdict = {}
        for name, st in summary["endpoints"].items():
            target = next((t for prefix_, t in TARGETS.items() if name.startswith(prefix_)), None)
            if target is not None:
                verdict[name] = {"p95_ms": st["p95_ms"], "target_ms": target,
                                 "ok": st["p95_ms"] < target and st["failures"] == 0}
        summary["targets"] = verdict
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0 if summary.get("targets") and all(v["ok"] for v in summary["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
