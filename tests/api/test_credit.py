"""The credit profile (GET /entities/{id}/credit) and credit reports (POST /reports, GET
/reports/{number}.html) on both stores, over resolved_small with record periods and the run
report's freshness added (the `resolved` fixture below replaces conftest's for this module)."""
from __future__ import annotations

import csv
import json
import os
import re
import stat
from concurrent.futures import ThreadPoolExecutor

import pytest
from typer.testing import CliRunner

from api_helpers import hdr, resolved_copy, vault_numbers
from creditgraph.base.privacy import mask

PERIODS = {  # record_uid -> its period (the fixture's records have none)
    "court_dishonest:0005": {"removed_on": "2024-06-01", "removal_reason": "performed"},  # P-0007
    "tax_violation:0003": {"effective_from": "2022-11-20", "effective_to": "2025-11-19"},   # E-0002
}
EARLIER_GRADE = {"record_uid": "tax_grade:0009", "entity_id": "E-0007", "list": "tax_grade", "grade": "A",
                 "authority": "国家税务总局营口市税务局", "date": "2023-04-01", "source": "tax_grade",
                 "record_id": "0009"}
SOURCES = [("market_registry", "market_regulation", "2026-11-28T06:00:00+00:00"),
           ("court_dishonest", "courts", "2026-11-30T08:00:00+00:00"),
           ("court_restriction", "courts", "2026-12-01T08:00:00+00:00"),
           ("tax_violation", "tax", "2026-11-15T00:00:00+00:00"),
           ("tax_grade", "tax", "2026-04-02T00:00:00+00:00")]
BEFORE, AFTER = "2024-01-01", "2025-01-01"  # P-0007's court listing was removed on 2024-06-01


def with_periods(resolved):
    """Record periods and one more grade in list_records.csv; sources in run_report.json."""
    path = resolved / "list_records.csv"
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    fields = [*rows[0], "effective_from", "effective_to", "removed_on", "removal_reason"]
    rows = [{**r, **PERIODS.get(r["record_uid"], {})} for r in rows] + [EARLIER_GRADE]
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, restval="")
        w.writeheader()
        w.writerows(rows)
    report = json.loads((resolved / "run_report.json").read_text(encoding="utf-8"))
    report["sources"] = [{"source": s, "department": d, "exported": e, "accepted": 10} for s, d, e in SOURCES]
    (resolved / "run_report.json").write_text(json.dumps(report), encoding="utf-8")
    return resolved


@pytest.fixture(scope="module")
def resolved(tmp_path_factory):
    return with_periods(resolved_copy(tmp_path_factory.mktemp("resolved") / "resolved_small"))


def profile(client, keys, entity_id, as_of=None):
    r = client.get(f"/entities/{entity_id}/credit", params={"as_of": as_of} if as_of else None,
                   headers=hdr(keys["investigator"]))
    assert r.status_code == 200, r.text
    return r.json()


def produce(client, key, entity_id, as_of=None, reference="tender 2026-117"):
    body = {"entity_id": entity_id, "reference": reference, **({"as_of": as_of} if as_of else {})}
    r = client.post("/reports", json=body, headers=hdr(key))
    assert r.status_code == 201, r.text
    return r.json()


def audit_lines(settings):
    return [json.loads(x) for x in settings.audit_path.read_text(encoding="utf-8").splitlines()]


# --- the profile -------------------------------------------------------------------------------

def test_records_by_department_and_list_with_status(client, keys):
    p = profile(client, keys, "E-0001")
    courts = {d["department"]: d for d in p["departments"]}["courts"]  # department from the run report
    assert [x["list"] for x in courts["lists"]] == ["consumption_restriction", "dishonest_debtor"]
    assert all(x["kind"] == "negative" and x["records"][0]["status"] == "in_force" for x in courts["lists"])


def test_status_follows_as_of(client, keys):
    def status(as_of):
        (d,) = profile(client, keys, "E-0002", as_of)["departments"]
        return d["department"], d["lists"][0]["records"][0]["status"]
    assert status("2022-11-01") == ("tax", "not_yet")
    assert status(AFTER) == ("tax", "in_force")
    assert status("2025-11-20") == ("tax", "ended")   # effective_to is its last day in force


def test_grades_over_time(client, keys):
    grades = profile(client, keys, "E-0007")["grades"]
    assert [(g["date"], g["grade"]) for g in grades] == [("2023-04-01", "A"), ("2024-04-01", "B")]


def test_rules_and_whom_they_reach(client, keys):
    rules = profile(client, keys, "E-0001")["rules"]
    reached = {(h["rule"], h["relation"], h["reached"]["entity_id"]) for h in rules}
    assert ("consumption_restriction_art3", "legal_rep", "P-0001") in reached
    assert ("consumption_restriction_art3", "controller", "P-0004") in reached  # through E-0008, 42%


def test_related_parties_under_discipline_with_paths(client, keys):
    related = profile(client, keys, "E-0012", BEFORE)["related_under_discipline"]
    by_relation = {x["relation"]: x for x in related}
    assert set(by_relation) == {"legal_rep", "controller", "executive", "shareholder"}
    assert {x["party"]["entity_id"] for x in related} == {"P-0007"}
    assert by_relation["shareholder"]["share"] == 0.4
    assert by_relation["legal_rep"]["path"][0]["type"] == "LEGAL_REP_OF"
    assert [r["record_uid"] for r in by_relation["shareholder"]["records"]] == ["court_dishonest:0005"]
    assert profile(client, keys, "E-0012", AFTER)["related_under_discipline"] == []  # removed meanwhile


