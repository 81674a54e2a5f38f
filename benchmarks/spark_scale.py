"""The embedded `creditgraph resolve` against the Spark engine on local[2], per city size (issue 12).

    python benchmarks/spark_scale.py --sizes 500k
    .cache/tools/bigrun python benchmarks/spark_scale.py --sizes 10m --engines spark --shuffle-partitions 32
    .cache/tools/bigrun python benchmarks/spark_scale.py --sizes 500k 2m --city 2m=/tmp/cg-ingest5/d2m/city

Per size a city is generated under --work (`creditgraph synth OUT --enterprises E --persons P
--seed 7`, the sizes of benchmarks/scale.py), or an existing one reused with --city SIZE=PATH
(never deleted). Then, each in a fresh process and a fresh data directory, with the same id key:
- `creditgraph resolve` (the embedded engine),
- `creditgraph resolve --engine spark --master local[2]`, with Spark's event log switched on
  through a spark-defaults.conf in SPARK_CONF_DIR (spark-submit reads it; session() sets nothing
  there), read back for the shuffle volume (bytes read and written over all tasks), spills, task
  counts and the executors' peak JVM heap.
Each process runs under /usr/bin/time while its whole process tree is sampled every 0.5 s with
psutil: peak RSS summed over the tree and per part (the driver's Python, the JVM - driver and
executor in one in local mode -, the Python workers under the JVM; RSS, so pages the forked
workers share are counted in each), and CPU as the sum over every process seen of its own
user+sys at its last sample (up to 0.5 s of a process's end is missed). /usr/bin/time's user+sys
is kept beside it as cpu_s_rusage: it misses the JVM, which the CLI's process does not wait for.
Quality is scored as `creditgraph evaluate` and benchmarks/scale.py score it
(`linkage.evaluate.evaluate` against OUT/truth/mentions.csv: pairwise and B-cubed P/R per kind),
the mentions left unlinked and the review queue's items counted per kind and reason,
the two engines' entity ids are compared mention by mention, and every output file both write
(the review queue, unlinked mentions and share sums included) byte for byte.
The JSON (--out, default benchmarks/results/spark_scale.json) is rewritten after every step, so a
run cut short keeps what it finished. Run anything at 2M (or a Spark run over ~3 GB) under
.cache/tools/bigrun: the whole script, so that waiting for a slot is not timed.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import pathlib
import shutil
import subprocess
import tempfile
import time

import pandas as pd
import psutil

from city_vs_splink import SEED, SIZES as CITY_SIZES, commit, machine
from creditgraph.linkage.evaluate import KEY, evaluate

HERE = pathlib.Path(__file__).resolve().parent
RESULTS = HERE / "results" / "spark_scale.json"
ENV = {"CREDITGRAPH_ID_KEY": "bench"}  # the same key for both engines: the ids are comparable
SPARK_DEFAULTS = {"spark.eventLog.enabled": "true", "spark.eventLog.compress": "false",
                  "spark.executor.processTreeMetrics.enabled": "true"}
SAMPLE_S = 0.5
SIZES = {**CITY_SIZES, "10m": (900_000, 1_350_000)}  # the 10M: five times the 2M city (--engines spark)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", choices=SIZES, default=["500k", "2m"])
    parser.add_argument("--city", action="append", default=[], metavar="SIZE=PATH",
                        help="reuse an existing city for SIZE (read only)")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--engines", nargs="+", choices=("embedded", "spark"), default=["embedded", "spark"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--work", type=pathlib.Path, default=pathlib.Path(tempfile.gettempdir()))
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS)
    parser.add_argument("--events", type=pathlib.Path, help="keep Spark's event logs here (else deleted)")
    parser.add_argument("--driver-memory", help="the Spark JVM's heap (spark-submit --driver-memory, which wins "
                                                "over session()'s 2g); the CLI's default if not given")
    parser.add_argument("--shuffle-partitions", type=int, help="`creditgraph resolve --shuffle-partitions` "
                                                                  "(spark.sql.shuffle.partitions); the CLI's 8 if not given")
    args = parser.parse_args()
    cities = dict(item.split("=", 1) for item in args.city)

    doc = {"benchmark": "spark_scale", "started": _now(), "commit_at_start": commit(), "machine": machine(),
           "master": args.master, "driver_memory": args.driver_memory or "2g (session())",
           "shuffle_partitions": args.shuffle_partitions or "8 (the CLI's default)",
           "spark_defaults": SPARK_DEFAULTS, "sizes": {}}
    save = _saver(args.out, doc)
    for size in args.sizes:
        doc["sizes"][size] = row = {"runs": []}  # in the document before its first run ends
        run_size(size, row, cities.get(size), args, save)
    doc["growth"] = growth(doc["sizes"])
    save()
    print(json.dumps(doc["growth"], indent=1))


def _saver(path: pathlib.Path, doc: dict):
    path.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        doc.update(updated=_now(), commit=commit(), load_average=os.getloadavg())
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return save


def run_size(size: str, row: dict, city: str | None, args, save) -> None:
    work = pathlib.Path(tempfile.mkdtemp(prefix=f"cg-spark-scale-{size}-", dir=args.work))
    try:
        row["city"] = _city(size, city, work)
        save()
        for attempt in range(args.repeat):
            outs = {}
            for engine in args.engines:
                out = work / f"out-{engine}"
                try:
                    run = resolve(engine, pathlib.Path(row["city"]["path"]), out, work, args)
                except RuntimeError as failed:  # kept in the document, with the end of its log
                    row.setdefault("failures", []).append({"engine": engine, "attempt": attempt, "at": _now(),
                                                           "error": str(failed)})
                    save()
                    print(f"{size} {engine}: {failed}", flush=True)
                    continue
                finally:
                    _keep_events(work / "spark-events", args.events, f"{size}-{engine}-{attempt}")
                run.update(attempt=attempt, load_average_after=os.getloadavg())
                row["runs"].append(run)
                outs[engine] = out
                _print_run(size, run)
                save()
            if len(outs) == 2:
                row["runs"][-1]["same_entity_ids"] = same_ids(outs["embedded"], outs["spark"])
                row["runs"][-1]["same_files"] = same_files(outs["embedded"], outs["spark"])
                print(f"{size}: same entity ids {row['runs'][-1]['same_entity_ids']}; "
                      f"same files {row['runs'][-1]['same_files']}", flush=True)
                save()
            for out in outs.values():
                shutil.rmtree(out, ignore_errors=True)
        row["medians"] = medians(row["runs"])
        save()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _city(size: str, given: str | None, work: pathlib.Path) -> dict:
    if given:
        path = pathlib.Path(given)
        return {"path": str(path), "reused": True, "mentions_in_truth": _truth_size(path)}
    enterprises, persons = SIZES[size]
    path = work / "city"
    run = measured(["creditgraph", "synth", str(path), "--enterprises", str(enterprises), "--persons", str(persons),
                    "--seed", str(SEED)], {}, work / "synth.log")
    print(f"{size}: generated in {run['wall_s']:.0f} s", flush=True)
    return {"path": str(path), "reused": False, "enterprises": enterprises, "persons": persons, "seed": SEED,
            "generation": run, "mentions_in_truth": _truth_size(path)}


def _truth_size(city: pathlib.Path) -> int:
    return len(pd.read_csv(city / "truth" / "mentions.csv", dtype=str, usecols=["record_id"]))


def resolve(engine: str, city: pathlib.Path, out: pathlib.Path, work: pathlib.Path, args) -> dict:
    """One resolve in a fresh process and data directory: measured, then scored."""
    data = work / f"data-{engine}"
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(data, ignore_errors=True)
    cmd = ["creditgraph", "resolve", "--manifest", str(city / "manifest.yaml"), "--out", str(out)]
    env = {**ENV, "CREDITGRAPH_DATA": str(data)}
    events = work / "spark-events"
    if engine == "spark":
        cmd += ["--engine", "spark", "--master", args.master]
        if args.shuffle_partitions:
            cmd += ["--shuffle-partitions", str(args.shuffle_partitions)]
        env["SPARK_CONF_DIR"] = str(_spark_conf(work, events))
        if args.driver_memory:
            env["PYSPARK_SUBMIT_ARGS"] = f"--driver-memory {args.driver_memory} pyspark-shell"
    run = {"engine": engine, "started": _now(), "commit": commit(), "load_average_before": os.getloadavg(),
           **measured(cmd, env, work / f"resolve-{engine}.log")}
    report = json.loads((out / "run_report.json").read_text(encoding="utf-8"))
    run.update(mentions=report["mentions"], stages_s=report.get("timings_s"), entities=report.get("entities"),
               linkage=_counts(report.get("linkage") or {}), quality=quality(out, city),
               left_for_stewards=left_for_stewards(out))
    if engine == "spark":
        run["spark"] = event_log(events)
    shutil.rmtree(data, ignore_errors=True)
    return run


def _counts(linkage: dict) -> dict:
    """The run report's linkage figures per kind that are counts (records, pairs, rounds, caps)."""
    return {kind: {k: v for k, v in stats.items() if isinstance(v, (int, float))} for kind, stats in linkage.items()}


