"""Blocking: candidate pairs are records that share at least one key.

Each record emits several keys (identifier halves, trade-name sound, name + firm, ...), so a typo
in one field still leaves another key in common: recall comes from the union of keys. Blocks
larger than `max_block` are skipped and reported, since they say little and cost n^2.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from creditgraph.base.frames import sorted_unique


@dataclass
class Candidates:
    left: np.ndarray
    right: np.ndarray
    skipped_blocks: dict[str, int]


def candidate_pairs(keys: list[list[str]], max_block: int = 200, groups: np.ndarray | None = None) -> Candidates:
    """keys[i] lists record i's blocking keys; with groups, only pairs across groups (linking)."""
    rec = np.repeat(np.arange(len(keys)), [len(k) for k in keys])
    flat = [key for ks in keys for key in ks]
    if not flat:
        return Candidates(np.empty(0, np.int64), np.empty(0, np.int64), {})
    frame = pd.DataFrame({"key": flat, "rec": rec}).drop_duplicates()
    codes, uniques = pd.factorize(frame["key"])
    sizes = np.bincount(codes)
    skipped = {uniques[c]: int(sizes[c]) for c in np.nonzero(sizes > max_block)[0]}
    keep = (sizes[codes] >= 2) & (sizes[codes] <= max_block)
    codes, recs = codes[keep], frame["rec"].to_numpy()[keep]
    order = np.argsort(codes, kind="stable")
    codes, recs = codes[order], recs[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    lengths = np.diff(np.r_[starts, len(codes)])
    lefts, rights = [], []
    for n in sorted_unique(lengths).tolist():  # the blocks of one size as rows of a matrix: one
        blocks = recs[starts[lengths == n][:, None] + np.arange(n)]  # triu_indices per size, not per block
        i, j = np.triu_indices(n, 1)
        lefts.append(blocks[:, i].ravel())
        rights.append(blocks[:, j].ravel())
    if not lefts:
        return Candidates(np.empty(0, np.int64), np.empty(0, np.int64), skipped)
    left, right = np.concatenate(lefts), np.concatenate(rights)
    left, right = np.minimum(left, right), np.maximum(left, right)
    if groups is not None:
        across = groups[left] != groups[right]
        left, right = left[across], right[across]
    pair = sorted_unique(left.astype(np.int64) * len(keys) + right)
    return Candidates(pair // len(keys), pair % len(keys), skipped)
