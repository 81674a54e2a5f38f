"""The clustering's support test between two clusters (cluster._well_supported) over its partner
arrays gives what a dict of every record's partners gave; the extra pairs a link scores are
added once each (engine._with_pairs)."""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from creditgraph.linkage import cluster
from creditgraph.linkage.engine import _with_pairs


def dict_support(left, right, prob, threshold, ma: set, mb: set) -> bool:
    partners = defaultdict(dict)
    for a, b, p in zip(left.tolist(), right.tolist(), prob.tolist()):
        partners[a][b] = partners[b][a] = p >= threshold
    scored = matched = 0
    for i in ma:
        for j, is_match in partners.get(i, {}).items():
            if j in mb:
                scored += 1
                matched += is_match
    return scored > 0 and matched * 2 > scored


def random_pairs(rng, n: int, k: int):
    codes = np.unique(rng.integers(0, n * n, k))
    left, right = codes // n, codes % n
    keep = left < right
    return left[keep], right[keep], rng.random(int(keep.sum()))


def test_support_between_clusters_equals_a_dict_of_partners_on_random_graphs():
    rng = np.random.default_rng(11)
    answers = set()
    for _ in range(300):
        n = int(rng.integers(2, 30))
        left, right, prob = random_pairs(rng, n, int(rng.integers(1, 80)))
        partners = cluster._match_counter(n, left, right, prob, 0.5)
        records = rng.permutation(n)
        cut = int(rng.integers(1, n))
        ma, mb = set(records[:cut].tolist()), set(records[cut:].tolist())
        expected = dict_support(left, right, prob, 0.5, ma, mb)
        assert cluster._well_supported(ma, mb, partners) == expected
        answers.add(expected)
    assert answers == {True, False}  # both answers were exercised


def test_extra_pairs_are_added_after_the_candidates_once_and_only_when_new():
    left, right = np.array([0, 1, 2]), np.array([5, 3, 4])
    l2, r2 = _with_pairs(left, right, [(1, 3), (0, 6), (0, 6), (2, 7)])
    assert list(zip(l2.tolist(), r2.tolist())) == [(0, 5), (1, 3), (2, 4), (0, 6), (2, 7)]
    same = _with_pairs(left, right, [(2, 4)])
    assert same[0] is left and same[1] is right