def _keep_events(events: pathlib.Path, keep: pathlib.Path | None, name: str) -> None:
    if keep and events.exists():
        keep.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(keep / name, ignore_errors=True)
        shutil.move(str(events), str(keep / name))
    shutil.rmtree(events, ignore_errors=True)


def _spark_conf(work: pathlib.Path, events: pathlib.Path) -> pathlib.Path:
    conf = work / "spark-conf"
    conf.mkdir(exist_ok=True)
    shutil.rmtree(events, ignore_errors=True)
    events.mkdir()
    lines = [f"{k} {v}" for k, v in {**SPARK_DEFAULTS, "spark.eventLog.dir": events.as_uri()}.items()]
    (conf / "spark-defaults.conf").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return conf


# --- measuring a process tree ------------------------------------------------------------------

def measured(cmd: list[str], env: dict, log: pathlib.Path) -> dict:
    """Wall, CPU and peak RSS of cmd and every process under it (see the module docstring)."""
    stats = log.with_suffix(".time")
    cpu: dict = {}  # (pid, create_time) -> (part, user+sys seen last)
    peaks = {"tree": 0, "driver": 0, "jvm": 0, "workers": 0}
    started = time.perf_counter()
    with open(log, "w") as out:
        proc = psutil.Popen(["/usr/bin/time", "-f", "%e %U %S %M", "-o", str(stats), *cmd],
                            env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
        while proc.poll() is None:
            _sample(proc, cpu, peaks)
            time.sleep(SAMPLE_S)
    wall = time.perf_counter() - started
    if proc.returncode:
        tail = log.read_text(errors="replace").splitlines()[-40:]
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}) after {wall:.0f} s; its log ends:\n"
                           + "\n".join(line[-400:] for line in tail))
    t_wall, user, sys_, rss_kb = stats.read_text().split()[-4:]
    by_part = {}
    for part, seconds in cpu.values():
        by_part[part] = by_part.get(part, 0) + seconds
    return {"wall_s": round(float(t_wall), 2), "cpu_s": round(sum(by_part.values()), 2),
            "cpu_s_rusage": round(float(user) + float(sys_), 2),
            "cpu_s_sampled_by_part": {k: round(v, 2) for k, v in by_part.items()},
            "peak_rss_mb_largest_process": round(int(rss_kb) / 1024),
            "peak_tree_rss_mb": round(peaks["tree"] / 2**20),
            "peak_rss_mb_by_part": {k: round(v / 2**20) for k, v in peaks.items() if k != "tree"},
            "wall_s_outer": round(wall, 2)}


