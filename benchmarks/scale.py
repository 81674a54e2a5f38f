"""How `creditgraph resolve` scales: 100k, 500k and 2M mentions.

    python benchmarks/scale.py                      # 100k 500k 2m
    python benchmarks/scale.py --sizes 100k 500k
    python benchmarks/scale.py --sizes 100k 500k --profiles yingkou held_out --ceiling \
        --out benchmarks/results/scale_profiles.json   # both noise profiles (issue 10)

Per size a city is generated under /tmp (`creditgraph synth`, timed separately), resolved by
`creditgraph resolve` in a fresh process under /usr/bin/time (wall, CPU, peak RSS of that
process), scored with `linkage.evaluate.evaluate`, then deleted. Growth is the ratio of resolve
walls between consecutive sizes against the ratio of mentions. Targets from the issue: 2M
mentions in under 5 minutes, peak memory under 8 GB. Writes benchmarks/results/scale.json.

Per profile and size it also reports pairwise and B-cubed precision and recall per kind, the
review queue per 10,000 mentions by reason and (--ceiling) the person recall ceilings of
person_ceiling.py. The held_out profile is for reporting only: nothing is chosen on it.
Each row also keeps, from the run report, the blocks skipped for size per kind and the name-only
mentions left unlinked: the two places where recall is given up by rule.
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
from person_ceiling import ceiling

HERE = pathlib.Path(__file__).resolve().parent
RESULTS = HERE / "results" / "scale.json"
TARGET_2M = {"wall_s": 300, "peak_rss_mb": 8 * 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", choices=SIZES, default=list(SIZES))
    parser.add_argument("--profiles", nargs="+", default=["yingkou"], help="noise profiles (creditgraph synth --profile)")
    parser.add_argument("--ceiling", action="store_true", help="also the person recall ceilings (person_ceiling.py)")
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS)
    args = parser.parse_args()

    started_on = commit()
    rows = [run_one(profile, size, args.ceiling) for profile in args.profiles for size in args.sizes]
    by_profile = {}
    for row in rows:
        by_profile.setdefault(row["profile"], []).append(row)
    for same in by_profile.values():
        _growth(same)
    _print_scale(rows)
    _print_quality(rows)
    big = next((r for r in rows if r["size"] == "2m"), None)
    if big:
        print(f"2M target: wall {big['resolve_wall_s']:.0f} s vs {TARGET_2M['wall_s']} s, "
              f"peak RSS {max(big['peak_rss_mb'], big['peak_tree_rss_mb'])} MB vs {TARGET_2M['peak_rss_mb']} MB")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "benchmark": "scale", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit_at_start": started_on, "commit": commit(),
        "machine": machine(), "load_average_at_end": os.getloadavg(), "targets_2m": TARGET_2M,
        "results": rows}, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote {args.out}")


def run_one(profile: str, size: str, with_ceiling: bool) -> dict:
    enterprises, persons = SIZES[size]
    work = pathlib.Path(tempfile.mkdtemp(prefix=f"cg-scale-{profile}-{size}-"))
    try:
        gen = generate(work / "city", enterprises, persons, profile=profile)
        print(f"{profile} {size}: generated {gen['mentions_in_truth']} mentions in {gen['wall_s']:.1f} s", flush=True)
        ours = run_ours(work / "city", work)
        blocking = _blocking(work / "out" / "run_report.json")
        limit = ceiling(work / "city") if with_ceiling else None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    row = {"profile": profile, "size": size, "enterprises": enterprises, "persons": persons, "generation": gen,
           "mentions": ours["mentions"], "resolve_wall_s": ours["wall_s"], "resolve_cpu_s": ours["cpu_s"],
           "mentions_per_s": ours["mentions_per_s"], "peak_rss_mb": ours["peak_rss_mb"],
           "peak_tree_rss_mb": ours["peak_tree_rss_mb"],
           "stages_s": ours["stages_s"], "entities": ours["entities"], "review_queue": ours["review_queue"],
           "enterprise": ours["enterprise"], "person": ours["person"],
           "review_queue_per_10k": {reason: round(n * 1e4 / ours["mentions"], 1)
                                    for reason, n in ours["review_queue"].items()},
           "person_ceiling": limit, **blocking}
    print(f"{profile} {size}: resolved {row['mentions']} mentions in {row['resolve_wall_s']:.1f} s "
          f"({row['mentions_per_s']}/s), peak RSS {row['peak_rss_mb']} MB (tree {row['peak_tree_rss_mb']} MB), "
          f"E F1 {row['enterprise']['f1']:.4f}, P F1 {row['person']['f1']:.4f}; unlinked {row['unlinked']['count']}, "
          f"blocks skipped E {row['blocking']['enterprise']['skipped_blocks']} / P {row['blocking']['person']['skipped_blocks']}",
          flush=True)
    return row


def _blocking(report_path: pathlib.Path) -> dict:
    """What the run report says recall was given up for: per kind the blocks skipped for size
    (count, largest), and the name-only mentions left unlinked (a name several firms share)."""
    report = json.loads(report_path.read_text(encoding="utf-8"))
    skipped = {kind: {"skipped_blocks": report["linkage"][kind]["skipped_blocks"],
                      "largest_skipped": [size for _, size in report["linkage"][kind]["largest_skipped"]]}
               for kind in ("enterprise", "person")}
    return {"blocking": skipped, "unlinked": report["review_workload"]["unlinked"]}


def _growth(rows: list[dict]) -> None:
    for prev, row in zip(rows, rows[1:]):
        row["growth"] = {"mentions_x": round(row["mentions"] / prev["mentions"], 2),
                         "wall_x": round(row["resolve_wall_s"] / prev["resolve_wall_s"], 2),
                         "cpu_x": round(row["resolve_cpu_s"] / prev["resolve_cpu_s"], 2),
                         "rss_x": round(row["peak_rss_mb"] / prev["peak_rss_mb"], 2)}


def _print_scale(rows: list[dict]) -> None:
    print("\n| size | mentions | generate (s) | resolve wall (s) | resolve CPU (s) | mentions/s | peak RSS (MB) | "
          "E P/R/F1 | P P/R/F1 | x mentions | x wall | x CPU |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        e, p, g = row["enterprise"], row["person"], row.get("growth", {})
        print(f"| {row['profile']} {row['size']} | {row['mentions']:,} | {row['generation']['wall_s']:.1f} | {row['resolve_wall_s']:.1f} | "
              f"{row['resolve_cpu_s']:.1f} | {row['mentions_per_s']:,} | {row['peak_rss_mb']:,}, {row['peak_tree_rss_mb']:,} | "
              f"{e['precision']:.4f}/{e['recall']:.4f}/{e['f1']:.4f} | {p['precision']:.4f}/{p['recall']:.4f}/{p['f1']:.4f} | "
              f"{g.get('mentions_x', '')} | {g.get('wall_x', '')} | {g.get('cpu_x', '')} |")


def _print_quality(rows: list[dict]) -> None:
    """Pairwise and B-cubed (B3) P/R per kind, the person B3 recall ceiling, the queue per 10,000 mentions."""
    print("\n| profile | size | mentions | enterprise P/R | enterprise B3 P/R | person P/R | person B3 P/R | "
          "person B3 recall ceiling (gap) | review queue per 10,000 mentions |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        e, p, limit = row["enterprise"], row["person"], row["person_ceiling"]
        gap = (f"{limit['bcubed_recall_ceiling']:.4f} ({limit['bcubed_recall_ceiling'] - p['bcubed_recall']:.4f})"
               if limit else "")
        queue = row["review_queue_per_10k"]
        reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(queue.items()))
        print(f"| {row['profile']} | {row['size']} | {row['mentions']:,} | {e['precision']:.4f}/{e['recall']:.4f} | "
              f"{e['bcubed_precision']:.4f}/{e['bcubed_recall']:.4f} | {p['precision']:.4f}/{p['recall']:.4f} | "
              f"{p['bcubed_precision']:.4f}/{p['bcubed_recall']:.4f} | {gap} | "
              f"{sum(queue.values()):.1f}: {reasons} |")


if __name__ == "__main__":
    main()
