"""Joint discipline at a date over HTTP (issue 11): `as_of` (default today, YYYY-MM-DD or 422) and
`include_history` (records out of force, with their status, for the roles that may see them)."""
from __future__ import annotations

import csv
from datetime import date, timedelta

import pytest

from api_helpers import hdr, resolved_copy

TODAY = date.today()
ENDED = (TODAY - timedelta(days=100)).isoformat()    # E-0009's listing: its term's last day
REMOVED = (TODAY - timedelta(days=30)).isoformat()   # E-0014's violation: repaired that day


@pytest.fixture(scope="module")
def resolved(tmp_path_factory):
    """resolved_small with a listing ended by its term and one removed after repair."""
    out = resolved_copy(tmp_path_factory.mktemp("resolved") / "resolved_small")
    with open(out / "list_records.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    start = (TODAY - timedelta(days=800)).isoformat()
    rows += [{"record_uid": "court_dishonest:0101", "entity_id": "E-0009", "list": "dishonest_debtor",
              "source": "court_dishonest", "record_id": "0101", "effective_from": start, "effective_to": ENDED},
             {"record_uid": "tax_violation:0102", "entity_id": "E-0014", "list": "major_tax_violation",
              "source": "tax_violation", "record_id": "0102", "effective_from": start, "removed_on": REMOVED,
              "removal_reason": "repaired"}]
    with open(out / "list_records.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=[*rows[0], "effective_from", "effective_to", "removed_on",
                                          "removal_reason"])
        w.writeheader()
        w.writerows(rows)
    return out


def reached(client, key, url) -> list[tuple]:
    r = client.get(url, headers=hdr(key))
    assert r.status_code == 200, r.text
    return [(h["reached"]["entity_id"], h["relation"], h["status"]) for h in r.json()["hits"]]


def test_a_listing_reaches_its_legal_rep_only_within_its_term(client, keys):
    inv = keys["investigator"]
    before = (TODAY - timedelta(days=101)).isoformat()
    assert reached(client, inv, f"/entities/E-0009/joint-discipline?as_of={before}") == [
        ("P-0003", "legal_rep", "in_force")]
    assert reached(client, inv, f"/entities/E-0009/joint-discipline?as_of={ENDED}") == [
        ("P-0003", "legal_rep", "in_force")]                     # the last day of the term counts
    assert reached(client, inv, "/entities/E-0009/joint-discipline") == []
    history = client.get("/entities/E-0009/joint-discipline?include_history=true", headers=hdr(inv)).json()
    assert history["as_of"] == TODAY.isoformat()
    assert [(h["reached"]["entity_id"], h["status"], h["effective_to"]) for h in history["hits"]] == [
        ("P-0003", "ended", ENDED)]


def test_a_bidder_clean_today_but_not_a_year_ago(client, keys):
    svc = keys["service"]
    assert reached(client, svc, "/entities/E-0014/joint-discipline/reverse") == []
    year_ago = client.get(f"/entities/E-0014/joint-discipline/reverse?as_of={TODAY - timedelta(days=365)}",
                          headers=hdr(svc)).json()["hits"]
    assert [(h["relation"], h["list"], h["kind"], h["status"]) for h in year_ago] == [
        ("self", "major_tax_violation", "discipline", "in_force")]


def test_an_incentive_rule_reaches_its_firm_over_http(client, keys):
    hits = client.get("/entities/E-0005/joint-discipline", headers=hdr(keys["investigator"])).json()["hits"]
    assert [(h["kind"], h["relation"], h["reached"]["entity_id"], h["rule"]) for h in hits] == [
        ("incentive", "self", "E-0005", "tax_grade_a_incentives")]
    assert "fewer_inspections" in hits[0]["measures"]


@pytest.mark.parametrize("bad", ["2026-02-30", "2026-2-3", "20261202", "yesterday", "2026-12-02T00:00"])
def test_a_date_not_yyyy_mm_dd_is_422(client, keys, bad):
    r = client.get(f"/entities/E-0009/joint-discipline?as_of={bad}", headers=hdr(keys["investigator"]))
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("role,code", [("service", 403), ("investigator", 200), ("admin", 200)])
def test_history_is_for_the_roles_that_may_see_it(client, keys, role, code):
    r = client.get("/entities/E-0014/joint-discipline/reverse?include_history=true", headers=hdr(keys[role]))
    assert r.status_code == code, r.text
    if code == 200:
        assert [h["status"] for h in r.json()["hits"]] == ["removed"]
    else:
        assert "include_history needs one of: admin, investigator" in r.json()["detail"]
