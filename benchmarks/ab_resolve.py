"""Two checkouts' `creditgraph resolve` on one city, runs alternated: the before and after of a change.

    git worktree add /tmp/before OLD && python3 -m venv /tmp/before/.venv && /tmp/before/.venv/bin/pip install -e /tmp/before
    python benchmarks/ab_resolve.py --city CITY --checkout before=/tmp/before --checkout after=. --repeat 3
    python benchmarks/ab_resolve.py ... --resolve-args '--engine spark --master local[2]'   # the Spark engine

Each checkout runs its own `.venv/bin/creditgraph resolve` (a fresh process and data directory,
the same id key), in turns (before, after, before, after...), so that a shared machine's load
falls on both alike. Per run: wall, CPU (user+sys, children included) and peak RSS from
/usr/bin/time, the tree's RSS sampled (city_vs_splink.timed_subprocess), and the run report's
stage timings. Reported: the medians per checkout and their ratio, and whether every output file
of the first runs is byte-identical between the checkouts (run_report.json aside: it holds times).
Writes --out (default benchmarks/results/ab_resolve.json).
"""
from __future__ import annotations

import argparse
import filecmp
import json
import os
import pathlib
import shlex
import shutil
import statistics

from city_vs_splink import commit, machine, timed_subprocess

HERE = pathlib.Path(__file__).resolve().parent
TIMED = {"wall_s": "wall", "cpu_s": "cpu", "peak_rss_mb": "peak_rss"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", type=pathlib.Path, required=True, help="a `creditgraph synth` output")
    parser.add_argument("--checkout", action="append", required=True, metavar="LABEL=PATH",
                        help="a checkout with its own .venv (twice: before and after)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--resolve-args", default="", help="more `creditgraph resolve` arguments for every run")
    parser.add_argument("--work", type=pathlib.Path, default=pathlib.Path("/tmp/cg-ab-resolve"))
    parser.add_argument("--out", type=pathlib.Path, default=HERE / "results" / "ab_resolve.json")
    args = parser.parse_args()
    checkouts = dict(c.split("=", 1) for c in args.checkout)
    runs = {label: [] for label in checkouts}
    extra = shlex.split(args.resolve_args)
    for round_ in range(args.repeat):
        for label, path in checkouts.items():
            runs[label].append(run(pathlib.Path(path), args.city, args.work / label / str(round_), extra))
            print(label, round_, {k: runs[label][-1][k] for k in TIMED}, "load", os.getloadavg(), flush=True)
    result = {"city": str(args.city), "machine": machine(), "repeat": args.repeat, "resolve_args": extra,
              "checkouts": {label: {"path": path, "commit": commit(pathlib.Path(path))} for label, path in checkouts.items()},
              "runs": runs, "median": {label: medians(r) for label, r in runs.items()}}
    labels = list(checkouts)
    if len(labels) == 2:
        a, b = labels
        result["ratio"] = {k: round(result["median"][b][k] / result["median"][a][k], 3) for k in TIMED}
        result["outputs_identical"] = same_outputs(args.work / a / "0" / "out", args.work / b / "0" / "out")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1))
    print(json.dumps({k: result[k] for k in ("median", "ratio", "outputs_identical") if k in result}, indent=1))


def run(checkout: pathlib.Path, city: pathlib.Path, work: pathlib.Path, extra: list[str]) -> dict:
    out, data = work / "out", work / "data"
    for d in (out, data):
        shutil.rmtree(d, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    timed = timed_subprocess([str(checkout / ".venv" / "bin" / "creditgraph"), "resolve", "--manifest",
                              str(city / "manifest.yaml"), "--out", str(out), *extra],
                             env={"CREDITGRAPH_DATA": str(data), "CREDITGRAPH_ID_KEY": "bench"}, log=work / "resolve.log")
    report = json.loads((out / "run_report.json").read_text(encoding="utf-8"))
    return {"wall_s": timed["wall_s"], "cpu_s": timed["cpu_s"], "peak_rss_mb": timed["peak_rss_mb"],
            "peak_tree_rss_mb": timed["peak_tree_rss_mb"], "stages_s": report.get("timings_s", {}),
            "load": os.getloadavg()}


def medians(runs: list[dict]) -> dict:
    out = {k: round(statistics.median(r[k] for r in runs), 1) for k in TIMED}
    stages = {s for r in runs for s in r["stages_s"]}
    out["stages_s"] = {s: round(statistics.median(r["stages_s"].get(s, 0) for r in runs), 1) for s in sorted(stages)}
    return out


def same_outputs(a: pathlib.Path, b: pathlib.Path) -> dict:
    """Per output file (run_report.json aside), whether the two runs wrote the same bytes."""
    names = sorted(({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()}) - {"run_report.json"})
    return {n: (a / n).exists() and (b / n).exists() and filecmp.cmp(a / n, b / n, shallow=False) for n in names}


if __name__ == "__main__":
    main()
