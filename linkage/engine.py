"""One linkage run over prepared records: block, compare, fit, score, cluster.

Kind-agnostic: the city's enterprises and persons and the public Febrl benchmarks all go through
`link`, each with its own model file and record preparation.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from creditgraph.linkage.blocking import Candidates, candidate_pairs
from creditgraph.linkage.cluster import ClusterInputs
from creditgraph.linkage.compare import compare_pairs
from creditgraph.linkage.model import MISSING, MatchModel, probability_of


@dataclass
class Records:
    """Records to link: field values as tuples, blocking keys, hard identifiers, representatives."""
    values: dict[str, list[tuple]]
    keys: list[list[str]]
    hard_ids: list[frozenset]
    rep: list[str]                       # a stable representative id per record (its least mention id)
    groups: np.ndarray | None = None     # dataset per record, when linking rather than deduplicating
    conflicts: list[tuple[int, int, str]] = field(default_factory=list)  # (a, b, key): a < b share
    # a secondary identifier `key` but their primary ones differ: kept apart, a pair for review

    def __len__(self) -> int:
        return len(self.keys)


@dataclass
class LinkResult:
    labels: np.ndarray                   # cluster per record
    pairs: pd.DataFrame                  # left, right, prob, status; one row per scored pair
    levels: np.ndarray                   # comparison levels per scored pair
    model: MatchModel
    stats: dict = field(default_factory=dict)
    inputs: ClusterInputs | None = None  # what clustered the pairs, to re-cluster at other thresholds


@dataclass
class Training:
    """Pairs known to match, for m: single-mention values and index pairs into them."""
    values: dict[str, list[tuple]]
    left: np.ndarray
    right: np.ndarray
    defining_fields: set[str]           # the fields that made these pairs match


def link(model: MatchModel, records: Records, cannot=(), must=(), max_block: int = 200,
         training: Training | None = None, seed: int = 0, one_to_one: bool = False,
         fit: bool = True) -> LinkResult:
    """Score and cluster records. u always comes from random pairs; m from `training` when
    given (identifier-confirmed pairs), else from EM on the candidate pairs. The model passed in
    is left as it is: the result holds the fitted copy. fit=False scores with the model as
    given (an incremental ingest reuses the full run's fitted model: linkage.incremental)."""
    model = model.copy()
    cands = candidate_pairs(records.keys, max_block=max_block, groups=records.groups)
    return link_candidates(model, records, cands, cannot, must, training, seed, one_to_one, fit)


def link_candidates(model: MatchModel, records: Records, cands: Candidates, cannot=(), must=(),
                    training: Training | None = None, seed: int = 0, one_to_one: bool = False,
                    fit: bool = True) -> LinkResult:
    """`link` after blocking, on candidate pairs found elsewhere (linkage.spark blocks over the
    whole data set, then links each connected component of the pairs); fits `model` in place."""
    left, right = _with_pairs(cands.left, cands.right, [(a, b) for a, b, _ in records.conflicts])
    levels = compare_pairs(model, records.values, left, right)
    em = _fit(model, records, levels, training, seed) if fit else {"fitted": "reused"}
    odds = model.log_odds(levels)
    prob = probability_of(odds)
    em.setdefault("match_share", round(float(prob.mean()), 4) if len(prob) else 0.0)  # as scored
    inputs = ClusterInputs(len(records), left, right, prob, odds, records.hard_ids,
                           set(cannot) | {(a, b) for a, b, _ in records.conflicts}, list(must),
                           rank=_name_rank(model, levels), one_per_group=records.groups if one_to_one else None)
    result = inputs.run(model.match_threshold)
    status = np.where(result.accepted, "match", np.where(prob >= model.review_threshold, "uncertain", "no_match"))
    status = np.where(result.ambiguous, "ambiguous", np.where(result.blocked, "conflict", status))
    status = np.where(result.outweighed, "outweighed", status)
    status = np.where(_among(left, right, records.conflicts, len(records)), "conflict", status)
    pairs = pd.DataFrame({"left": left, "right": right, "prob": prob, "status": status})
    stats = {"records": len(records), "pairs": len(pairs), "em": em,
             "skipped_blocks": len(cands.skipped_blocks),
             "largest_skipped": sorted(cands.skipped_blocks.items(), key=lambda kv: -kv[1])[:5],
             "status": pairs["status"].value_counts().to_dict()}
    return LinkResult(result.labels, pairs, levels, model, stats, inputs)


def _fit(model: MatchModel, records: Records, levels: np.ndarray, training: Training | None, seed: int) -> dict:
    """u from random pairs; m from the training pairs, else EM; the prior where the model fits it."""
    if len(records) >= 200:  # fewer records give too few distinct random pairs: keep starting u
        model.estimate_u(_random_levels(model, records, seed))
    if training is not None and len(training.left) >= 100:
        model.estimate_m(compare_pairs(model, training.values, training.left, training.right),
                         training.defining_fields)
        em = {"m_from": f"{len(training.left)} identifier-confirmed pairs", "u_from": "random pairs"}
    else:
        em = _fit_em(model, levels, _total_pairs(records))
    if model.prior_from == "em":
        em["prior"] = model.fit_prior(levels, _total_pairs(records))
        em["match_share"] = em["prior"]["match_share"]
    if em.get("iterations"):
        model.check_fit(em["match_share"])
    return em


def _name_rank(model: MatchModel, levels: np.ndarray) -> np.ndarray | None:
    """Per pair, the level of the model's `name` field (0 exact; missing ranks last): the
    clustering places a record by the exact name before any fuzzy one."""
    j = next((j for j, f in enumerate(model.fields) if f.name == "name"), None)
    if j is None:
        return None
    return np.where(levels[:, j] == MISSING, len(model.fields[j].levels), levels[:, j])


def _fit_em(model: MatchModel, levels: np.ndarray, total_pairs: float) -> dict:
    """EM for m (u from random pairs); with prior_from: rules, the prior fixed from the
    deterministic rules meanwhile, then set to the global prior they give."""
    rules = model.rules_prior(levels, total_pairs) if model.prior_from == "rules" else None
    em = {**model.fit_em(levels, fix_u=True), "u_from": "random pairs"}
    if rules:
        model.prior = rules["global_prior"]
        em["prior"] = {**rules, "from": "deterministic rules"}
    return em


def _with_pairs(left: np.ndarray, right: np.ndarray, extra: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """The candidate pairs, then those of `extra` (a < b) not among them, each pair compared as
    one integer, not as a set of the candidates' tuples (4.2M of them for persons at 2M)."""
    extra = list(dict.fromkeys(extra))
    if not extra:
        return left, right
    a, b = np.array(extra, dtype=np.int64).T
    n = int(max(left.max(initial=0), right.max(initial=0), a.max(), b.max())) + 1
    new = ~np.isin(a * n + b, left.astype(np.int64) * n + right.astype(np.int64))
    if not new.any():
        return left, right
    return np.r_[left, a[new]], np.r_[right, b[new]]


def _among(left: np.ndarray, right: np.ndarray, pairs: list[tuple], n: int) -> np.ndarray:
    """Per scored pair, whether it is one of `pairs` (a < b first)."""
    codes = np.array([a * n + b for a, b, *_ in pairs], dtype=np.int64)
    return np.isin(left.astype(np.int64) * n + right, codes)


def _total_pairs(records: Records) -> float:
    if records.groups is None:
        return len(records) * (len(records) - 1) / 2
    sizes = np.bincount(records.groups).astype(float)
    return (sizes.sum() ** 2 - (sizes ** 2).sum()) / 2


def _random_levels(model: MatchModel, records: Records, seed: int) -> np.ndarray:
    if len(records) < 2:
        return np.empty((0, len(model.fields)), dtype=np.int64)
    left, right = random_pairs(len(records), seed, records.groups)
    return compare_pairs(model, records.values, left, right)


def random_pairs(size: int, seed: int, groups: np.ndarray | None = None, n: int = 20000):
    """The random record pairs u is fitted on, by record index (linkage.spark fetches these
    records from a distributed data set numbered as `Records` are)."""
    rng = np.random.default_rng(seed)
    left, right = rng.integers(0, size, n), rng.integers(0, size, n)
    keep = groups[left] != groups[right] if groups is not None else left != right
    return left[keep], right[keep]
