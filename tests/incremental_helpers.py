"""A synthetic city resolved in full, three daily batches, and the comparisons an ingest must pass
(tests/unit/test_incremental.py, tests/integration/test_apply_changes.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from creditgraph.base.settings import Settings, id_key
from creditgraph.linkage.decisions import DecisionLog
from creditgraph.linkage.incremental import _with_removals, ingest, load_state
from creditgraph.linkage.resolve import resolve
from creditgraph.loaders.manifest import load_manifest
from creditgraph.loaders.reader import read_manifest
from creditgraph.pipeline import run_resolve
from creditgraph.synth.batches import make_batches
from creditgraph.synth.generate import generate

TEST_KEY = "incremental-test-key-0123456789abcdef"
KEYS = {"entities.csv": ["entity_id"], "relations.csv": ["from_id", "to_id", "type", "role"],
        "list_records.csv": ["record_uid"], "identity_vault.csv": ["entity_id", "id_number"],
        "review_queue.csv": ["pair_id"], "mentions.csv": ["mention_id"]}


def city(root: Path, enterprises: int = 2000, persons: int = 3000, rows: int = 150) -> dict:
    """The city, its full resolve (DIR full/), the batches and the final exports."""
    settings = Settings(data=root / "data", id_key=TEST_KEY)
    generate(root / "city", enterprises=enterprises, persons=persons, seed=7)
    run_resolve(root / "city" / "manifest.yaml", root / "full", settings)
    batches = make_batches(root / "city", root / "batches", batches=3, rows=rows, snapshot=("tax",))
    return {"root": root, "settings": settings, "full": root / "full", "batches": batches,
            "final": root / "batches" / "final" / "manifest.yaml"}


def ingest_all(c: dict, into: Path, each=lambda n, changes: None) -> list[dict]:
    """Copy the full output to `into` and ingest every batch into it, in order."""
    shutil.rmtree(into, ignore_errors=True)
    shutil.copytree(c["full"], into)
    out = []
    for n, batch in enumerate(c["batches"], start=1):
        changes = ingest(batch, into, _decisions(c), id_key(c["settings"]))
        each(n, changes)
        out.append(changes)
    return out


def _decisions(c: dict) -> dict:
    return DecisionLog(c["settings"].decisions_path).latest()


def full_of_final(c: dict, into: Path):
    """One full resolve of the final exports, scored with the models the ingests reused."""
    frames = _with_removals(read_manifest(load_manifest(c["final"])).frames())  # as run_resolve reads them
    return resolve(frames, _decisions(c), id_key(c["settings"]), models=load_state(into).models)


def as_full(resolution) -> dict[str, pd.DataFrame]:
    return {"entities.csv": resolution.entities, "relations.csv": resolution.relations,
            "list_records.csv": resolution.lists, "identity_vault.csv": resolution.vault,
            "review_queue.csv": resolution.review, "mentions.csv": resolution.mentions}


def differences(out_dir: Path, full: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Per output file, the rows that one side has and the other has not (empty when equal)."""
    diffs = {}
    for name, keys in KEYS.items():
        mine = _text(pd.read_csv(out_dir / name, dtype=str, keep_default_na=False))
        theirs = _text(full[name])[mine.columns]
        merged = mine.merge(theirs, how="outer", indicator=True)
        diffs[name] = merged[merged["_merge"] != "both"].sort_values(keys)
    return diffs


def _text(frame: pd.DataFrame) -> pd.DataFrame:
    """Values as the CSV holds them (a float score 1.0 reads back as '1.0')."""
    return frame.astype(object).where(frame.notna(), "").astype(str).replace("nan", "")