def test_reverse_check_both_ways(client, keys):
    assert profile(client, keys, "E-0012", BEFORE)["reverse"]["reached"] is True
    after = profile(client, keys, "E-0012", AFTER)["reverse"]
    assert after["reached"] is False and after["hits"] == []


def test_unknown_entity_and_bad_date(client, keys):
    assert client.get("/entities/E-9999/credit", headers=hdr(keys["investigator"])).status_code == 404
    r = client.get("/entities/E-0001/credit?as_of=2024-13-01", headers=hdr(keys["investigator"]))
    assert r.status_code == 422


def test_profile_is_audited(client, keys, settings):
    profile(client, keys, "E-0012", BEFORE)
    line = audit_lines(settings)[-1]
    assert line["endpoint"] == "/entities/{entity_id}/credit" and line["params"]["as_of"] == BEFORE
    assert line["who"] == "test-investigator" and "P-0007" in line["returned"]


# --- reports -----------------------------------------------------------------------------------

def test_report_is_numbered_stored_and_audited(client, keys, settings):
    out = produce(client, keys["service"], "E-0012", BEFORE)
    number = out["number"]
    assert re.fullmatch(r"CR-\d{8}-\d{6}", number) and out["reached"] is True
    produced = audit_lines(settings)[-1]
    assert (produced["endpoint"], produced["who"], produced["report"]) == ("/reports", "test-service", number)
    assert produced["params"] == {"entity_id": "E-0012", "as_of": BEFORE, "reference": "tender 2026-117"}
    page = client.get(f"/reports/{number}.html", headers=hdr(keys["investigator"]))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    read = audit_lines(settings)[-1]
    assert (read["endpoint"], read["who"], read["report"], read["report_of"]) == \
        ("/reports/{number}.html", "test-investigator", number, "E-0012")
    html = page.text
    assert number in html and BEFORE in html and "REACHED" in html and "tender 2026-117" in html
    assert "2026-12-01T08:00:00+00:00" in html  # the courts' latest export
    for path in settings.reports_path.glob(f"{number}.*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.reports_path.stat().st_mode) == 0o700


def test_clean_bidder_answers_not_reached(client, keys):
    out = produce(client, keys["service"], "E-0012", AFTER)
    html = client.get(out["html"], headers=hdr(keys["service"])).text
    assert out["reached"] is False and "NOT REACHED" in html and AFTER in html


def test_report_shows_records_in_force_only(client, keys):
    def page(as_of):
        return client.get(produce(client, keys["service"], "E-0002", as_of)["html"], headers=hdr(keys["service"])).text
    assert "营税稽罚〔2022〕15号" in page(AFTER)
    assert "营税稽罚〔2022〕15号" not in page("2025-11-20")  # its term ended the day before


def test_numbers_are_unique_under_concurrency(client, keys):
    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(lambda _: produce(client, keys["service"], "E-0001")["number"], range(16)))
    assert len(set(numbers)) == 16
    seqs = sorted(int(n[-6:]) for n in numbers)
    assert seqs == list(range(seqs[0], seqs[0] + 16))


def test_report_masks_identity_numbers_whoever_produces_it(client, keys, resolved):
    clear = vault_numbers(resolved)
    for entity in ("P-0007", "P-0001"):
        html = client.get(produce(client, keys["investigator"], entity, BEFORE)["html"],
                          headers=hdr(keys["investigator"])).text
        assert clear[entity] not in html and mask(clear[entity]) in html
        assert not any(n in html for n in clear.values())


def test_unknown_entity_takes_no_number(client, keys, settings):
    before = sorted(p.name for p in settings.reports_path.glob("*"))
    r = client.post("/reports", json={"entity_id": "E-9999"}, headers=hdr(keys["service"]))
    assert r.status_code == 404
    assert sorted(p.name for p in settings.reports_path.glob("*")) == before


@pytest.mark.parametrize("number,status", [("CR-20990101-000001", 404), ("CR-1", 422), ("..%2Fapi_keys", 404)])
def test_unknown_or_malformed_number(client, keys, number, status):
    assert client.get(f"/reports/{number}.html", headers=hdr(keys["service"])).status_code == status


def test_cli_report(resolved, tmp_path, monkeypatch):
    from creditgraph.base.settings import get_settings
    from creditgraph.cli import app
    monkeypatch.setenv("CREDITGRAPH_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("CREDITGRAPH_ID_KEY", "test-id-key-for-api-tests")
    monkeypatch.delenv("NEO4J_URI", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["report", "E-0012", "--as-of", BEFORE, "--purpose", "bid check",
                                          "--who", "officer-li", "--from", str(resolved)])
        data = get_settings().data
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    number = re.search(r"CR-\d{8}-\d{6}", result.output).group(0)
    assert "REACHED" in result.output
    html = (data / "reports" / f"{number}.html").read_text(encoding="utf-8")
    assert number in html and BEFORE in html
    line = json.loads((data / "audit.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert (line["who"], line["method"], line["report"], line["purpose"]) == ("officer-li", "CLI", number, "bid check")
    assert os.stat(data / "audit.jsonl").st_mode & 0o077 == 0
