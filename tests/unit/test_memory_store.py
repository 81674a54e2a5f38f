"""The memory store alone, with hand-checked answers on tests/fixtures/resolved_small, and the
named-query loader (graph/queries.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from creditgraph.graph.load import read_resolved, role_classes
from creditgraph.graph.memory_store import MemoryStore
from creditgraph.graph.queries import MissingParameter, QueryError, UnknownParameter, library, parse
from creditgraph.graph.factory import open_store

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "resolved_small"


@pytest.fixture(scope="module")
def store():
    s = MemoryStore(None)
    s.load(FIXTURE)
    return s


def ids(rows, key="entity_id"):
    return [r[key] for r in rows]


def test_reader_counts_and_privacy():
    data = read_resolved(FIXTURE)
    assert {k: len(v) for k, v in data.nodes.items()} == {
        "Enterprise": 15, "Person": 12, "ListRecord": 8, "Address": 2, "Phone": 2}
    assert len(data.relations["SHAREHOLDER_OF"]) == 15
    assert len(data.relations["POSSIBLY_SAME_AS"]) == 2
    assert data.skipped == {}
    person = next(r["props"] for r in data.nodes["Person"] if r["id"] == "P-0001")
    assert person["id_masked"] == "**************3015"   # the display mask, over the fixture's older one
    assert "210802197503153015" not in repr(data.nodes) + repr(data.relations)


def test_role_classes():
    assert role_classes("执行董事兼总经理") == ["director", "manager", "principal"]
    assert role_classes("财务负责人") == ["finance", "manager"]
    assert role_classes("监事") == ["supervisor"]
    assert role_classes("负责人") == ["principal"]


def test_beneficial_owner_through_a_chain(store):
    rows = store.query("beneficial_owners", entity_id="E-0001")
    assert [(r["person_id"], r["share"]) for r in rows] == [("P-0004", 0.42), ("P-0002", 0.3)]
    p2 = rows[1]
    assert p2["chains"] == [{"share": 0.3, "path": [
        {"from": "P-0002", "type": "SHAREHOLDER_OF", "to": "E-0003", "ratio": 0.5},
        {"from": "E-0003", "type": "SHAREHOLDER_OF", "to": "E-0001", "ratio": 0.6}]}]
    # P-0004 owns E-0008, which holds 30% of E-0001 directly and 20% of E-0003 (60% of E-0001)
    assert [c["share"] for c in rows[0]["chains"]] == [0.3, 0.12]
    low = store.query("beneficial_owners", entity_id="E-0001", threshold=0.0)
    assert [(r["person_id"], r["share"]) for r in low] == [
        ("P-0004", 0.42), ("P-0002", 0.3), ("P-0003", 0.18), ("P-0001", 0.1)]


def test_guarantee_circle(store):
    rows = store.query("guarantee_circles", entity_id="E-0007")
    assert len(rows) == 1 and rows[0]["circle"] == ["E-0005", "E-0006", "E-0007"]
    assert [s["amount"] for s in rows[0]["steps"]] == [5e6, 3e6, 8e6]
    assert store.query("guarantee_circles") == rows
    assert store.query("guarantee_circles", max_len=2) == []
    assert store.query("guarantee_circles", entity_id="E-0001") == []   # guarantees, no circle


def test_joint_discipline_forward_enterprise(store):
    rows = store.query("joint_discipline_forward", entity_id="E-0001")
    got = {(r["list"], r["role"], r["target_id"]) for r in rows}
    for lst in ("dishonest_debtor", "consumption_restriction"):
        assert {(lst, "legal_rep", "P-0001"), (lst, "principal", "P-0001"),
                (lst, "controller", "P-0002"), (lst, "controller", "P-0004")} <= got
    ctrl = next(r for r in rows if r["role"] == "controller" and r["target_id"] == "P-0004")
    assert ctrl["share"] == 0.42 and ctrl["rule"] == "consumption_restriction_art3"
    assert ctrl["path"] == [{"from": "P-0004", "type": "SHAREHOLDER_OF", "to": "E-0008"},
                            {"from": "E-0008", "type": "SHAREHOLDER_OF", "to": "E-0001"}]
    tax = store.query("joint_discipline_forward", entity_id="E-0002")
    assert {(r["rule"], r["role"], r["target_id"]) for r in tax} == {
        ("tax_memorandum", "legal_rep", "P-0001"), ("tax_memorandum", "finance", "P-0006")}
    customs = store.query("joint_discipline_forward", entity_id="E-0006")
    assert {(r["role"], r["target_id"]) for r in customs} == {
        ("legal_rep", "P-0009"), ("director", "P-0009"), ("director", "P-0008"),
        ("supervisor", "P-0010")}
    red = store.query("joint_discipline_forward", entity_id="E-0005")   # red list: incentives only
    assert {(r["kind"], r["role"], r["target_id"]) for r in red} == {("incentive", "self", "E-0005")}
    assert store.query("joint_discipline_forward", entity_id="E-0007") == []   # a grade reaches nobody


def test_joint_discipline_forward_person(store):
    rows = store.query("joint_discipline_forward", entity_id="P-0007")
    assert {(r["rule"], r["role"], r["target_id"]) for r in rows} == {
        ("company_law_art178", "director", "E-0001"), ("company_law_art178", "director", "E-0012"),
        ("company_law_art178", "manager", "E-0012")}


def test_controller_fallback_to_top_shareholder(store):
    # E-0006: P-0009 20%, P-0010 15%, E-0005 65% owned 70% by P-0008 -> 0.455 (>= 25%)
    rows = store.query("joint_discipline_reverse", entity_id="E-0006")
    assert ("customs_dishonest", "self") in {(r["list"], r["relation"]) for r in rows}
    rows = store.query("joint_discipline_forward", entity_id="E-0006", threshold=0.5)
    # nobody reaches 50%: the largest ultimate holder is the controller
    assert [(r["target_id"], r["share"]) for r in rows if r["role"] == "controller"] == []
    rules = [{"list": "customs_dishonest", "subject_kind": "enterprise", "rule": "x",
              "basis": "test", "roles": ["controller"]}]
    rows = store.query("joint_discipline_forward", entity_id="E-0006", threshold=0.5, rules=rules)
    assert [(r["target_id"], r["share"]) for r in rows] == [("P-0008", 0.455)]


def test_joint_discipline_reverse(store):
    rows = store.query("joint_discipline_reverse", entity_id="E-0012")
    assert [(r["relation"], r["holder_id"], r["list"]) for r in rows] == [
        ("legal_rep", "P-0007", "dishonest_debtor"), ("controller", "P-0007", "dishonest_debtor"),
        ("executive", "P-0007", "dishonest_debtor")]
    assert rows[1]["share"] == 0.4 and rows[2]["role"] == "执行董事兼总经理"
    assert store.query("joint_discipline_reverse", entity_id="E-0009") == []


def test_related_parties_paths(store):
    rows = store.query("related_parties", entity_id="E-0002", depth=2)
    by_id = {r["entity_id"]: r for r in rows}
    assert by_id["P-0001"]["distance"] == 1
    # ties between shortest walks go to the smallest "TYPE from to" key: GUARANTEES first
    assert by_id["E-0004"]["path"] == [
        {"from": "E-0001", "type": "GUARANTEES", "to": "E-0002"},
        {"from": "E-0004", "type": "BRANCH_OF", "to": "E-0001"}]
    reps = store.query("related_parties", entity_id="E-0002", depth=2, types=["LEGAL_REP_OF"])
    # E-0002's legal representative P-0001 also represents E-0004: the explanation
    assert {r["entity_id"]: r for r in reps}["E-0004"]["path"] == [
        {"from": "P-0001", "type": "LEGAL_REP_OF", "to": "E-0002"},
        {"from": "P-0001", "type": "LEGAL_REP_OF", "to": "E-0004"}]
    assert [r["distance"] for r in rows] == sorted(r["distance"] for r in rows)
    only = store.query("related_parties", entity_id="E-0001", depth=1, types=["POSSIBLY_SAME_AS"])
    assert ids(only) == ["E-0010"]
    assert len(store.query("related_parties", entity_id="E-0001", depth=3)) > len(
        store.query("related_parties", entity_id="E-0001", depth=1))


def test_shared_contacts_and_hub_exclusion(store):
    rows = store.query("shared_contacts", entity_id="E-0012")
    assert ids(rows) == ["E-0005", "E-0013", "E-0014", "E-0015"]
    assert rows[0]["weight"] == 1.0 and rows[1]["weight"] == 0.333333
    assert ids(store.query("shared_contacts", entity_id="E-0012", max_sharing=3)) == ["E-0005"]


def test_shortest_path(store):
    rows = store.query("shortest_path", from_id="E-0012", to_id="E-0003")
    assert rows and all(r["length"] == 3 for r in rows)
    assert rows[0]["nodes"][0] == "E-0012" and rows[0]["nodes"][-1] == "E-0003"
    assert store.query("shortest_path", from_id="E-0012", to_id="E-0003", max_len=2) == []
    assert store.query("shortest_path", from_id="E-0001", to_id="E-0001") == []


def test_lookups_and_search(store):
    e = store.query("entity_by_id", entity_id="E-0001")[0]
    assert e["org_code"] == "710001374" and ids(e["list_records"], "record_uid") == [
        "court_dishonest:0001", "court_restriction:0002"]
    assert ids(store.query("entity_by_identifier", identifier="71000137-4")) == ["E-0001", "E-0010"]
    p = store.query("entity_by_id", entity_id="P-0003")[0]
    assert ids(store.query("entity_by_identifier", identifier=p["id_hash"])) == ["P-0003"]
    assert ids(store.query("search_name", q="鑫达贸易（营口）"))[0] == "E-0001"
    assert ids(store.query("search_name", q="张伟")) == ["P-0003", "P-0012"]
    assert ids(store.query("search_name", q="花信建材"))[0] == "E-0005"


def test_parameter_checks(store):
    with pytest.raises(MissingParameter, match=r"\$entity_id"):
        store.query("beneficial_owners")
    with pytest.raises(UnknownParameter, match=r"\$depht"):
        store.query("related_parties", entity_id="E-0001", depht=2)
    with pytest.raises(QueryError, match="depth"):
        store.query("related_parties", entity_id="E-0001", depth=4)
    with pytest.raises(QueryError, match="unknown relation type"):
        store.query("related_parties", entity_id="E-0001", types=["AT"])
    with pytest.raises(QueryError, match="max_len"):
        store.query("shortest_path", from_id="E-0001", to_id="E-0002", max_len=11)
    with pytest.raises(QueryError, match="no named query"):
        store.query("nope")
    with pytest.raises(QueryError, match="loader statement"):
        store.query("merge_Person", rows=[], run_id="x", loaded_at="y")


def test_query_file_parsing():
    sts = parse("// name: a\n// doc line\nMATCH (n {id: $x}) // $not_a_param\n"
                "RETURN '$nor_this' AS s, $y AS y\n\n// name: b\nRETURN 1")
    assert [s.name for s in sts] == ["a", "b"]
    assert sts[0].params == {"x", "y"} and sts[0].doc == "doc line"
    lib = library()
    assert "related_parties" in lib.public() and "merge_Person" not in lib.public()
    for name in lib.public():
        assert lib[name].doc, name   # every named query is documented


def test_load_is_idempotent_incremental_and_persisted(tmp_path):
    path = tmp_path / "graph.pickle"
    s = open_store(f"memory://{path}")
    first = s.load(FIXTURE)
    assert (first.nodes_created, first.relations_created) == (39, 64)
    again = s.load(FIXTURE)
    assert (again.nodes_created, again.nodes_updated, again.nodes_retired) == (0, 39, 0)
    reopened = open_store(f"memory://{path}")
    assert reopened.query("beneficial_owners", entity_id="E-0001") == s.query(
        "beneficial_owners", entity_id="E-0001")
    changed = tmp_path / "changed"
    shutil.copytree(FIXTURE, changed)
    lines = (changed / "list_records.csv").read_text(encoding="utf-8").splitlines()
    (changed / "list_records.csv").write_text(
        "\n".join(l for l in lines if "P-0007" not in l) + "\n", encoding="utf-8")
    report = reopened.load(changed)
    assert (report.nodes_retired, report.relations_retired) == (1, 1)
    assert reopened.query("joint_discipline_forward", entity_id="P-0007") == []


def test_failed_load_keeps_the_previous_graph(tmp_path):
    path = tmp_path / "graph.pickle"
    s = MemoryStore(path)
    s.load(FIXTURE)

    def boom(done, total):
        if done == 3:
            raise RuntimeError("injected")
    with pytest.raises(RuntimeError):
        MemoryStore(path).load(FIXTURE, batch_size=2, on_batch=boom)
    again = MemoryStore(path)
    assert again.counts() == {"nodes": 39, "relations": 64}
    assert again.load(FIXTURE, batch_size=2).nodes_created == 0
