"""The resolve job: manifest -> loaders -> linkage -> the output files of docs/architecture.md."""
from __future__ import annotations

import gc
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from creditgraph.base.files import private_dir, write_private
from creditgraph.base.settings import Settings, id_key
from creditgraph.linkage import sweep
from creditgraph.linkage.decisions import DecisionLog
from creditgraph.linkage.incremental import save_state
from creditgraph.linkage.resolve import Resolution, resolve
from creditgraph.loaders.manifest import load_manifest
from creditgraph.loaders.reader import mask_rejects, read_manifest
from creditgraph.loaders.removals import apply_removals

OUTPUT_FILES = {"entities": "entities.csv", "mentions": "mentions.csv", "relations": "relations.csv",
                "lists": "list_records.csv", "review": "review_queue.csv", "share_issues": "share_issues.csv",
                "unlinked": "unlinked.csv"}
SHARE_ISSUES_LISTED = 20  # in run_report.json; share_issues.csv holds them all
SPARK_SHUFFLE_PARTITIONS = 8  # `resolve --engine spark` without --shuffle-partitions (spark_io.run's default)
SPARK_DRIVER_MEMORY = "4g"  # ... without --driver-memory (spark.session's default)


def run_resolve(manifest_path: Path, out_dir: Path, settings: Settings, step=lambda name: None,
                engine: str = "embedded", master: str = "local[*]", parquet: bool = False,
                shuffle_partitions: int | None = None, driver_memory: str | None = None) -> dict:
    """The whole job. Python's cyclic garbage collector is paused meanwhile: the job makes
    millions of small tuples and dicts and no cycles, and each full collection walks them all,
    which made the run grow faster than the data. engine="spark" runs the same stages on Spark
    (linkage.spark, at `master`, with `shuffle_partitions` partitions per shuffle: 8 if None, and
    `driver_memory` of heap: 4g if None), which writes the report itself."""
    if engine == "spark":
        from creditgraph.linkage import spark_io
        decisions = DecisionLog(settings.decisions_path).latest()
        partitions = shuffle_partitions or SPARK_SHUFFLE_PARTITIONS
        heap = driver_memory or SPARK_DRIVER_MEMORY
        report = spark_io.run(manifest_path, out_dir, decisions, id_key(settings), step, master, parquet,
                              shuffle_partitions=partitions, driver_memory=heap)
        report["shuffle_partitions"], report["driver_memory"] = partitions, heap
        with write_private(out_dir / "run_report.json", encoding="utf-8") as f:
            f.write(json.dumps(report, ensure_ascii=False, indent=1, default=str))
        return report
    gc.disable()
    try:
        return _run_resolve(manifest_path, out_dir, settings, step)
    finally:
        gc.enable()


def _run_resolve(manifest_path: Path, out_dir: Path, settings: Settings, step) -> dict:
    started = time.perf_counter()
    step("loading exports")
    t = time.perf_counter()
    manifest = load_manifest(manifest_path)
    load = read_manifest(manifest)
    read = load.frames()
    frames = apply_removals(read, load.reports)  # removal exports end the records they name
    load_s = time.perf_counter() - t
    decisions = DecisionLog(settings.decisions_path).latest()
    resolution = resolve(frames, decisions, id_key(settings), step)
    step("incremental state")
    t = time.perf_counter()
    save_state(out_dir, read, resolution, decisions, [s.name for s in manifest.sources])
    resolution.kinds = {}  # large: not kept while the outputs are written
    resolution.report["timings_s"]["incremental_state"] = round(time.perf_counter() - t, 2)
    step("writing outputs")
    t = time.perf_counter()
    write_outputs(out_dir, resolution, frames["rejects"])
    resolution.report["timings_s"]["write"] = round(time.perf_counter() - t, 2)
    report = _report(load, resolution, decisions, load_s, time.perf_counter() - started)
    with write_private(out_dir / "run_report.json", encoding="utf-8") as f:
        f.write(json.dumps(report, ensure_ascii=False, indent=1, default=str))
    return report


