"""The daily cycle (issue 11): a day's batch of changed rows through `creditgraph ingest` and
`creditgraph load --changes`, against the full resolve it replaces.

    python benchmarks/daily_cycle.py --size 2m --rows 20000 --neo4j bolt://127.0.0.1:7717

A city of the size is generated (`creditgraph synth`) and resolved in full in a fresh process
(wall, peak RSS); with --neo4j the full output is loaded into that server (setup, timed). One
delta batch of --rows changes (creditgraph.synth.batches: new rows of existing and new firms,
renamed rows, cleared identifiers, deletes) is made, then ingested and applied to the graph, each
in a fresh process: the daily cycle is those two walls, with each one's stages (ingest's
changes.json timings, the graph change's report) as shares of the cycle. Results are written
after every step to benchmarks/results/daily_cycle.json (--results), so a run cut short keeps what it did.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
RESULTS = HERE / "results" / "daily_cycle.json"
SIZES = {"100k": (9000, 13500), "500k": (45000, 67000), "2m": (180000, 270000)}
TARGET_S = 60
ENV = {"CREDITGRAPH_ID_KEY": "bench"}


def run(args: list[str], data: pathlib.Path, log: pathlib.Path) -> dict:
    """A creditgraph command in a fresh process: wall and CPU (user+sys) seconds, the load
    average over its last minute, its own peak RSS (MB), stdout. The usage is that process's
    (wait4): RUSAGE_CHILDREN's peak is the largest of all children so far, so an ingest run
    after a full resolve would report the resolve's."""
    started = time.perf_counter()
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "creditgraph.cli", *args], stdout=subprocess.PIPE,
                                stderr=err, text=True, env=environment(data))
        stdout = proc.stdout.read()
        proc.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}); see {log}")
    return {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "load_average": os.getloadavg()[0], "peak_rss_mb": round(usage.ru_maxrss / 1024),
            "stdout": stdout}