def _sample(root: psutil.Process, cpu: dict, peaks: dict) -> None:
    try:
        tree = root.children(recursive=True)  # under /usr/bin/time: the command, then its children
    except psutil.Error:
        return
    now = {"driver": 0, "jvm": 0, "workers": 0}
    jvm_pids: set[int] = set()
    for p in tree:
        try:
            with p.oneshot():
                name, ppid = p.name(), p.ppid()
                times, rss, created = p.cpu_times(), p.memory_info().rss, p.create_time()
        except psutil.Error:
            continue
        part = _part(p, name, ppid, root.pid, jvm_pids)
        now[part] += rss
        cpu[(p.pid, created)] = (part, times.user + times.system)
    peaks["tree"] = max(peaks["tree"], sum(now.values()))
    for part, rss in now.items():
        peaks[part] = max(peaks[part], rss)


def _part(p: psutil.Process, name: str, ppid: int, time_pid: int, jvm_pids: set[int]) -> str:
    """driver: the command itself; jvm: a java process; workers: anything under a JVM."""
    if name == "java":
        jvm_pids.add(p.pid)
        return "jvm"
    if ppid == time_pid:
        return "driver"
    try:
        ancestors = {a.pid for a in p.parents()}
    except psutil.Error:
        ancestors = set()
    if ancestors & jvm_pids or any(_is_java(a) for a in ancestors):
        return "workers"
    return "driver"


