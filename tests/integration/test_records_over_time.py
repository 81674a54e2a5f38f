"""Records with a life (issue 11): a listing reaches its targets only while it is in force.

The fixture is resolved_small plus records dated around today: one ended by its term, one
removed after repair, one removed on performance, one not yet in force. Every case runs on both
stores (the embedded one and Neo4j), and the two give the same rows.
"""
from __future__ import annotations

import csv
import shutil
from datetime import date, timedelta

import pytest

from creditgraph.graph.memory_store import MemoryStore
from creditgraph.graph.queries import QueryError

from graph_helpers import FIXTURE, neo4j_auth

TODAY = date.today()


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


# record_uid -> (entity, list, effective_from, effective_to, removed_on, removal_reason)
DATED = {
    "court_dishonest:0101": ("E-0009", "dishonest_debtor", day(-800), day(-100), None, None),   # term
    "tax_violation:0102": ("E-0014", "major_tax_violation", day(-600), day(500), day(-30), "repaired"),
    "court_dishonest:0103": ("E-0008", "dishonest_debtor", day(-700), None, day(-100), "performed"),
    "customs_credit:0104": ("E-0015", "customs_advanced", day(30), None, None, None),          # not yet
}
PERIOD = ("department", "effective_from", "effective_to", "removed_on", "removal_reason")


@pytest.fixture(scope="module")
def timed(tmp_path_factory):
    out = tmp_path_factory.mktemp("resolved_timed")
    for f in FIXTURE.iterdir():
        shutil.copy(f, out / f.name)
    with open(FIXTURE / "list_records.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for uid, (eid, lst, start, end, removed, reason) in DATED.items():
        source, rid = uid.split(":")
        rows.append({"record_uid": uid, "entity_id": eid, "list": lst, "date": start.isoformat(),
                     "source": source, "record_id": rid, "department": "courts",
                     "effective_from": start.isoformat(), "effective_to": end and end.isoformat(),
                     "removed_on": removed and removed.isoformat(), "removal_reason": reason})
    with open(out / "list_records.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=[*rows[0], *PERIOD])
        w.writeheader()
        w.writerows(rows)
    return out


@pytest.fixture(scope="module")
def memory(timed):
    store = MemoryStore(None)
    store.load(timed)
    return store


@pytest.fixture(scope="module")
def neo(timed, neo4j_uri):
    from creditgraph.graph.neo4j_store import Neo4jStore
    store = Neo4jStore(neo4j_uri, auth=neo4j_auth())
    store.wipe()
    store.load(timed, progress=False)
    yield store
    store.close()


@pytest.fixture(params=["memory", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request):
    return request.getfixturevalue("memory" if request.param == "memory" else "neo")


def targets(rows: list[dict]) -> set[tuple]:
    return {(r["record_uid"], r["role"], r["target_id"]) for r in rows}


@pytest.mark.parametrize("uid,before,after,status", [
    ("court_dishonest:0101", -101, -99, "ended"),        # the term's last day is still in force
    ("tax_violation:0102", -31, -30, "removed"),         # a removal holds from its day
    ("court_dishonest:0103", -101, -100, "removed"),
])
def test_a_listing_that_ends_stops_reaching_its_targets_from_that_date(store, uid, before, after, status):
    eid = DATED[uid][0]
    reached = store.discipline_forward(eid, as_of=day(before))
    assert uid in {r["record_uid"] for r in reached} and all(r["status"] == "in_force" for r in reached)
    assert store.discipline_forward(eid, as_of=day(after)) == []
    assert store.discipline_forward(eid) == []                     # today
    history = store.discipline_forward(eid, as_of=day(after), include_history=True)
    assert targets(history) == targets(reached)                    # the same people, marked
    assert {r["status"] for r in history} == {status}
    assert history[0]["removal_reason"] == DATED[uid][5]


def test_the_legal_rep_is_reached_until_the_term_ends(store):
    rows = store.discipline_forward("E-0009", as_of=day(-200))
    assert targets(rows) == {("court_dishonest:0101", "legal_rep", "P-0003")}
    assert rows[0]["effective_to"] == day(-100).isoformat()


def test_a_bidder_clean_today_but_not_a_year_ago(store):
    assert store.discipline_reverse("E-0008") == []
    year_ago = store.discipline_reverse("E-0008", as_of=day(-365))
    assert [(r["relation"], r["record_uid"], r["kind"], r["status"]) for r in year_ago] == [
        ("self", "court_dishonest:0103", "discipline", "in_force")]
    history = store.discipline_reverse("E-0008", include_history=True)
    assert [(r["record_uid"], r["status"], r["removed_on"]) for r in history] == [
        ("court_dishonest:0103", "removed", day(-100).isoformat())]


def test_an_incentive_rule_reaches_its_target(store):
    rows = store.discipline_forward("E-0005")
    assert [(r["kind"], r["rule"], r["role"], r["target_id"]) for r in rows] == [
        ("incentive", "tax_grade_a_incentives", "self", "E-0005")]
    assert "green_channel" in rows[0]["measures"] and rows[0]["path"] == []
    reverse = store.discipline_reverse("E-0005")
    assert [(r["kind"], r["rule"], r["list"]) for r in reverse] == [
        ("incentive", "tax_grade_a_incentives", "tax_grade_a")]


def test_an_incentive_not_yet_in_force_reaches_nobody_until_its_day(store):
    assert store.discipline_forward("E-0015") == []
    rows = store.discipline_forward("E-0015", as_of=day(30))
    assert [(r["rule"], r["target_id"]) for r in rows] == [("customs_advanced_incentives", "E-0015")]
    assert [r["status"] for r in store.discipline_forward("E-0015", include_history=True)] == ["not_yet"]


def test_an_entity_s_records_with_their_status(store):
    rows = store.records("E-0014", as_of=day(-31))
    assert [(r["record_uid"], r["status"]) for r in rows] == [("tax_violation:0102", "in_force")]
    assert [r["status"] for r in store.records("E-0014")] == ["removed"]
    assert store.records("E-0014", include_history=False) == []
    assert [r["status"] for r in store.records("E-0001")] == ["in_force", "in_force"]  # undated


@pytest.mark.parametrize("bad", ["2026-13-01", "20261202", "yesterday", "2026-02-30"])
def test_a_bad_date_is_refused(memory, bad):
    with pytest.raises(QueryError, match=r"\$as_of must be a date YYYY-MM-DD"):
        memory.query("joint_discipline_forward", entity_id="E-0009", as_of=bad)


CASES = [(uid, offset) for uid in DATED for offset in (-400, -100, -30, 0, 30)]


@pytest.mark.neo4j
@pytest.mark.parametrize("uid,offset", CASES)
def test_both_stores_agree_at_every_date(memory, neo, uid, offset):
    eid = DATED[uid][0]
    for history in (False, True):
        for name in ("joint_discipline_forward", "joint_discipline_reverse", "entity_records"):
            params = {"entity_id": eid, "as_of": day(offset), "include_history": history}
            assert neo.query(name, **params) == memory.query(name, **params), (name, params)
