"""benchmarks/pair_components.py: the components of a scored-pair graph, every pair and above
each threshold's weight (a weak pair chaining two firms joins their components only in the first)."""
import numpy as np
import pytest

from benchmark_scripts import load_benchmark
from creditgraph.linkage.cluster import ClusterInputs
from creditgraph.linkage.sweep import ScoredKind


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("pair_components")


def prob_of(weight: float) -> float:
    return 2 ** weight / (1 + 2 ** weight)


def test_components_shrink_as_weak_pairs_are_left_out(bench):
    weights = np.array([10.0, -5.0, 10.0, 1.0])  # 0-1 match, 1-2 weak, 2-3 match, 3-4 worth a review
    inputs = ClusterInputs(5, np.array([0, 1, 2, 3]), np.array([1, 2, 3, 4]), prob_of(weights), weights,
                           [frozenset()] * 5, set(), [])
    s = ScoredKind(inputs, np.array(["m0", "m1", "m2", "m3", "m4"], object), np.arange(5), np.zeros(4, np.int64),
                   match_threshold=prob_of(6.0), review_threshold=prob_of(0.0))
    row = bench.of_kind(s)
    assert row["records"] == 5
    assert row["every_scored_pair"]["largest"] == 5 and row["every_scored_pair"]["components"] == 1
    assert row["at_least_review"]["top5"] == [3, 2] and row["at_least_review"]["pairs"] == 3
    assert row["at_least_match"]["top5"] == [2, 2, 1] and row["at_least_match"]["largest_share_of_records"] == 0.4