def _is_java(pid: int) -> bool:
    try:
        return psutil.Process(pid).name() == "java"
    except psutil.Error:
        return False


# --- Spark's event log -------------------------------------------------------------------------

def event_log(directory: pathlib.Path) -> dict:
    """Shuffle volume and the rest, summed over every task of the application's event log."""
    totals = {"shuffle_read_bytes": 0, "shuffle_write_bytes": 0, "shuffle_records_read": 0,
              "shuffle_records_written": 0, "memory_spilled_bytes": 0, "disk_spilled_bytes": 0,
              "input_bytes": 0, "output_bytes": 0, "executor_run_s": 0.0, "executor_cpu_s": 0.0,
              "tasks": 0, "stages": 0, "jobs": 0, "peak_jvm_heap_mb": 0, "peak_python_rss_mb": 0}
    # Spark 4 rolls the log: a directory eventlog_v2_<app> of events_<n>_<app> files and a status marker
    logs = sorted(p for p in directory.rglob("*") if p.is_file() and not p.name.startswith(("appstatus", ".")))
    for path in logs:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                _add_event(json.loads(line), totals)
    totals["executor_run_s"] = round(totals["executor_run_s"], 1)
    totals["executor_cpu_s"] = round(totals["executor_cpu_s"], 1)
    totals["event_logs"] = len(logs)
    return totals


def _add_event(event: dict, totals: dict) -> None:
    kind = event.get("Event")
    if kind == "SparkListenerJobStart":
        totals["jobs"] += 1
    elif kind == "SparkListenerStageCompleted":
        totals["stages"] += 1
    elif kind == "SparkListenerTaskEnd":
        totals["tasks"] += 1
        m = event.get("Task Metrics") or {}
        read, write = m.get("Shuffle Read Metrics", {}), m.get("Shuffle Write Metrics", {})
        totals["shuffle_read_bytes"] += read.get("Remote Bytes Read", 0) + read.get("Local Bytes Read", 0)
        totals["shuffle_records_read"] += read.get("Total Records Read", 0)
        totals["shuffle_write_bytes"] += write.get("Shuffle Bytes Written", 0)
        totals["shuffle_records_written"] += write.get("Shuffle Records Written", 0)
        totals["memory_spilled_bytes"] += m.get("Memory Bytes Spilled", 0)
        totals["disk_spilled_bytes"] += m.get("Disk Bytes Spilled", 0)
        totals["input_bytes"] += m.get("Input Metrics", {}).get("Bytes Read", 0)
        totals["output_bytes"] += m.get("Output Metrics", {}).get("Bytes Written", 0)
        totals["executor_run_s"] += m.get("Executor Run Time", 0) / 1e3
        totals["executor_cpu_s"] += m.get("Executor CPU Time", 0) / 1e9
        peaks = event.get("Task Executor Metrics") or {}
        totals["peak_jvm_heap_mb"] = max(totals["peak_jvm_heap_mb"], round(peaks.get("JVMHeapMemory", 0) / 2**20))
        totals["peak_python_rss_mb"] = max(totals["peak_python_rss_mb"],
                                           round(peaks.get("ProcessTreePythonRSSMemory", 0) / 2**20))


# --- quality and parity ------------------------------------------------------------------------

def quality(out: pathlib.Path, city: pathlib.Path) -> dict:
    """As `creditgraph evaluate` scores a resolve: pairwise and B-cubed P/R per kind."""
    mentions = pd.read_csv(out / "mentions.csv", dtype=str)
    kinds = pd.read_csv(out / "entities.csv", dtype=str, usecols=["entity_id", "kind"])
    scored = evaluate(mentions.merge(kinds, on="entity_id", how="left"),
                      pd.read_csv(city / "truth" / "mentions.csv", dtype=str), examples=0)
    keep = ("precision", "recall", "f1", "bcubed_precision", "bcubed_recall")
    return {"mentions_scored": scored["mentions_scored"],
            **{kind: {k: scored[kind][k] for k in keep if k in scored[kind]} for kind in ("enterprise", "person")}}


def left_for_stewards(out: pathlib.Path) -> dict:
    """The mentions left unlinked and the review queue's items, per kind and reason, counted
    before the outputs are deleted (what a recall below target is made of)."""
    counts = {}
    for name in ("unlinked", "review_queue"):
        path = out / f"{name}.csv"
        frame = pd.read_csv(path, dtype=str, usecols=["kind", "reason"]) if path.exists() else None
        counts[name] = {} if frame is None else {
            f"{kind} {why}": int(n) for (kind, why), n in frame.value_counts(["kind", "reason"], sort=False).items()}
    return counts


