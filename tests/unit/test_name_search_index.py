"""The embedded store's name search reads an index (graph/name_index.py), not every entity:
the same rows as scoring every entity, and only names sharing a key with the query are read."""
from __future__ import annotations

import pickle
import random
from pathlib import Path

import pytest
from rapidfuzz import fuzz

from creditgraph.graph import name_index
from creditgraph.graph.memory_store import MemoryStore
from creditgraph.graph.name_index import NameIndex, tokens
from creditgraph.graph.store import normalise_name

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "resolved_small"
ALPHABET = "营口市鑫达贸易有限公司华信建材张伟王李物流ABCab12"


def scan(entities, q: str, limit: int) -> list[dict]:
    """search_name by scoring every entity: the rule of the module doc, read literally."""
    query = normalise_name(q)
    grams = tokens(query)
    rows = []
    for eid, kind, name, names in entities:
        best = 0.0
        for n in filter(None, map(normalise_name, names)):
            if query in n:
                score = 1.0 + len(query) / len(n)
            else:
                score = len(grams & tokens(n)) / len(grams)
                if score == 0.0 and not name_index._HAN.search(query):
                    ratio = fuzz.partial_ratio(query, n)
                    score = ratio / 100.0 if ratio >= 80 else 0.0
            best = max(best, score)
        if best > 0:
            rows.append({"entity_id": eid, "kind": kind, "name": name, "score": round(best, 6)})
    rows.sort(key=lambda r: (-r["score"], r["entity_id"]))
    return rows[:limit]


def random_entities(rng: random.Random, n: int) -> list[tuple]:
    out = []
    for i in range(n):
        names = ["".join(rng.choices(ALPHABET, k=rng.randint(1, 12))) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.1:
            names.append(f"({names[0]}) ")   # the same name after normalising
        out.append((f"E-{i:05d}", "enterprise", names[0], names))
    return out


def random_query(rng: random.Random, entities) -> str:
    names = rng.choice(entities)[3]
    name = rng.choice(names)
    start = rng.randrange(len(name))
    q = name[start:start + rng.randint(1, 6)]
    if rng.random() < 0.3:  # a typo: one character replaced
        j = rng.randrange(len(q))
        q = q[:j] + rng.choice(ALPHABET) + q[j + 1:]
    return q if normalise_name(q) else "鑫达"


@pytest.mark.parametrize("seed", range(4))
def test_same_rows_as_scoring_every_entity(seed):
    rng = random.Random(seed)
    entities = random_entities(rng, 400)
    index = NameIndex(entities)
    for _ in range(150):
        q = random_query(rng, entities)
        every = scan(entities, q, len(entities))
        for limit in (1, 3, 20, len(entities)):
            assert index.search(q, limit) == every[:limit], (q, limit)


class CountingList(list):
    """The index's names, recording which ones a search reads."""

    def __init__(self, items):
        super().__init__(items)
        self.read: set[int] = set()

    def __getitem__(self, i):
        self.read.add(i)
        return super().__getitem__(i)


def test_search_reads_only_names_sharing_a_bigram():
    filler = [(f"E-{i:05d}", "enterprise", f"营口{c}{d}物流有限公司", [f"营口{c}{d}物流有限公司"])
              for i, (c, d) in enumerate((c, d) for c in "恒通宏远盛世金桥海港" for d in "众创云帆蓝天博泰隆兴")]
    wanted = [("E-90001", "enterprise", "营口鑫达贸易有限公司", ["营口鑫达贸易有限公司", "鑫达贸易(营口)有限公司"]),
              ("E-90002", "enterprise", "鑫达控股有限公司", ["鑫达控股有限公司"]),
              ("P-90003", "person", "王鑫", ["王鑫"])]
    index = NameIndex(filler + wanted)
    index.names = CountingList(index.names)
    rows = index.search("鑫达贸易", 20)
    assert [r["entity_id"] for r in rows] == ["E-90001", "E-90002"]
    read = {index.names[i] for i in list(index.names.read)}
    assert read and all(tokens("鑫达贸易") & tokens(n) for n in read)
    assert len(index.names.read) <= 3 < len(index.names)  # of the 103 names, those with 鑫达 or 贸易


def test_substring_matches_stop_at_the_limit():
    """A query every name contains reads the shortest names until `limit` entities are found
    and the score drops, not all of them."""
    entities = [(f"E-{i:05d}", "enterprise", f"营口{'市' * (i % 3)}{i:05d}有限公司", [f"营口{'市' * (i % 3)}{i:05d}有限公司"])
                for i in range(3000)]
    index = NameIndex(entities)
    index.names = CountingList(index.names)
    rows = index.search("有限公司", 5)
    assert [r["entity_id"] for r in rows] == ["E-00000", "E-00003", "E-00006", "E-00009", "E-00012"]
    assert len(index.names.read) == 6  # the five, and the first of the same length after them


def test_index_is_pickled_with_the_graph_and_rebuilt_when_missing(tmp_path, monkeypatch):
    path = tmp_path / "graph.pickle"
    store = MemoryStore(path)
    store.load(FIXTURE)
    expected = store.query("search_name", q="鑫达贸易（营口）")
    assert expected and expected[0]["entity_id"] == "E-0001"

    def no_rebuild(*a, **k):
        raise AssertionError("the pickled index was rebuilt")
    monkeypatch.setattr(NameIndex, "of_graph", no_rebuild)
    assert MemoryStore(path).query("search_name", q="鑫达贸易（营口）") == expected
    monkeypatch.undo()

    with path.open("rb") as f:
        state = pickle.load(f)
    with path.open("wb") as f:  # a pickle written before the index existed
        pickle.dump({"graph": state["graph"]}, f)
    assert MemoryStore(path).query("search_name", q="鑫达贸易（营口）") == expected


def test_mixed_script_names_split_like_lucene():
    """Letters next to Chinese are a word of their own (Lucene's StandardTokenizer splits at
    the script boundary), so ABC鑫达 shares 鑫达 with a query for it."""
    assert tokens("abc鑫达贸易") == {"abc", "鑫达", "达贸", "贸易"}
    index = NameIndex([("E-1", "enterprise", "ABC达贸", ["ABC达贸"])])
    assert [r["entity_id"] for r in index.search("鑫达贸易", 5)] == ["E-1"]
