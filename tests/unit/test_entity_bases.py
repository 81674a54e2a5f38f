"""Stable entity ids by column (resolve.entity_bases) equal what the loop over mentions with a
Counter and a set per cluster gave: the commonest primary identifier (a tie to the first seen),
else the least organisation code, else the least mention id."""
from __future__ import annotations

import hashlib
from collections import Counter, defaultdict

import numpy as np
import pandas as pd

from creditgraph.base.privacy import id_hash
from creditgraph.linkage.resolve import entity_bases

KEY = b"test-key"


def loop_bases(kind: str, m: pd.DataFrame, f: pd.DataFrame, key: bytes) -> tuple[dict, dict]:
    """The loop entity_bases replaced, as it was."""
    ident = f["uscc"] if kind == "enterprise" else f["id18"]
    idents, orgs, first = defaultdict(Counter), defaultdict(set), {}
    for cluster, value, hard, mid in zip(m["cluster"], ident, f["hard"], m["mention_id"]):
        if value:
            idents[cluster][value] += 1
        orgs[cluster].update(h[4:] for h in hard if h.startswith("org:"))
        if cluster not in first or mid < first[cluster]:
            first[cluster] = mid
    by_cluster = {}
    for cluster, mid in first.items():
        strongest = idents[cluster].most_common(1)[0][0] if idents[cluster] else None
        if kind == "person" and strongest:
            by_cluster[cluster] = "P-" + id_hash(strongest, key)[:16]
        elif strongest:
            by_cluster[cluster] = "E-" + strongest
        elif orgs[cluster]:
            by_cluster[cluster] = "E-O" + min(orgs[cluster])
        else:
            by_cluster[cluster] = kind[0].upper() + "-" + hashlib.sha1(mid.encode()).hexdigest()[:12]
    return by_cluster, first


def random_kind(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    idents = np.array(["", "", "91A", "91B", "91C"], dtype=object)
    orgs = ["org:B12", "org:A34", "reg:777", "id:1"]
    hard = [frozenset(rng.choice(orgs, int(rng.integers(0, 3)), replace=False).tolist()) for _ in range(n)]
    values = idents[rng.integers(0, len(idents), n)]
    m = pd.DataFrame({"cluster": rng.integers(0, max(n // 3, 1), n),
                      "mention_id": [f"src:{x}" for x in rng.permutation(10 * n)[:n]]})
    return m, pd.DataFrame({"uscc": values, "id18": values, "hard": hard})


def test_bases_by_column_equal_the_loop_on_random_clusters():
    rng = np.random.default_rng(7)
    for _ in range(200):
        m, f = random_kind(rng, int(rng.integers(1, 50)))
        for kind in ("enterprise", "person"):
            assert entity_bases(kind, m, f, KEY) == loop_bases(kind, m, f, KEY)


def test_the_commonest_identifier_wins_a_tie_goes_to_the_first_seen_and_none_to_the_least_org():
    m = pd.DataFrame({"cluster": [4, 4, 4, 4, 9], "mention_id": ["b", "a", "c", "d", "e"]})
    f = pd.DataFrame({"uscc": ["", "91Z", "91Y", "91Y", ""], "id18": [""] * 5,
                      "hard": [frozenset(), frozenset(), frozenset(), frozenset(), frozenset({"org:Q", "org:P"})]})
    bases, first = entity_bases("enterprise", m, f, KEY)
    assert bases == {4: "E-91Y", 9: "E-OP"} and first == {4: "a", 9: "e"}
    f["uscc"] = ["", "91Z", "91Y", "", ""]  # one each: the first seen
    assert entity_bases("enterprise", m, f, KEY)[0][4] == "E-91Z"
    f["uscc"] = ["", "91Y", "91Z", "", ""]
    assert entity_bases("enterprise", m, f, KEY)[0][4] == "E-91Y"