def same_ids(embedded: pathlib.Path, spark: pathlib.Path) -> dict:
    """The entity id of every mention, engine against engine."""
    cols = ["mention_id", "entity_id"]
    a = pd.read_csv(embedded / "mentions.csv", dtype=str, usecols=cols)
    b = pd.read_csv(spark / "mentions.csv", dtype=str, usecols=cols)
    joined = a.merge(b, on="mention_id", how="outer", suffixes=("_embedded", "_spark"))
    equal = int((joined["entity_id_embedded"] == joined["entity_id_spark"]).sum())
    return {"mentions_embedded": len(a), "mentions_spark": len(b), "equal": equal,
            "all_equal": equal == len(a) == len(b) == len(joined)}


OUTPUTS = ("mentions.csv", "entities.csv", "relations.csv", "list_records.csv", "identity_vault.csv", "rejects.csv",
           "rejects_vault.csv", "review_queue.csv", "unlinked.csv", "share_issues.csv")  # both engines write them


def same_files(embedded: pathlib.Path, spark: pathlib.Path) -> dict[str, bool]:
    """Per output file both engines write, whether the two are the same bytes (SHA-256 of each,
    read in pieces: the 2M files are larger than is worth holding)."""
    return {name: _digest(embedded / name) == _digest(spark / name) for name in OUTPUTS}


def _digest(path: pathlib.Path) -> str | None:
    if not path.exists():
        return None
    h = hashlib.sha256()
    with path.open("rb") as f:
        for piece in iter(lambda: f.read(1 << 20), b""):
            h.update(piece)
    return h.hexdigest()


# --- summary -----------------------------------------------------------------------------------

MEASURES = ("wall_s", "cpu_s", "peak_tree_rss_mb")
SPARK_MEASURES = ("shuffle_read_bytes", "shuffle_write_bytes", "disk_spilled_bytes")


def medians(runs: list[dict]) -> dict:
    out = {}
    for engine in {r["engine"] for r in runs}:
        mine = [r for r in runs if r["engine"] == engine]
        out[engine] = {k: _median([r[k] for r in mine]) for k in MEASURES}
        out[engine]["mentions"] = mine[0]["mentions"]
        if engine == "spark":
            out[engine].update({k: _median([r["spark"][k] for r in mine]) for k in SPARK_MEASURES})
    return out


def _median(values: list[float]) -> float:
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def growth(sizes: dict) -> dict:
    """Per engine and measure, between consecutive sizes: the ratio and the exponent b of
    measure ~ mentions^b (log ratio of the measure over log ratio of the mentions)."""
    done = [(size, row["medians"]) for size, row in sizes.items() if "medians" in row]
    out = {}
    for (small, a), (big, b) in zip(done, done[1:]):
        for engine in set(a) & set(b):
            x = b[engine]["mentions"] / a[engine]["mentions"]
            measures = {k: (b[engine][k], a[engine][k]) for k in b[engine] if k != "mentions" and a[engine].get(k)}
            out[f"{engine} {small}->{big}"] = {"mentions_x": round(x, 3), **{
                k: {"x": round(hi / lo, 3), "exponent": round(math.log(hi / lo) / math.log(x), 2)}
                for k, (hi, lo) in measures.items() if hi and lo}}
    return out


def _print_run(size: str, run: dict) -> None:
    q = run["quality"]
    extra = ""
    if "spark" in run:
        s = run["spark"]
        extra = (f", shuffle read {s['shuffle_read_bytes'] / 2**20:.0f} MB / write {s['shuffle_write_bytes'] / 2**20:.0f} MB"
                 f", {s['jobs']} jobs")
    print(f"{size} {run['engine']}: {run['mentions']} mentions, wall {run['wall_s']:.0f} s, CPU {run['cpu_s']:.0f} s "
          f"(rusage {run['cpu_s_rusage']:.0f}), peak tree RSS {run['peak_tree_rss_mb']} MB "
          f"{run['peak_rss_mb_by_part']}{extra}; E P/R {q['enterprise']['precision']:.4f}/{q['enterprise']['recall']:.4f}, "
          f"P P/R {q['person']['precision']:.4f}/{q['person']['recall']:.4f}; load {run['load_average_after']}",
          flush=True)


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())


if __name__ == "__main__":
    main()
