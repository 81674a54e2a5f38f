"""Every named query, on both stores over the same fixture: the same rows in the same order.

Each case starts where the query has an answer (asserted non-empty), so a match means both
stores found the same thing, not that both found nothing; the starts are picked to reach
chains, ties and filters. A few deliberate empty cases (unknown ids, a bound nothing fits)
are listed apart with the reason they are empty.

search_name is the one documented exception: Lucene (BM25 over CJK bigrams) and the memory
store (bigram coverage) score differently, so it is compared as the set of entities found, and
on the first hit where the query names one firm unambiguously.
"""
from __future__ import annotations

import csv

import pytest

from creditgraph.graph.memory_store import QUERIES, MemoryStore

from graph_helpers import FIXTURE, neo4j_auth

pytestmark = pytest.mark.neo4j


def _id_hash(entity_id: str) -> str:
    with open(FIXTURE / "entities.csv", encoding="utf-8", newline="") as f:
        return next(r["id_hash"] for r in csv.DictReader(f) if r["entity_id"] == entity_id)


SHAREHOLDERS_AND_SAME = ["SHAREHOLDER_OF", "POSSIBLY_SAME_AS"]

ANSWERED = [  # (query, params): each has a non-empty answer on the fixture
    ("entity_by_id", {"entity_id": "E-0001"}),                 # enterprise with list records
    ("entity_by_id", {"entity_id": "P-0001"}),                 # person: hash and mask only
    ("entity_by_id", {"entity_id": "E-0010"}),                 # waiting in review
    ("entity_by_identifier", {"identifier": "91210800710001374U"}),
    ("entity_by_identifier", {"identifier": " 91210800710001374u "}),
    ("entity_by_identifier", {"identifier": "71000137-4"}),    # org code: a USCC and an old firm
    ("entity_by_identifier", {"identifier": _id_hash("P-0003")}),
    ("beneficial_owners", {"entity_id": "E-0001"}),            # direct and through chains
    ("beneficial_owners", {"entity_id": "E-0001", "threshold": 0.0}),
    ("beneficial_owners", {"entity_id": "E-0006", "threshold": 0.0}),
    ("beneficial_owners", {"entity_id": "E-0003"}),
    ("shareholders", {"entity_id": "E-0001"}),                 # a firm and a person's holding firm
    ("shareholders", {"entity_id": "E-0006", "threshold": 0.1}),  # persons and a firm, ratio order
    ("joint_discipline_forward", {"entity_id": "E-0001"}),     # two lists, controller by chain
    ("joint_discipline_forward", {"entity_id": "E-0001", "threshold": 0.5}),
    ("joint_discipline_forward", {"entity_id": "E-0002"}),     # tax memorandum
    ("joint_discipline_forward", {"entity_id": "E-0006"}),     # customs memorandum
    ("joint_discipline_forward", {"entity_id": "P-0007"}),     # a listed person's firms
    ("joint_discipline_forward", {"entity_id": "E-0005"}),     # red list: an incentive, to itself
    ("joint_discipline_reverse", {"entity_id": "E-0001"}),
    ("joint_discipline_reverse", {"entity_id": "E-0012"}),     # through its legal rep
    ("joint_discipline_reverse", {"entity_id": "P-0007"}),
    ("joint_discipline_reverse", {"entity_id": "E-0005", "lists": ["tax_grade_a", "wage_arrears"]}),
    ("joint_discipline_reverse", {"entity_id": "E-0011", "lists": ["tax_grade_a", "wage_arrears"]}),
    ("joint_discipline_reverse", {"entity_id": "E-0005"}),     # its incentive only
    ("entity_records", {"entity_id": "E-0001"}),
    ("entity_records", {"entity_id": "P-0007", "as_of": "2020-01-01", "include_history": False}),
    ("guarantee_circles", {}),                                 # every circle
    ("guarantee_circles", {"entity_id": "E-0006"}),            # rotated to its smallest id
    ("guarantee_circles", {"entity_id": "E-0007"}),
    ("shared_contacts", {"entity_id": "E-0012"}),              # phone and hub address
    ("shared_contacts", {"entity_id": "E-0012", "max_sharing": 3}),
    ("shared_contacts", {"entity_id": "P-0001"}),
    ("shared_contacts", {"entity_id": "E-0001"}),
    ("related_parties", {"entity_id": "E-0001", "depth": 1}),  # one statement per depth
    ("related_parties", {"entity_id": "E-0001", "depth": 2}),
    ("related_parties", {"entity_id": "E-0001", "depth": 3}),
    ("related_parties", {"entity_id": "P-0005", "depth": 2}),
    ("related_parties", {"entity_id": "E-0010", "depth": 3, "types": SHAREHOLDERS_AND_SAME}),
    ("shortest_path", {"from_id": "P-0001", "to_id": "E-0003"}),
    ("shortest_path", {"from_id": "P-0001", "to_id": "P-0002"}),   # 9 tied walks: the order
    ("shortest_path", {"from_id": "E-0012", "to_id": "P-0001", "limit": 4}),
    ("shortest_path", {"from_id": "P-0009", "to_id": "P-0010"}),
    ("shortest_path", {"from_id": "E-0012", "to_id": "E-0003", "max_len": 3}),
    ("shortest_path", {"from_id": "P-0003", "to_id": "E-0010", "types": SHAREHOLDERS_AND_SAME}),
]

EMPTY = [  # (query, params, why nothing is the right answer on both stores)
    ("entity_by_id", {"entity_id": "E-9999"}, "unknown id"),
    ("entity_by_identifier", {"identifier": "nope"}, "not an identifier"),
    ("joint_discipline_forward", {"entity_id": "E-0007"}, "a grade reaches nobody"),
    ("entity_records", {"entity_id": "E-0003"}, "no list record"),
    ("guarantee_circles", {"max_len": 2}, "the only circle has three firms"),
    ("shortest_path", {"from_id": "E-0012", "to_id": "E-0008", "max_len": 2}, "longer than max_len"),
]


def _case_id(name: str, params: dict) -> str:
    shown = {k: (v[:8] + "..." if isinstance(v, str) and len(v) > 20 else v)  # a hash
             for k, v in params.items()}
    return "-".join([name, *(f"{k}={v}" for k, v in shown.items())]).replace(" ", "")


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
    assert {name for name, _ in ANSWERED} == set(QUERIES) - {"search_name"}


@pytest.mark.parametrize("name,params", ANSWERED, ids=[_case_id(n, p) for n, p in ANSWERED])
def test_same_rows(stores, name, params):
    neo, mem = stores
    rows = mem.query(name, **params)
    assert rows, "a parity start must have an answer"
    assert neo.query(name, **params) == rows


@pytest.mark.parametrize("name,params,why", EMPTY, ids=[f"{_case_id(n, p)}-{w}" for n, p, w in EMPTY])
def test_same_nothing(stores, name, params, why):
    neo, mem = stores
    assert neo.query(name, **params) == [] and mem.query(name, **params) == []


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
