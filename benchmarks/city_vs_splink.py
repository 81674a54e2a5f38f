"""The synthetic city's enterprise mentions: creditgraph's resolve and Splink 5 (DuckDB) side by side.

    python benchmarks/city_vs_splink.py --size 100k --repeat 3
    python benchmarks/city_vs_splink.py --size 500k --repeat 1

For each size a city is generated under /tmp (`creditgraph synth`), then:
- ours: `creditgraph resolve` in a subprocess (under /usr/bin/time for peak RSS), scored per kind
  with `linkage.evaluate.evaluate` against OUT/truth/mentions.csv, as `creditgraph evaluate` does.
  Its wall covers the whole job (loading, enterprises AND persons, writing every output); the
  run report's `enterprises` stage is quoted beside it.
- Splink: the enterprise mentions only, as the loaders give them (`frames()["mentions"]`,
  kind == enterprise), normalised with our own parsers first so that Splink sees clean columns:
  `linkage.names.parse_enterprise_name` (core, trade_pinyin, industry, division, form, branch) and
  `linkage.identifiers.classify` (the organisation code a USCC, an organisation code or a tax
  number carries; the old registration number). Timed from that pandas frame to clusters,
  normalisation included. Clusters at 0.5 and at 0.9.
Writes benchmarks/results/city_vs_splink_<size>.json. The city is deleted afterwards.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import pandas as pd

from creditgraph.linkage.evaluate import KEY, evaluate, pairwise
from creditgraph.linkage.identifiers import classify
from creditgraph.linkage.names import parse_enterprise_name
from creditgraph.loaders.manifest import load_manifest
from creditgraph.loaders.reader import read_manifest

HERE = pathlib.Path(__file__).resolve().parent
RESULTS = HERE / "results"
SIZES = {"100k": (9000, 13500), "500k": (45000, 67000), "2m": (180000, 270000)}
THRESHOLDS = (0.5, 0.9)
SEED = 7


# --- city and our resolve (also used by benchmarks/scale.py) ----------------------------------

def timed_subprocess(args: list[str], env: dict | None = None, log: pathlib.Path | None = None) -> dict:
    """Run under /usr/bin/time: wall, user+sys CPU (children included) and peak RSS of the largest
    single process; plus the peak of the RSS summed over the process tree, sampled every 0.2 s
    (the loaders read large inputs in worker processes)."""
    import psutil

    stats = pathlib.Path(tempfile.mktemp(prefix="cg-time-"))
    cmd = ["/usr/bin/time", "-f", "%e %U %S %M", "-o", str(stats), *args]
    tree_peak = 0
    with open(log or os.devnull, "w") as out:
        proc = psutil.Popen(cmd, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT)
        while proc.poll() is None:
            try:
                tree = [proc, *proc.children(recursive=True)]
                tree_peak = max(tree_peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.2)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}); see {log}")
    wall, user, sys_, rss_kb = stats.read_text().split()[-4:]
    stats.unlink()
    return {"wall_s": float(wall), "cpu_s": round(float(user) + float(sys_), 2),
            "peak_rss_mb": round(int(rss_kb) / 1024), "peak_tree_rss_mb": round(tree_peak / 2**20)}


def generate(city: pathlib.Path, enterprises: int, persons: int, seed: int = SEED, profile: str = "yingkou") -> dict:
    run = timed_subprocess(["creditgraph", "synth", str(city), "--enterprises", str(enterprises),
                            "--persons", str(persons), "--seed", str(seed), "--profile", profile])
    truth = pd.read_csv(city / "truth" / "mentions.csv", dtype=str, usecols=KEY)
    return {**run, "enterprises": enterprises, "persons": persons, "seed": seed, "profile": profile,
            "mentions_in_truth": len(truth)}


def run_ours(city: pathlib.Path, work: pathlib.Path) -> dict:
    """`creditgraph resolve` in a fresh process and a fresh data directory, then evaluate."""
    out, data = work / "out", work / "data"
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(data, ignore_errors=True)
    run = timed_subprocess(["creditgraph", "resolve", "--manifest", str(city / "manifest.yaml"), "--out", str(out)],
                           env={"CREDITGRAPH_DATA": str(data), "CREDITGRAPH_ID_KEY": "bench"},
                           log=work / "resolve.log")
    report = json.loads((out / "run_report.json").read_text(encoding="utf-8"))
    mentions = pd.read_csv(out / "mentions.csv", dtype=str)
    kinds = pd.read_csv(out / "entities.csv", dtype=str, usecols=["entity_id", "kind"])
    quality = evaluate(mentions.merge(kinds, on="entity_id", how="left"),
                       pd.read_csv(city / "truth" / "mentions.csv", dtype=str), examples=3)
    return {**run, "mentions": report["mentions"], "mentions_per_s": round(report["mentions"] / run["wall_s"]),
            "stages_s": report["timings_s"], "entities": report["entities"],
            "review_queue": report["review_queue"],
            **{kind: quality[kind] for kind in ("enterprise", "person")}}


# --- Splink on the enterprise mentions --------------------------------------------------------

def enterprise_mentions(city: pathlib.Path) -> pd.DataFrame:
    """The loaders' enterprise mentions with their true entity."""
    mentions = read_manifest(load_manifest(city / "manifest.yaml")).frames()["mentions"]
    mentions = mentions[mentions["kind"] == "enterprise"].astype({"record_id": str})
    truth = pd.read_csv(city / "truth" / "mentions.csv", dtype=str)
    return mentions.merge(truth.rename(columns={"entity_id": "truth"}), on=KEY, how="left")