def write_outputs(out_dir: Path, resolution: Resolution, rejects: pd.DataFrame) -> None:
    """Every output holds person data (names, masked numbers, birth dates; the vaults numbers in
    clear): each is written 0600 in a directory made 0700 (base.files)."""
    private_dir(out_dir)
    with ThreadPoolExecutor(max_workers=1) as beside:
        # the scored pairs for `creditgraph evaluate`'s threshold charts: mostly zlib, which lets
        # go of the GIL, so it compresses on the second core while the CSVs are written
        scored = beside.submit(sweep.save, out_dir, resolution.scored)
        for attr, name in OUTPUT_FILES.items():
            _write_atomic(getattr(resolution, attr), out_dir / name)
        shown, clear = mask_rejects(rejects)
        _write_atomic(shown, out_dir / "rejects.csv")
        _write_atomic(clear, out_dir / "rejects_vault.csv")
        _write_atomic(resolution.vault, out_dir / "identity_vault.csv")
        scored.result()


def _write_atomic(frame: pd.DataFrame, path: Path) -> None:
    """Write beside, then rename: a crash never leaves half a file for the graph loader."""
    with write_private(path, encoding="utf-8", newline="") as f:
        frame.to_csv(f, index=False)


def share_issues(issues: pd.DataFrame) -> dict:
    """run_report's `shares_over_100`: how many firms, the first SHARE_ISSUES_LISTED of them."""
    listed = issues.head(SHARE_ISSUES_LISTED)[["entity_id", "name", "shares_percent"]]
    return {"count": len(issues), "firms": listed.to_dict("records")}


def review_workload(review: pd.DataFrame, unlinked: pd.DataFrame, mentions: int) -> dict:
    """What the run leaves to stewards, against its size: queue items per 1,000 mentions, in all
    and per reason, and the mentions left unlinked (unlinked.csv) per reason."""
    per_mentions = max(mentions, 1)
    by_reason = review["reason"].value_counts().to_dict() if len(review) else {}
    per = {reason: round(k * 1000 / per_mentions, 3) for reason, k in sorted(by_reason.items())}
    return {"items": len(review), "mentions": mentions,
            "per_1000_mentions": {"total": round(len(review) * 1000 / per_mentions, 3), **per},
            "items_with_candidates": int((review.get("candidates", pd.Series(dtype=str)) != "").sum()),
            "unlinked": {"count": len(unlinked),
                         "by_reason": unlinked["reason"].value_counts().to_dict() if len(unlinked) else {}}}


def _report(load, resolution: Resolution, decisions: dict, load_s: float, total_s: float) -> dict:
    sources = [vars(r) for r in load.reports]
    read = sum(r["rows_read"] for r in sources)
    accepted = sum(r["accepted"] for r in sources)
    rejected = sum(r["rejected"] for r in sources)
    entities = resolution.entities
    return {
        "rows": {"read": read, "accepted": accepted, "rejected": rejected, "adds_up": read == accepted + rejected},
        # a missing, empty or unreadable export: the run went on without it, but it is no success
        "failed_sources": {r["source"]: r["error"] for r in sources if r["error"]},
        "sources": sources,
        "mentions": len(resolution.mentions),
        "entities": entities["kind"].value_counts().to_dict() if len(entities) else {},
        "relations": len(resolution.relations),
        "list_records": len(resolution.lists),
        "review_queue": resolution.review["reason"].value_counts().to_dict() if len(resolution.review) else {},
        "review_workload": review_workload(resolution.review, resolution.unlinked, len(resolution.mentions)),
        "shares_over_100": share_issues(resolution.share_issues),
        "decisions_applied": len(decisions),
        "timings_s": {"load": round(load_s, 2), **resolution.report["timings_s"], "total": round(total_s, 2)},
        "mentions_per_s": round(len(resolution.mentions) / total_s) if total_s else None,
        "linkage": {k: resolution.report[k] for k in ("enterprise", "person")},
    }
