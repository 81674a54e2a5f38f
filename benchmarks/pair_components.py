"""How large the connected components of each kind's scored-pair graph are: the unit the Spark
engine partitions its clustering by (linkage/spark.py, `components`), so a task holds at least
the largest one.

    python benchmarks/pair_components.py OUT [OUT ...] [--out benchmarks/results/pair_components.json]

OUT is an embedded `creditgraph resolve` output (it reads `scored_pairs.npz`: every pair the
clustering was given, with its weight). Per kind: the records, and the components (count, largest,
the five largest) of the graph of
- every scored pair (what the Spark engine's components were built from until `ab43d3b`),
- the pairs at or above the review threshold's weight (what the review queue can show),
- the pairs at or above the match threshold's weight (what the clustering can merge on).
The engine now builds them from pairs at or above the lower of the two (with conflicts and
decisions); why that floor keeps the clustering and the queue exact is argued in docs/scale.md.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from city_vs_splink import commit, machine
from creditgraph.linkage import sweep


def component_sizes(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    return np.bincount(connected_components(graph, directed=False)[1])


def describe(sizes: np.ndarray, pairs: int) -> dict:
    top = np.sort(sizes)[::-1]
    return {"pairs": pairs, "components": len(sizes), "largest": int(top[0]) if len(top) else 0,
            "largest_share_of_records": round(float(top[0]) / int(sizes.sum()), 4) if len(top) else 0.0,
            "top5": top[:5].tolist()}


def of_kind(s: sweep.ScoredKind) -> dict:
    i = s.inputs
    floors = {"review": sweep.weight_of(s.review_threshold), "match": sweep.weight_of(s.match_threshold)}
    row = {"records": int(i.n), "weights": {k: round(v, 2) for k, v in floors.items()},
           "every_scored_pair": describe(component_sizes(i.n, i.left, i.right), len(i.left))}
    for name, floor in floors.items():
        keep = i.log_odds >= floor
        row[f"at_least_{name}"] = describe(component_sizes(i.n, i.left[keep], i.right[keep]), int(keep.sum()))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outputs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "pair_components.json")
    args = parser.parse_args()
    doc = {"benchmark": "pair_components", "commit": commit(), "machine": machine(), "load_average": os.getloadavg(),
           "outputs": {}}
    for out in args.outputs:
        kinds = sweep.load(out)
        if not kinds:
            raise SystemExit(f"{out}: no {sweep.FILE} (an embedded resolve output is needed)")
        doc["outputs"][str(out)] = {kind: of_kind(s) for kind, s in kinds.items()}
        for kind, row in doc["outputs"][str(out)].items():
            print(out, kind, row["records"], "records; largest component:",
                  {k: row[k]["largest"] for k in ("every_scored_pair", "at_least_review", "at_least_match")})
    args.out.write_text(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