def _identifiers(raw) -> tuple[str | None, str | None]:
    """The organisation code carried by a USCC / organisation code / tax number, and a valid
    old registration number."""
    org = reg = None
    for value in (raw.split("|") if isinstance(raw, str) else ()):
        ident = classify(value, "enterprise")
        if ident is None or not ident.valid:
            continue
        if ident.org_code and org is None:
            org = ident.org_code
        elif ident.type == "reg_no" and reg is None:
            reg = ident.value
    return org, reg


_NOT_DIGIT = re.compile(r"\D")


def normalise(mentions: pd.DataFrame) -> pd.DataFrame:
    """The clean columns a careful user would hand to Splink, from our own parsers."""
    names = [parse_enterprise_name(n if isinstance(n, str) else "") for n in mentions["name"]]
    ids = [_identifiers(v) for v in mentions["identifiers"]]
    phone = mentions["phone"].map(lambda p: _NOT_DIGIT.sub("", p) or None if isinstance(p, str) else None)
    return pd.DataFrame({
        "unique_id": mentions["mention_id"].to_numpy(),
        "core": [n.core or None for n in names],
        "trade_pinyin": [n.trade_pinyin or None for n in names],
        "industry": [n.industry or None for n in names],
        "division": [n.division for n in names],                     # None: no division written
        "form": [n.form or None for n in names],
        "branch": ["" if n.branch is None else ">" + n.branch for n in names],  # '' = not a branch
        "org_code": [o for o, _ in ids],
        "reg_no": [r for _, r in ids],
        "phone": phone.to_numpy(),
    })


def _name():
    """One comparison for the name, so that core and trade-name sound are not counted twice:
    the same core, else the same trade-name pinyin (homophones), else Jaro-Winkler levels."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    return cl.CustomComparison([
        cll.NullLevel("core"),
        cll.ExactMatchLevel("core"),
        cll.ExactMatchLevel("trade_pinyin"),
        cll.JaroWinklerLevel("core", 0.92),
        cll.JaroWinklerLevel("core", 0.8),
        cll.ElseLevel(),
    ], output_column_name="name")


def splink_settings():
    """Comparisons and blocking rules on the normalised columns; m by EM on two rules."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    blocking = [block_on("trade_pinyin", "industry"), block_on("org_code"), block_on("reg_no"), block_on("phone")]
    comparisons = [
        _name(),
        cl.ExactMatch("division"),
        cl.ExactMatch("form"),
        cl.ExactMatch("branch"),
        cl.LevenshteinAtThresholds("org_code", [1]),
        cl.ExactMatch("reg_no"),
        cl.ExactMatch("phone"),
    ]
    settings = SettingsCreator(unique_id_column_name="unique_id", link_type="dedupe_only",
                               blocking_rules_to_generate_predictions=blocking, comparisons=comparisons)
    deterministic = [block_on("org_code"), block_on("reg_no")]
    em_rules = [block_on("org_code"), block_on("trade_pinyin", "industry")]
    return settings, deterministic, em_rules


def run_splink(mentions: pd.DataFrame, thresholds=THRESHOLDS, max_pairs: float = 1e7) -> dict:
    from splink import DuckDBAPI, Linker

    settings, deterministic, em_rules = splink_settings()
    start, cpu = time.perf_counter(), time.process_time()
    frame = normalise(mentions)
    prep_s = time.perf_counter() - start
    linker = Linker(DuckDBAPI().register(frame), settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.9)
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=1)
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=min(thresholds))
    first = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=thresholds[0]).as_pandas_dataframe()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    n_pairs = len(predictions.as_pandas_dataframe())
    truth = mentions.set_index("mention_id")["truth"]
    out = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "normalise_s": round(prep_s, 2),
           "mentions": len(frame), "predicted_links": n_pairs, "weights": _weights(linker)}
    for threshold in thresholds:
        clusters = first if threshold == thresholds[0] else linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold).as_pandas_dataframe()
        out[f"at_{threshold}"] = pairwise(clusters["cluster_id"], truth.loc[clusters["unique_id"]])
    return out


def _weights(linker) -> dict:
    """The fitted prior and, per comparison level, m, u and the match weight log2(m/u)."""
    import math

    settings = linker._settings_obj
    out = {"prior": settings._probability_two_random_records_match}
    for comparison in settings.comparisons:
        for level in comparison.comparison_levels:
            if level.is_null_level:
                continue
            m, u = level.m_probability, level.u_probability
            weight = round(math.log2(m / u), 2) if m and u else None
            out[f"{comparison.output_column_name}: {level.label_for_charts}"] = {"m": m, "u": u, "weight": weight}
    return out


