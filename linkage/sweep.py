"""The resolve's scored pairs at other thresholds, for the evaluation report.

resolve writes `scored_pairs.npz` (0600): per kind, what the clustering was given (record pairs,
their probability and log2 odds, the name rank, the constraints, the hard identifiers as codes,
never their values), each mention's record, and per pair whether it would wait for a steward
(`QUEUE_*`). From it `match_sweep` re-clusters at other match thresholds, exactly as resolve
does (at the threshold in use it gives resolve's entities), and `queue_sweep` counts the review
queue at other review thresholds, the clustering held at the match threshold in use.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from creditgraph.base.files import write_private
from creditgraph.base.frames import sorted_unique
from creditgraph.linkage.cluster import ClusterInputs
from creditgraph.linkage.engine import LinkResult
from creditgraph.linkage.evaluate import bcubed, pairwise
from creditgraph.linkage.model import probability_of

FILE = "scored_pairs.npz"
QUEUE_NEVER, QUEUE_ALWAYS, QUEUE_ABOVE = 0, 1, 2  # ALWAYS: ambiguous, conflict; ABOVE: if prob >= review
WEIGHTS = np.arange(-10, 21, 1.0)  # the thresholds swept, as match weights (log2 odds, bits)


@dataclass
class ScoredKind:
    inputs: ClusterInputs
    mention_ids: np.ndarray     # the kind's mentions
    record_of: np.ndarray       # each one's record
    queue: np.ndarray           # per pair: QUEUE_*
    match_threshold: float
    review_threshold: float
    item: np.ndarray | None = None  # per pair: the queue item it belongs to (triage.item_codes), -1 none


def scored_kind(link: LinkResult, mentions: pd.DataFrame, queue: np.ndarray, item: np.ndarray) -> ScoredKind:
    """mentions: the kind's, with mention_id and record. The ids stay the frame's own str objects
    (a fixed-width `<U` copy would hold 4 bytes a character, ~270 MB at 2M mentions, to the end)."""
    return ScoredKind(link.inputs, mentions["mention_id"].to_numpy(object), mentions["record"].to_numpy(np.int64),
                      queue, link.model.match_threshold, link.model.review_threshold, item)


def weight_of(prob: float) -> float:
    return float(np.log2(prob / (1 - prob)))


# -- the file ---------------------------------------------------------------------------------

def save(out_dir: Path, kinds: dict[str, ScoredKind]) -> None:
    arrays = {f"{kind}.{name}": value for kind, s in kinds.items() if s.inputs is not None
              for name, value in _arrays(s).items()}
    with write_private(Path(out_dir) / FILE, "wb") as f:
        np.savez_compressed(f, **arrays)


def load(resolved_dir: Path) -> dict[str, ScoredKind]:
    """Per kind; {} for a resolve output written before the file existed."""
    path = Path(resolved_dir) / FILE
    if not path.is_file():
        return {}
    with np.load(path, allow_pickle=False) as npz:
        by_kind: dict[str, dict] = {}
        for key in npz.files:
            kind, name = key.split(".", 1)
            by_kind.setdefault(kind, {})[name] = npz[key]
    return {kind: _from_arrays(a) for kind, a in by_kind.items()}


def _pairs_array(pairs) -> np.ndarray:
    return np.array(sorted(pairs), np.int64).reshape(-1, 2)


def _arrays(s: ScoredKind) -> dict[str, np.ndarray]:
    i = s.inputs
    codes: dict = {}  # each hard identifier as a number: what clustering compares, not the value
    hard = [(r, codes.setdefault(h, len(codes))) for r, ids in enumerate(i.hard_ids) for h in sorted(ids)]
    return {"n": np.array(i.n), "left": i.left, "right": i.right, "prob": i.prob, "log_odds": i.log_odds,
            "rank": np.array([] if i.rank is None else i.rank, np.int64),
            "groups": np.array([] if i.one_per_group is None else i.one_per_group, np.int64),
            "hard": np.array(hard, np.int64).reshape(-1, 2), "cannot": _pairs_array(i.cannot),
            "must": _pairs_array(i.must),
            "mention_ids": np.array([m.encode("utf-8") for m in s.mention_ids.tolist()], dtype=bytes),
            "record_of": s.record_of, "queue": s.queue.astype(np.int8), "item": _items(s),
            "thresholds": np.array([s.match_threshold, s.review_threshold])}


def _from_arrays(a: dict) -> ScoredKind:
    n = int(a["n"])
    hard: list[set] = [set() for _ in range(n)]
    for r, code in a["hard"].tolist():
        hard[r].add(code)
    inputs = ClusterInputs(n, a["left"], a["right"], a["prob"], a["log_odds"], [frozenset(h) for h in hard],
                           {tuple(p) for p in a["cannot"].tolist()}, [tuple(p) for p in a["must"].tolist()],
                           rank=a["rank"] if len(a["rank"]) else None,
                           one_per_group=a["groups"] if len(a["groups"]) else None)
    match, review = a["thresholds"].tolist()
    return ScoredKind(inputs, np.char.decode(a["mention_ids"], "utf-8"), a["record_of"], a["queue"], match, review,
                      a.get("item"))


def _items(s: ScoredKind) -> np.ndarray:
    """Per pair its queue item; a file written before items existed: each waiting pair its own."""
    if s.item is not None:
        return s.item.astype(np.int64)
    return np.where(s.queue != QUEUE_NEVER, np.arange(len(s.queue)), -1)


# -- the sweeps -------------------------------------------------------------------------------

def thresholds(in_use: float, upto: float | None = None) -> np.ndarray:
    """Probability thresholds: WEIGHTS as probabilities and the one in use; with `upto`, none
    past it and `upto` itself."""
    t = np.union1d(probability_of(WEIGHTS), [in_use])
    return t if upto is None else np.union1d(t[t <= upto], [upto])


def match_sweep(s: ScoredKind, truth: pd.Series, at: np.ndarray) -> pd.DataFrame:
    """Pairwise and B-cubed precision and recall of the entities re-clustered at each match
    threshold in `at`; truth: true entity per mention id (mentions it lacks are left out)."""
    known = pd.Index(s.mention_ids).isin(truth.index)
    records = s.record_of[known]
    true = pd.Series(truth.reindex(s.mention_ids[known]).to_numpy())
    rows = []
    for t in at:
        labels = pd.Series(s.inputs.run(float(t)).labels[records])
        rows.append({"threshold": float(t), "weight": weight_of(t), **pairwise(labels, true), **bcubed(labels, true)})
    return pd.DataFrame(rows)


def queue_sweep(s: ScoredKind, at: np.ndarray) -> pd.DataFrame:
    """Queue items waiting for a steward at each review threshold in `at` (at most the match
    threshold): the distinct items (`ScoredKind.item`) of the pairs waiting there."""
    prob, item = s.inputs.prob, _items(s)
    always = (s.queue == QUEUE_ALWAYS) & (item >= 0)
    above = (s.queue == QUEUE_ABOVE) & (item >= 0)
    items = [len(sorted_unique(item[always | (above & (prob >= t))])) for t in at]
    return pd.DataFrame({"threshold": at, "weight": [weight_of(t) for t in at], "items": items})
