"""How `creditgraph resolve` scales: 100k, 500k and 2M mentions.

    python benchmarks/scale.py                      # 100k 500k 2m
    python benchmarks/scale.py --sizes 100k 500k

Per size a city is generated under /tmp (`creditgraph synth`, timed separately), resolved by
`creditgraph resolve` in a fresh process under /usr/bin/time (wall, CPU, peak RSS of that
process), scored with `linkage.evaluate.evaluate`, then deleted. Growth is the ratio of resolve
walls between consecutive sizes against the ratio of mentions. Targets from the issue: 2M
mentions in under 5 minutes, peak memory under 8 GB. Writes benchmarks/results/scale.json.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import tempfile
import time

from city_vs_splink import SIZES, commit, generate, machine, run_ours

HERE = pathlib.Path(__file__).resolve().parent
RESULTS = HERE / "results" / "scale.json"
TARGET_2M = {"wall_s": 300, "peak_rss_mb": 8 * 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", choices=SIZES, default=list(SIZES))
    args = parser.parse_args()

    started_on = commit()
    rows = []
    for size in args.sizes:
        enterprises, persons = SIZES[size]
        work = pathlib.Path(tempfile.mkdtemp(prefix=f"cg-scale-{size}-"))
        try:
            gen = generate(work / "city", enterprises, persons)
            print(f"{size}: generated {gen['mentions_in_truth']} mentions in {gen['wall_s']:.1f} s", flush=True)
            ours = run_ours(work / "city", work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        row = {"size": size, "enterprises": enterprises, "persons": persons, "generation": gen,
               "mentions": ours["mentions"], "resolve_wall_s": ours["wall_s"], "resolve_cpu_s": ours["cpu_s"],
               "mentions_per_s": ours["mentions_per_s"], "peak_rss_mb": ours["peak_rss_mb"],
               "peak_tree_rss_mb": ours["peak_tree_rss_mb"],
               "stages_s": ours["stages_s"], "entities": ours["entities"], "review_queue": ours["review_queue"],
               "enterprise": ours["enterprise"], "person": ours["person"]}
        rows.append(row)
        print(f"{size}: resolved {row['mentions']} mentions in {row['resolve_wall_s']:.1f} s "
              f"({row['mentions_per_s']}/s), peak RSS {row['peak_rss_mb']} MB (tree {row['peak_tree_rss_mb']} MB), "
              f"E F1 {row['enterprise']['f1']:.4f}, P F1 {row['person']['f1']:.4f}", flush=True)

    for prev, row in zip(rows, rows[1:]):
        row["growth"] = {"mentions_x": round(row["mentions"] / prev["mentions"], 2),
                         "wall_x": round(row["resolve_wall_s"] / prev["resolve_wall_s"], 2),
                         "cpu_x": round(row["resolve_cpu_s"] / prev["resolve_cpu_s"], 2),
                         "rss_x": round(row["peak_rss_mb"] / prev["peak_rss_mb"], 2)}

    print("\n| size | mentions | generate (s) | resolve wall (s) | resolve CPU (s) | mentions/s | peak RSS (MB) | "
          "E P/R/F1 | P P/R/F1 | x mentions | x wall | x CPU |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        e, p, g = row["enterprise"], row["person"], row.get("growth", {})
        print(f"| {row['size']} | {row['mentions']:,} | {row['generation']['wall_s']:.1f} | {row['resolve_wall_s']:.1f} | "
              f"{row['resolve_cpu_s']:.1f} | {row['mentions_per_s']:,} | {row['peak_rss_mb']:,}, {row['peak_tree_rss_mb']:,} | "
              f"{e['precision']:.4f}/{e['recall']:.4f}/{e['f1']:.4f} | {p['precision']:.4f}/{p['recall']:.4f}/{p['f1']:.4f} | "
              f"{g.get('mentions_x', '')} | {g.get('wall_x', '')} | {g.get('cpu_x', '')} |")
    big = next((r for r in rows if r["size"] == "2m"), None)
    if big:
        print(f"2M target: wall {big['resolve_wall_s']:.0f} s vs {TARGET_2M['wall_s']} s, "
              f"peak RSS {max(big['peak_rss_mb'], big['peak_tree_rss_mb'])} MB vs {TARGET_2M['peak_rss_mb']} MB")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "scale", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit_at_start": started_on, "commit": commit(),
        "machine": machine(), "load_average_at_end": os.getloadavg(), "targets_2m": TARGET_2M,
        "results": rows}, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
