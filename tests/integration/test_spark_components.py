"""The Spark engine's connected components (large-star / small-star rounds as joins) against
scipy's on the graphs that are hard for them: a long chain, whose ids are shuffled so that least
labels have far to travel, a random sparse graph, stars, nodes in no edge, and no edges at all."""
from __future__ import annotations

import math

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from creditgraph.linkage import spark as spark_engine


def _spark_labels(spark, tmp_path, edges: list[tuple[int, int]], nodes: list[int]) -> tuple[dict, int]:
    stage = spark_engine._Stages(spark, tmp_path)
    e = spark.createDataFrame(edges, "src long, dst long")
    n = spark.createDataFrame([(i,) for i in nodes], "id long")
    labels = spark_engine.components(e, n, stage, "test")
    return {r["id"]: r["comp"] for r in labels.collect()}, stage.rounds["test"]


def _least_labels(edges: list[tuple[int, int]], nodes: list[int]) -> dict:
    """Each node's least id of its component, from scipy."""
    size = max(nodes) + 1
    src, dst = (np.array(side, dtype=np.int64) for side in zip(*edges)) if edges else (np.empty(0, int),) * 2
    graph = coo_matrix((np.ones(len(src)), (src, dst)), shape=(size, size))
    comp = connected_components(graph, directed=False)[1]
    least = {}
    for node in sorted(nodes):
        least.setdefault(comp[node], node)
    return {node: least[comp[node]] for node in nodes}


def test_a_long_chain_settles_in_few_rounds(spark, tmp_path):
    n = 3000
    ids = np.random.default_rng(1).permutation(n).tolist()
    edges = list(zip(ids, ids[1:]))
    labels, rounds = _spark_labels(spark, tmp_path, edges, list(range(n)))
    assert labels == {i: 0 for i in range(n)}
    # min-label propagation needs about a round per step labels travel; these rounds grow as
    # log n in practice (9 here, 11 for a chain of 30,000)
    assert rounds <= 2 * math.ceil(math.log2(n))


def test_a_random_sparse_graph_has_scipys_components(spark, tmp_path):
    rng = np.random.default_rng(2)
    n = 4000
    edges = [tuple(map(int, e)) for e in rng.integers(0, n, size=(3000, 2))]  # self-loops and repeats among them
    edges += [(10, 20), (20, 30), (30, 10), (3999, 3998)]
    nodes = list(range(n))
    labels, _ = _spark_labels(spark, tmp_path, edges, nodes)
    expected = _least_labels(edges, nodes)
    assert labels == expected
    assert len(set(expected.values())) > 1000  # many components, most of them single nodes


def test_stars_nodes_without_edges_and_no_edges(spark, tmp_path):
    star = [(7, leaf) for leaf in range(8, 40)] + [(50, 41)]
    labels, rounds = _spark_labels(spark, tmp_path, star, list(range(60)))
    assert labels == _least_labels(star, list(range(60)))
    assert labels[41] == 41 and labels[50] == 41 and labels[8] == 7 and labels[3] == 3
    assert rounds == 0  # already stars under their least ids
    labels, rounds = _spark_labels(spark, tmp_path / "none", [], [5, 6])
    assert labels == {5: 5, 6: 6} and rounds == 0