# --- report -----------------------------------------------------------------------------------

def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    mem = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gb": round(mem / 1024 / 1024, 1),
            "python": sys.version.split()[0]}


def commit(checkout: pathlib.Path = HERE.parent) -> str:
    """HEAD of `checkout`, marked '+dirty' when the code that runs (not benchmarks/) has
    uncommitted changes."""
    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=checkout, capture_output=True, text=True).stdout.strip()
    dirty = git("status", "--porcelain", "--", "linkage", "loaders", "creditgraph")
    return git("rev-parse", "--short", "HEAD") + ("+dirty" if dirty else "")


def median_of(runs: list[dict], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="100k")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the city under /tmp")
    args = parser.parse_args()
    enterprises, persons = SIZES[args.size]
    started_on = commit()

    work = pathlib.Path(tempfile.mkdtemp(prefix=f"cg-city-{args.size}-"))
    try:
        city = work / "city"
        gen = generate(city, enterprises, persons)
        print(f"generated E={enterprises} P={persons}: {gen['mentions_in_truth']} mentions in {gen['wall_s']:.1f} s",
              flush=True)
        mentions = enterprise_mentions(city)
        ours, theirs = [], []
        for i in range(args.repeat):
            ours.append(run_ours(city, work))
            print(f"  run {i + 1}/{args.repeat} creditgraph  wall {ours[-1]['wall_s']:.1f} s  "
                  f"E F1 {ours[-1]['enterprise']['f1']:.4f}  P F1 {ours[-1]['person']['f1']:.4f}", flush=True)
            theirs.append(run_splink(mentions))
            print(f"  run {i + 1}/{args.repeat} splink       wall {theirs[-1]['wall_s']:.1f} s  "
                  f"E F1 {theirs[-1]['at_0.5']['f1']:.4f} (0.5)  {theirs[-1]['at_0.9']['f1']:.4f} (0.9)", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    o, s = ours[-1], theirs[-1]
    summary = {
        "creditgraph": {**{k: o[k] for k in ("enterprise", "person", "mentions", "entities", "review_queue")},
                        "wall_median_s": median_of(ours, "wall_s"), "walls_s": [r["wall_s"] for r in ours],
                        "cpu_median_s": median_of(ours, "cpu_s"),
                        "enterprise_stage_median_s": round(statistics.median(r["stages_s"]["enterprises"] for r in ours), 2),
                        "stages_s_last": o["stages_s"], "peak_rss_mb_max": max(r["peak_rss_mb"] for r in ours),
                        "peak_tree_rss_mb_max": max(r["peak_tree_rss_mb"] for r in ours)},
        "splink": {**{k: s[k] for k in s if k.startswith("at_") or k in ("mentions", "predicted_links", "weights")},
                   "wall_median_s": median_of(theirs, "wall_s"), "walls_s": [r["wall_s"] for r in theirs],
                   "cpu_median_s": median_of(theirs, "cpu_s"), "normalise_median_s": median_of(theirs, "normalise_s")},
        "quality_identical_across_repeats": {
            "creditgraph": all(r["enterprise"] == o["enterprise"] and r["person"] == o["person"] for r in ours),
            "splink": all(r["at_0.5"] == s["at_0.5"] for r in theirs)},
    }
    c, k = summary["creditgraph"], summary["splink"]
    print(f"\nsize {args.size}: {gen['mentions_in_truth']} mentions, {k['mentions']} enterprise mentions")
    print("| engine | scope | kind | precision | recall | F1 | median wall (s) | walls | median CPU (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    walls = ", ".join(f"{w:.1f}" for w in c["walls_s"])
    for kind in ("enterprise", "person"):
        q = c[kind]
        print(f"| creditgraph | whole resolve | {kind} | {q['precision']:.4f} | {q['recall']:.4f} | {q['f1']:.4f} | "
              f"{c['wall_median_s']:.1f} | {walls} | {c['cpu_median_s']:.1f} |")
    walls = ", ".join(f"{w:.1f}" for w in k["walls_s"])
    for threshold in THRESHOLDS:
        q = k[f"at_{threshold}"]
        print(f"| splink | enterprise mentions | enterprise @{threshold} | {q['precision']:.4f} | {q['recall']:.4f} | "
              f"{q['f1']:.4f} | {k['wall_median_s']:.1f} | {walls} | {k['cpu_median_s']:.1f} |")
    print(f"creditgraph enterprise stage alone: median {c['enterprise_stage_median_s']:.1f} s; "
          f"Splink normalisation (our parsers): median {k['normalise_median_s']:.1f} s")

    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"city_vs_splink_{args.size}.json"
    path.write_text(json.dumps({
        "benchmark": "city_vs_splink", "size": args.size, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit_at_start": started_on, "commit": commit(), "machine": machine(),
        "load_average_at_end": os.getloadavg(), "repeat": args.repeat,
        "generation": gen, "results": summary, "runs": {"creditgraph": ours, "splink": theirs}},
        ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print(f"wrote {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