def environment(data: pathlib.Path) -> dict:
    """The commands' environment, with bytecode kept: an installed creditgraph has its modules
    compiled (pip does it), while PYTHONDONTWRITEBYTECODE (set on these machines) makes every
    process compile pandas, scipy and creditgraph again, some 4 s of CPU per command."""
    env = {**os.environ, **ENV, "CREDITGRAPH_DATA": str(data)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def commit() -> str:
    git = lambda *a: subprocess.run(["git", *a], cwd=HERE.parent, capture_output=True, text=True).stdout.strip()
    dirty = git("status", "--porcelain", "--", "linkage", "loaders", "creditgraph", "graph")
    return git("rev-parse", "--short", "HEAD") + ("+dirty" if dirty else "")


def save(result: dict) -> None:
    path = pathlib.Path(result["results"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1))


def shares(stages: dict, cycle_s: float) -> dict:
    return {k: {"s": v, "share": round(v / cycle_s, 3)} for k, v in stages.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="2m")
    parser.add_argument("--rows", type=int, default=20000, help="changes in the day's batch")
    parser.add_argument("--neo4j", help="bolt URI of a local server to load and change (wiped first)")
    parser.add_argument("--work", type=pathlib.Path, help="keep the city and outputs here (default: a temp dir, removed)")
    parser.add_argument("--results", type=pathlib.Path, default=RESULTS)
    parser.add_argument("--graph-later", action="store_true",
                        help="keep the full output (WORK/out_full) to load and change a graph later (--graph-only)")
    parser.add_argument("--city", type=pathlib.Path, help="a city `creditgraph synth` made already: not made again")
    parser.add_argument("--full-only", action="store_true",
                        help="with --work: stop after the full resolve (then --resume makes the batch and ingests)")
    parser.add_argument("--resume", action="store_true",
                        help="with --work: take the city and full resolve of --results, make the batch, ingest")
    parser.add_argument("--graph-only", action="store_true",
                        help="with --work: load WORK/out_full (Neo4j with --neo4j, else the embedded store), "
                             "apply WORK/out's change, add to --results")
    args = parser.parse_args()
    if args.graph_only:
        return graph_only(args)
    enterprises, persons = SIZES[args.size]
    work = args.work or pathlib.Path(tempfile.mkdtemp(prefix=f"cg-daily-{args.size}-"))
    work.mkdir(parents=True, exist_ok=True)
    data, city, out = work / "data", work / "city", work / "out"
    result = {"benchmark": "daily_cycle", "size": args.size, "rows": args.rows, "commit": commit(),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_average_start": os.getloadavg(),
              "target_s": TARGET_S, "results": str(args.results)}
    try:
        if args.resume:  # the city and its full resolve of a run cut short before its ingest
            kept = json.loads(args.results.read_text())
            result |= {k: kept[k] for k in ("synth", "full_resolve", "city") if k in kept}
            result |= {"resumed_at": result["date"], "date": kept["date"]}
        else:
            full_run(result, args.city or city, out, data, work, enterprises, persons, made=bool(args.city))
            if args.full_only:
                return
        city = pathlib.Path(result.get("city", city))
        from creditgraph.synth.batches import make_batches
        t = time.perf_counter()
        batch = make_batches(city, work / "batches", batches=1, rows=args.rows, seed=11)[0]
        result["batch_made_s"] = round(time.perf_counter() - t, 2)
        if args.neo4j:
            from creditgraph.graph.factory import open_store
            store = open_store(args.neo4j)
            store.wipe()
            store.close()
            load = run(["load", "--from", str(out), "--neo4j", args.neo4j, "--json"], data, work / "load.log")
            report = json.loads(load.pop("stdout"))  # popped before the copy: its text is not kept twice
            result["full_graph_load"] = {**load, "report": report}
            print(f"full graph load {load['wall_s']} s", flush=True)
            save(result)
        if args.graph_later:
            shutil.copytree(out, work / "out_full")
        ingest = run(["ingest", "--manifest", str(batch), "--into", str(out), "--json"], data, work / "ingest.log")
        changes = json.loads(ingest.pop("stdout"))
        result["ingest"] = {**ingest, "rows": changes["rows"], "relinked": changes["relinked"],
                            "stages_s": changes["timings_s"],
                            "entities": {k: len(v) for k, v in changes["entities"].items()},
                            "records": {k: len(v) for k, v in changes["records"].items()},
                            "graph": {k: len(v) for k, v in changes["graph"].items()}}
        print(f"ingest {ingest['wall_s']} s: {changes['rows']}", flush=True)
        save(result)
        cycle = ingest["wall_s"]
        stages = {f"ingest: {k}": v for k, v in changes["timings_s"].items() if k != "total"}
        stages["ingest: process start and the rest"] = round(ingest["wall_s"] - changes["timings_s"]["total"], 2)
        if args.neo4j:
            apply = run(["load", "--changes", "--from", str(out), "--neo4j", args.neo4j], data, work / "apply.log")
            applied = json.loads(apply.pop("stdout"))
            result["graph_change"] = {**apply, "report": applied}
            cycle += apply["wall_s"]
            stages |= {f"graph: {k}": v for k, v in applied["timings_s"].items() if k != "total"}
            stages["graph: process start and the rest"] = round(apply["wall_s"] - applied["timings_s"]["total"], 2)
            print(f"graph change {apply['wall_s']} s", flush=True)
        result["cycle_s"] = round(cycle, 2)
        result["stages"] = shares(stages, cycle)
        result["vs_full_resolve_x"] = round(result["full_resolve"]["wall_s"] / cycle, 1)
        result["load_average_end"] = os.getloadavg()
        save(result)
        print(json.dumps({k: result[k] for k in ("cycle_s", "vs_full_resolve_x", "stages")}, indent=1), flush=True)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


def full_run(result: dict, city, out, data, work, enterprises: int, persons: int, made: bool) -> None:
    result["city"] = str(city)
    if not made:
        result["synth"] = run(["synth", str(city), "--enterprises", str(enterprises), "--persons", str(persons)],
                              data, work / "synth.log") | {"stdout": None}
        print(f"synth {result['synth']['wall_s']} s", flush=True)
    full = run(["resolve", "--manifest", str(city / "manifest.yaml"), "--out", str(out), "--json"], data,
               work / "resolve.log")
    report = json.loads(full.pop("stdout"))
    result["full_resolve"] = {**full, "mentions": report["mentions"], "stages_s": report["timings_s"]}
    print(f"full resolve {full['wall_s']} s, {report['mentions']:,} mentions", flush=True)
    save(result)


def graph_only(args) -> None:
    """The graph half of the cycle on a run kept with --graph-later (a server busy meanwhile);
    without --neo4j, the embedded store (WORK/data/graph.pickle)."""
    from creditgraph.graph.factory import open_store
    result = json.loads(args.results.read_text())
    data, out = args.work / "data", args.work / "out"
    where = ["--neo4j", args.neo4j] if args.neo4j else []
    if args.neo4j:
        store = open_store(args.neo4j)
        store.wipe()
        store.close()
    result["graph_store"] = "neo4j" if args.neo4j else "embedded (networkx)"
    load = run(["load", "--from", str(args.work / "out_full"), *where, "--json"], data, args.work / "load.log")
    report = json.loads(load.pop("stdout"))  # popped before the copy: its text is not kept twice
    result["full_graph_load"] = {**load, "report": report}
    print(f"full graph load {load['wall_s']} s", flush=True)
    apply = run(["load", "--changes", "--from", str(out), *where], data, args.work / "apply.log")
    applied = json.loads(apply.pop("stdout"))
    result["graph_change"] = {**apply, "report": applied, "load_average": os.getloadavg()}
    print(f"graph change {apply['wall_s']} s", flush=True)
    stages = {k: v["s"] for k, v in result["stages"].items()}
    stages |= {f"graph: {k}": v for k, v in applied["timings_s"].items() if k != "total"}
    stages["graph: process start and the rest"] = round(apply["wall_s"] - applied["timings_s"]["total"], 2)
    result["cycle_s"] = round(result["ingest"]["wall_s"] + apply["wall_s"], 2)
    result["stages"] = shares(stages, result["cycle_s"])
    result["vs_full_resolve_x"] = round(result["full_resolve"]["wall_s"] / result["cycle_s"], 1)
    save(result)
    print(json.dumps({k: result[k] for k in ("cycle_s", "vs_full_resolve_x", "stages")}, indent=1), flush=True)


if __name__ == "__main__":
    main()
