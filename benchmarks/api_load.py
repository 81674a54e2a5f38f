"""API load benchmark: 50 concurrent clients (locust, a second process) against the query API
on the local Neo4j holding the graph benchmark's synthetic graph (default 1M entities).

    python benchmarks/api_load.py --uri bolt://127.0.0.1:7797 [--prepare] [--entities 1000000]
        [--clients 50] [--searchers 4] [--duration 60] [--repeat 3] [--workers 2] [--depth 2]
        [--wait 1] [--client fast|requests]

--prepare generates the resolve output with benchmarks/graph_load.py's generator (if missing)
and loads it with Neo4jStore.load: that WIPES whatever else the database holds (loopback only).
Without it the graph already in the database is used. The API runs under uvicorn
(`api.app:app_from_env`, --workers processes), locust runs headless in another process for
--duration seconds, --repeat times against the same server (the machines are shared and noisy:
the verdict is on the median run). --searchers of the clients search by name (20 hits) for
names of random entities: a person's name, a firm's full name or its trade name and industry
(鑫达贸易); the others ask three entity details to one related-parties query. Targets: entity
detail p95 < 20 ms, related parties p95 < 60 ms, name search p95 < 50 ms, no errors. Prints a
JSON summary last (per run and median: p50/p95/p99 per endpoint, requests/s, failures; CPU
seconds of the API, Neo4j and locust); exit 1 when a target is missed.
--wait > 0 gives each client a think time of 0..wait s (a paced load); 0 is a closed loop
(saturation). --client: locust's FastHttpUser (geventhttpclient, the default) or HttpUser
(python-requests, 5x its CPU per request: on two shared cores the load tool's own CPU shows up
in the latencies it measures). uvicorn uses uvloop/httptools (uvicorn[standard]).
Results: BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGETS = {"entity detail": 20.0, "related parties": 60.0, "name search": 50.0}


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


def name_queries(uri: str, out: Path | None, n: int, seed: int = 12) -> list[str]:
    """What an investigator types, for random entities: a person's name, a firm's full name or
    (every other firm) its trade name and industry."""
    from creditgraph.linkage.names import parse_enterprise_name
    rng = random.Random(seed)
    if out and (out / "entities.csv").exists():
        with open(out / "entities.csv", encoding="utf-8", newline="") as f:
            rows = [(r["kind"], r["name"]) for r in csv.DictReader(f)]
        rows = rng.sample(rows, min(n, len(rows)))
    else:
        from neo4j import GraphDatabase
        with GraphDatabase.driver(uri) as driver:
            rows = [(r["kind"], r["name"]) for r in driver.execute_query(
                "MATCH (n:Entity) WITH n SKIP toInteger(rand() * $skip) LIMIT $n "
                "RETURN n.kind AS kind, n.name AS name", skip=max(count_entities(uri) - n, 0), n=n).records]
    return [parse_enterprise_name(name).core or name if kind == "enterprise" and i % 2 else name
            for i, (kind, name) in enumerate(rows)]


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


def neo4j_process(uri: str) -> psutil.Process | None:
    """The server listening on the Bolt port of `uri` (for its CPU seconds)."""
    port = urlparse(uri).port or 7687
    for c in psutil.net_connections(kind="tcp"):
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid:
            return psutil.Process(c.pid)
    return None


def cpu_seconds(procs: list[psutil.Process | None]) -> float:
    total = 0.0
    for p in procs:
        if p is None:
            continue
        for q in [p, *p.children(recursive=True)]:
            try:
                t = q.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
    return total


def run_locust(args, base: str, env: dict, prefix: Path, api: psutil.Process,
               neo: psutil.Process | None) -> dict:
    """One locust run; its stats per endpoint and the CPU seconds each party spent."""
    before = {"api": cpu_seconds([api]), "neo4j": cpu_seconds([neo])}
    proc = psutil.Popen([sys.executable, "-m", "locust", "-f", str(ROOT / "benchmarks" / "api_locustfile.py"),
                         "--headless", "-u", str(args.clients), "-r", str(args.clients),
                         "-t", f"{args.duration}s", "--host", base, "--csv", str(prefix),
                         "--only-summary", "--stop-timeout", "5", "--loglevel", "WARNING"],
                        cwd=ROOT, env=env)
    locust_cpu, deadline = 0.0, time.time() + args.duration + 120
    while proc.poll() is None:  # sample the load tool's CPU while it lives
        locust_cpu = max(locust_cpu, cpu_seconds([proc]))
        if time.time() > deadline:
            proc.kill()
            raise RuntimeError(f"locust ran past {args.duration + 120}s; killed")
        time.sleep(0.5)
    stats = read_stats(prefix)
    return {"endpoints": {k: v for k, v in stats.items() if k != "Aggregated"},
            "total": stats.get("Aggregated"),
            "cpu_s": {"api": round(cpu_seconds([api]) - before["api"], 1),
                      "neo4j": round(cpu_seconds([neo]) - before["neo4j"], 1),
                      "locust": round(locust_cpu, 1)},
            "load_average_1m": round(os.getloadavg()[0], 2)}


def median_of(runs: list[dict]) -> dict:
    """Per endpoint, the median over runs of each latency figure; failures summed."""
    out = {}
    for name in runs[0]["endpoints"]:
        per = [r["endpoints"][name] for r in runs if name in r["endpoints"]]
        out[name] = {k: statistics.median(p[k] for p in per)
                     for k in ("rps", "p50_ms", "p95_ms", "p99_ms", "avg_ms")}
        out[name]["failures"] = sum(p["failures"] for p in per)
        out[name]["requests"] = sum(p["requests"] for p in per)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--uri", default=os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687"))
    ap.add_argument("--prepare", action="store_true", help="generate (if missing) and load the graph")
    ap.add_argument("--entities", type=int, default=1_000_000)
    ap.add_argument("--relations", type=int, default=3_000_000)
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "bench" / "graph_synthetic")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--searchers", type=int, default=4, help="of the clients, those searching by name")
    ap.add_argument("--duration", type=int, default=60, help="seconds of load (bounded)")
    ap.add_argument("--repeat", type=int, default=3, help="locust runs against the same server")
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (one per core here)")
    ap.add_argument("--depth", type=int, default=2, help="related parties depth")
    ap.add_argument("--wait", type=float, default=1.0, help="max think time per client, s (0: closed loop)")
    ap.add_argument("--client", choices=["fast", "requests"], default="fast",
                    help="locust FastHttpUser (geventhttpclient) or HttpUser (python-requests)")
    ap.add_argument("--ids", type=int, default=20_000, help="random entity ids to query")
    args = ap.parse_args(argv)
    if (urlparse(args.uri).hostname or "") not in ("127.0.0.1", "localhost", "::1"):
        ap.error("loopback only: give a local Neo4j URI")
    if not 1 <= args.duration <= 900:
        ap.error("--duration must be 1..900 s")
    if not 1 <= args.repeat <= 10:
        ap.error("--repeat must be 1..10")

    full = args.out / f"{args.entities}_{args.relations}"
    if not 0 <= args.searchers < args.clients:
        ap.error("--searchers must be 0..clients-1")
    summary: dict = {"uri": args.uri, "clients": args.clients, "searchers": args.searchers,
                     "duration_s": args.duration,
                     "repeat": args.repeat, "workers": args.workers, "depth": args.depth,
                     "think_time_max_s": args.wait, "client": args.client, "cpus": os.cpu_count(),
                     "commit": subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                              capture_output=True, text=True).stdout.strip()}
    if args.prepare:
        gl = _graph_load()
        if not (full / "entities.csv").exists():
            summary["generate"] = gl.generate(full, args.entities, args.relations)
        from creditgraph.graph.neo4j_store import Neo4jStore
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
    names = name_queries(args.uri, full if (full / "entities.csv").exists() else None, 2_000)

    work = Path(tempfile.mkdtemp(prefix="cg-api-bench-"))
    try:
        from creditgraph.api.keys import create_key
        data = work / "data"
        key = create_key("bench", ["investigator"], data / "api_keys.json")
        (work / "ids.txt").write_text("\n".join(ids) + "\n", encoding="utf-8")
        (work / "names.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "CREDITGRAPH_DATA": str(data), "NEO4J_URI": args.uri,
               "CREDITGRAPH_RESOLVED_DIR": str(full) if full.exists() else "",
               "PYTHONPATH": str(ROOT)}
        api = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "creditgraph.api.app:app_from_env",
                                "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers),
                                "--no-access-log", "--log-level", "warning"], cwd=ROOT, env=env)
        try:
            wait_up(base)
            # warm-up: page cache and query plans
            with httpx.Client(base_url=base, headers={"X-API-Key": key, "X-Purpose": "warm-up"}) as c:
                for eid in ids[:300]:
                    c.get(f"/entities/{eid}")
                    c.get(f"/entities/{eid}/related", params={"depth": args.depth})
                for q in names[:100]:
                    c.get("/search/name", params={"q": q, "limit": 20})
            lenv = {**env, "CG_BENCH_IDS": str(work / "ids.txt"), "CG_BENCH_KEY": key,
                    "CG_BENCH_DEPTH": str(args.depth), "CG_BENCH_WAIT": str(args.wait),
                    "CG_BENCH_CLIENT": args.client, "CG_BENCH_NAMES": str(work / "names.txt"),
                    "CG_BENCH_SEARCHERS": str(args.searchers)}
            parties = (psutil.Process(api.pid), neo4j_process(args.uri))
            runs = [run_locust(args, base, lenv, work / f"locust{i}", *parties) for i in range(args.repeat)]
        finally:
            api.terminate()
            try:
                api.wait(15)
            except subprocess.TimeoutExpired:
                api.kill()
        summary["runs"] = runs
        summary["endpoints"] = median_of(runs)
        verdict = {}
        for name, st in summary["endpoints"].items():
            target = next((t for prefix_, t in TARGETS.items() if name.startswith(prefix_)), None)
            if target is not None:
                verdict[name] = {"median_p95_ms": st["p95_ms"], "target_ms": target,
                                 "ok": st["p95_ms"] < target and st["failures"] == 0}
        summary["total_rps_median"] = statistics.median(r["total"]["rps"] for r in runs if r["total"])
        summary["targets"] = verdict
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0 if summary.get("targets") and all(v["ok"] for v in summary["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
