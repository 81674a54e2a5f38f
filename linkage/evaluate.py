"""Pairwise and B-cubed precision, recall and F1 of a resolution against the generator's truth.

Counted from the contingency table of (predicted entity, true entity) so that it costs
O(mentions), not O(pairs): pairs within a predicted cluster = sum C(n, 2) over its cells.
Pairwise weighs a cluster of n mentions by n^2; B-cubed weighs every mention once, so both are shown.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from creditgraph.base.files import write_private

KEY = ["source", "record_id", "role"]


def _pairs(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def pairwise(predicted: pd.Series, truth: pd.Series) -> dict:
    frame = pd.DataFrame({"p": predicted.to_numpy(), "t": truth.to_numpy()})
    tp = _pairs(frame.groupby(["p", "t"]).size())
    pred = _pairs(frame.groupby("p").size())
    true = _pairs(frame.groupby("t").size())
    precision = tp / pred if pred else 1.0
    recall = tp / true if true else 1.0
    return {"precision": round(precision, 5), "recall": round(recall, 5), "f1": round(_f1(precision, recall), 5),
            "true_pairs": true, "predicted_pairs": pred, "correct_pairs": tp}


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def bcubed(predicted: pd.Series, truth: pd.Series) -> dict:
    """Per mention: |its predicted cluster & its true cluster| over |predicted| (precision) and over
    |true| (recall), averaged over mentions."""
    frame = pd.DataFrame({"p": predicted.to_numpy(), "t": truth.to_numpy()})
    if frame.empty:
        return {"bcubed_precision": 1.0, "bcubed_recall": 1.0, "bcubed_f1": 1.0}
    both = frame.groupby(["p", "t"], dropna=False)["p"].transform("size")
    precision = float((both / frame.groupby("p", dropna=False)["p"].transform("size")).mean())
    recall = float((both / frame.groupby("t", dropna=False)["t"].transform("size")).mean())
    return {"bcubed_precision": round(precision, 5), "bcubed_recall": round(recall, 5),
            "bcubed_f1": round(_f1(precision, recall), 5)}


def evaluate(mentions: pd.DataFrame, truth: pd.DataFrame, kinds: pd.Series | None = None,
             examples: int = 10) -> dict:
    """mentions: KEY + entity_id (+ kind); truth: KEY + entity_id. Per kind and overall."""
    truth = truth.astype({"record_id": str})
    joined = mentions.astype({"record_id": str}).merge(truth, on=KEY, suffixes=("", "_true"), how="inner")
    out = {"mentions_scored": len(joined), "mentions_without_truth": len(mentions) - len(joined)}
    for kind, group in joined.groupby("kind"):
        out[kind] = pairwise(group["entity_id"], group["entity_id_true"])
        out[kind].update(bcubed(group["entity_id"], group["entity_id_true"]))
        out[kind]["false_merges"] = false_merges(group, examples)
        out[kind]["missed_merges"] = missed_merges(group, examples)
    return out


def false_merges(joined: pd.DataFrame, limit: int) -> list[dict]:
    """Predicted entities that hold mentions of more than one true entity."""
    return _mixed(joined, "entity_id", "entity_id_true", limit, ("entity_id", "true_entities"))


def missed_merges(joined: pd.DataFrame, limit: int) -> list[dict]:
    """True entities split over several predicted entities."""
    return _mixed(joined, "entity_id_true", "entity_id", limit, ("true_entity", "entities"))


def _mixed(joined: pd.DataFrame, by: str, other: str, limit: int, names: tuple[str, str]) -> list[dict]:
    counts = joined.groupby(by)[other].nunique()
    rows = []
    for key in counts[counts > 1].index[:limit]:
        group = joined[joined[by] == key]
        rows.append({names[0]: key, names[1]: sorted(set(group[other]))[:5], "names": sorted(set(group["name"]))[:5]})
    return rows


def save(result: dict, out_dir: Path) -> None:
    """`out_dir/evaluation.json`, 0600: its false and missed merges name persons."""
    with write_private(Path(out_dir) / "evaluation.json", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, indent=1)
