"""Every named query, on both stores over the same fixture: the same rows in the same order.

search_name is the one documented exception: Lucene (BM25 over CJK bigrams) and the memory
store (bigram coverage) score differently, so it is compared as the set of entities found, and
on the first hit where the query names one firm unambiguously.
"""
from __future__ import annotations

import itertools

import pytest

from creditgraph.graph.memory_store import QUERIES, MemoryStore
from creditgraph.graph.queries import library

from graph_helpers import FIXTURE, neo4j_auth

pytestmark = pytest.mark.neo4j

ENTERPRISES = [f"E-{i:04d}" for i in range(1, 16)]
PERSONS = [f"P-{i:04d}" for i in range(1, 13)]
IDS = ENTERPRISES + PERSONS


def _cases() -> list[tuple[str, dict]]:
    cases: list[tuple[str, dict]] = []
    for e in IDS + ["E-9999"]:
        cases += [
            ("entity_by_id", {"entity_id": e}),
            ("beneficial_owners", {"entity_id": e}),
            ("beneficial_owners", {"entity_id": e, "threshold": 0.0}),
            ("joint_discipline_forward", {"entity_id": e}),
            ("joint_discipline_forward", {"entity_id": e, "threshold": 0.5}),
            ("joint_discipline_reverse", {"entity_id": e}),
            ("joint_discipline_reverse", {"entity_id": e, "lists": ["tax_grade_a", "wage_arrears"]}),
            ("guarantee_circles", {"entity_id": e}),
            ("guarantee_circles", {"entity_id": e, "max_len": 2}),
            ("shared_contacts", {"entity_id": e}),
            ("shared_contacts", {"entity_id": e, "max_sharing": 3}),
            ("related_parties", {"entity_id": e, "depth": 3,
                                 "types": ["SHAREHOLDER_OF", "POSSIBLY_SAME_AS"]}),
        ]
        cases += [("related_parties", {"entity_id": e, "depth": d}) for d in (1, 2, 3)]
    for ident in ["91210800710001374U", "710001374", "71000137-4", " 91210800710001374u ",
                  "nope"]:
        cases.append(("entity_by_identifier", {"identifier": ident}))
    cases += [("guarantee_circles", {}), ("guarantee_circles", {"max_len": 2})]
    for a, b in itertools.combinations(IDS, 2):
        cases.append(("shortest_path", {"from_id": a, "to_id": b}))
    cases += [("shortest_path", {"from_id": "E-0012", "to_id": "E-0008", "max_len": 2}),
              ("shortest_path", {"from_id": "P-0003", "to_id": "E-0010",
                                 "types": ["POSSIBLY_SAME_AS", "SHAREHOLDER_OF"]}),
              ("shortest_path", {"from_id": "P-0007", "to_id": "E-0002", "limit": 1})]
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def stores(neo4j_uri):
    from creditgraph.graph.neo4j_store import Neo4jStore
    neo = Neo4jStore(neo4j_uri, auth=neo4j_auth())
    neo.wipe()
    neo.load(FIXTURE, batch_size=7, progress=False)
    mem = MemoryStore(None)
    mem.load(FIXTURE)
    yield neo, mem
    neo.close()


def test_every_public_query_is_covered():
    names = set(library().public())
    assert names == set(QUERIES)
    assert names - {"search_name"} <= {name for name, _ in CASES}


@pytest.mark.parametrize("name,params", CASES,
                         ids=[f"{n}-{'-'.join(map(str, p.values()))}"[:90] for n, p in CASES])
def test_same_rows(stores, name, params):
    neo, mem = stores
    assert neo.query(name, **params) == mem.query(name, **params)


def test_queries_answer_something(stores):
    """The parity above is not vacuous: each query has non-empty answers on the fixture."""
    neo, _ = stores
    answered: set[str] = set()
    for name, params in CASES:  # one non-empty answer per query is enough
        if name not in answered and neo.query(name, **params):
            answered.add(name)
    assert answered == set(QUERIES) - {"search_name"}


@pytest.mark.parametrize("q,first", [("营口市鑫达贸易有限公司", "E-0001"), ("张伟", None),
                                     ("华信建材", "E-0005"), ("宏远化工", "E-0007"),
                                     ("新达商贸", "E-0009"), ("孵化器", "E-0013"),
                                     ("鑫达贸易", None), ("鑫达贸易（营口）", None),
                                     ("营口 鑫达 物流", "E-0002")])
def test_search_name_finds_the_same_entities(stores, q, first):
    neo, mem = stores
    a = neo.query("search_name", q=q, limit=50)
    b = mem.query("search_name", q=q, limit=50)
    assert a and {r["entity_id"] for r in a} == {r["entity_id"] for r in b}
    assert [set(r) for r in a] == [set(r) for r in b]
    if first:
        assert a[0]["entity_id"] == b[0]["entity_id"] == first
