"""Constrained clustering of scored record pairs.

Greedy merging in descending score order (a union-find), with three guards:
- cannot-link: two records whose hard identifiers differ, or that a steward said are different,
  never end up in one cluster;
- no chaining through one weak link: two clusters that each hold several records merge only when
  the edge is strong or more than half of the scored pairs between them are matches;
- ambiguity: a record matching two clusters that cannot be together goes to review instead.
An exact normalised name outranks a fuzzy one (`rank`): a name-only mention that spells one firm's
name exactly goes to that firm, whatever a fuzzy match to a similar firm scores near 1.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np


class UnionFind:
    def __init__(self, n: int):
        self.parent = np.arange(n)

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return int(root)

    def union(self, a: int, b: int) -> int:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)
        return min(ra, rb)


@dataclass
class ClusterResult:
    labels: np.ndarray          # cluster root per record
    accepted: np.ndarray        # bool per pair: merged on this edge (or already together)
    ambiguous: np.ndarray       # bool per pair: demoted to review for ambiguity
    blocked: np.ndarray         # bool per pair: a match refused by cannot-link
    outweighed: np.ndarray      # bool per pair: lost clearly to a better, incompatible match


@dataclass
class ClusterInputs:
    """Everything `cluster` is given besides the threshold: kept with a link's result so that
    the evaluation report can re-cluster the same scored pairs at other match thresholds."""
    n: int
    left: np.ndarray
    right: np.ndarray
    prob: np.ndarray
    log_odds: np.ndarray
    hard_ids: list[frozenset]
    cannot: set[tuple[int, int]]
    must: list[tuple[int, int]]
    rank: np.ndarray | None = None
    one_per_group: np.ndarray | None = None

    def run(self, threshold: float) -> "ClusterResult":
        return cluster(self.n, self.left, self.right, self.prob, threshold, self.hard_ids, self.cannot,
                       self.must, log_odds=self.log_odds, rank=self.rank, one_per_group=self.one_per_group)


def cluster(n: int, left: np.ndarray, right: np.ndarray, prob: np.ndarray, threshold: float,
            hard_ids: list[frozenset], cannot: set[tuple[int, int]] = frozenset(),
            must: list[tuple[int, int]] = (), strong: float = 0.999,
            log_odds: np.ndarray | None = None, margin: float = 2.0,
            one_per_group: np.ndarray | None = None, rank: np.ndarray | None = None) -> ClusterResult:
    """Cluster n records given scored pairs (left, right, prob) and constraints.

    hard_ids[i] is the set of identifiers record i carries that two different entities can never
    share (valid USCC/organisation code, identity number). cannot holds record pairs (i<j).
    one_per_group (linking deduplicated lists) allows a cluster one record from each group.
    rank (per pair, 0 best: the name's comparison level) orders matches before their score does.
    """
    rank = np.zeros(len(prob), np.int64) if rank is None else np.asarray(rank)
    uf = UnionFind(n)
    ids = {i: set(h) for i, h in enumerate(hard_ids) if h}
    groups = {i: {int(one_per_group[i])} for i in range(n)} if one_per_group is not None else None
    banned = defaultdict(set)
    for a, b in cannot:
        banned[a].add(b)
        banned[b].add(a)
    members = {i: {i} for i in range(n)}
    for a, b in must:
        _merge(uf, members, ids, banned, a, b)
    accepted = np.zeros(len(prob), bool)
    blocked = np.zeros(len(prob), bool)
    log_odds = np.log2(prob / np.maximum(1 - prob, 1e-300)) if log_odds is None else log_odds
    ambiguous, outweighed = _ambiguous(left, right, prob, threshold, hard_ids, log_odds, margin, rank)
    match_pairs = _match_counter(n, left, right, prob, threshold)
    # A record ambiguous between two identified entities waits for a steward: it merges with
    # nothing else either (two such leftovers would otherwise find each other on the name).
    undecided = set(left[ambiguous].tolist()) | set(right[ambiguous].tolist())
    undecided = {r for r in undecided if not hard_ids[r]}
    for k in np.lexsort((-prob, rank)):  # exact names first, then by score
        if prob[k] < threshold:
            continue
        if ambiguous[k] or outweighed[k] or left[k] in undecided or right[k] in undecided:
            continue
        a, b = uf.find(left[k]), uf.find(right[k])
        if a == b:
            accepted[k] = True
            continue
        if _conflict(ids.get(a), ids.get(b)) or _banned(members[a], members[b], banned) \
                or (groups is not None and groups[a] & groups[b]):
            blocked[k] = True
            continue
        if prob[k] < strong and min(len(members[a]), len(members[b])) > 1 \
                and not _well_supported(members[a], members[b], match_pairs):
            continue
        _merge(uf, members, ids, banned, a, b)
        if groups is not None:
            root = uf.find(a)
            groups[root] = groups.pop(b if root == a else a) | groups[a if root == a else b]
        accepted[k] = True
    labels = np.array([uf.find(i) for i in range(n)])
    return ClusterResult(labels, accepted, ambiguous, blocked, outweighed)


def _merge(uf, members, ids, banned, a, b):
    ra, rb = uf.find(a), uf.find(b)
    if ra == rb:
        return
    root = uf.union(ra, rb)
    other = rb if root == ra else ra
    members[root] |= members.pop(other)
    merged = ids.pop(other, set()) | ids.get(root, set())
    if merged:
        ids[root] = merged


def _conflict(x: set | None, y: set | None) -> bool:
    """Two clusters conflict when each carries a hard id and they share none of them."""
    return bool(x) and bool(y) and not (x & y)


def _banned(ma: set, mb: set, banned: dict) -> bool:
    small, large = (ma, mb) if len(ma) <= len(mb) else (mb, ma)
    return any(banned.get(i, set()) & large for i in small)


def _match_counter(n: int, left, right, prob, threshold) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each record, its scored partners and whether each pair is a match: record i's are
    partner[start[i]:start[i + 1]] and is_match[...]: arrays, where a dict per record held every
    scored pair twice (8.4M entries for persons at 2M mentions)."""
    ends = np.r_[left, right].astype(np.int64)
    order = np.argsort(ends, kind="stable")
    start = np.searchsorted(ends[order], np.arange(n + 1))
    partner = np.r_[right, left].astype(np.int64)[order]
    is_match = np.r_[prob >= threshold, prob >= threshold][order]
    return start, partner, is_match


def _well_supported(ma: set, mb: set, partners) -> bool:
    """More than half of the scored pairs between the two clusters are matches (each pair once:
    the candidate pairs are distinct)."""
    start, partner, is_match = partners
    scored = matched = 0
    for i in ma:
        a, b = start[i], start[i + 1]
        for j, hit in zip(partner[a:b].tolist(), is_match[a:b].tolist()):
            if j in mb:
                scored += 1
                matched += hit
    return scored > 0 and matched * 2 > scored


def _ambiguous(left, right, prob, threshold, hard_ids, log_odds, margin, rank) -> tuple[np.ndarray, np.ndarray]:
    """A record without a hard id that matches records with different hard ids: the best match
    (best rank, then most evidence) stands when it beats every incompatible one on rank or by
    `margin` bits of evidence (the others are outweighed); otherwise all go to review as ambiguous."""
    ambiguous = np.zeros(len(prob), bool)
    outweighed = np.zeros(len(prob), bool)
    strong_to = defaultdict(list)
    for k in np.nonzero(prob >= threshold)[0]:
        a, b = int(left[k]), int(right[k])
        if not hard_ids[a] and hard_ids[b]:
            strong_to[a].append(k)
        elif not hard_ids[b] and hard_ids[a]:
            strong_to[b].append(k)
    for rec, edges in strong_to.items():
        if len(edges) < 2:
            continue
        edges = sorted(edges, key=lambda k: (rank[k], -log_odds[k]))
        other = lambda k: hard_ids[int(right[k]) if int(left[k]) == rec else int(left[k])]
        best = other(edges[0])
        rivals = [k for k in edges[1:] if _conflict(set(best), set(other(k)))]
        if not rivals:
            continue
        if all(rank[k] > rank[edges[0]] or log_odds[edges[0]] - log_odds[k] >= margin for k in rivals):
            outweighed[rivals] = True
        else:
            ambiguous[[edges[0], *rivals]] = True
    return ambiguous, outweighed
