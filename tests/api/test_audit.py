"""Audit trail: one JSON line per data request, with who, purpose, status; numbers never clear."""
import json

from api_helpers import hdr, vault_numbers


def _lines(settings):
    return [json.loads(x) for x in settings.audit_path.read_text(encoding="utf-8").splitlines() if x.strip()]


def test_missing_purpose_is_refused(client, keys):
    r = client.get("/entities/P-0001", headers=hdr(keys["investigator"], purpose=False))
    assert r.status_code == 400
    assert "X-Purpose" in r.json()["detail"]
    r = client.get("/entities/P-0001", headers={**hdr(keys["investigator"]), "X-Purpose": "   "})
    assert r.status_code == 400


def test_request_is_audited_with_purpose(client, keys, settings):
    purpose = "procurement check tender 2024-117"
    r = client.get("/entities/P-0001", headers={"X-API-Key": keys["service"], "X-Purpose": purpose})
    assert r.status_code == 200
    last = _lines(settings)[-1]
    assert last["who"] == "test-service" and last["roles"] == ["service"]
    assert last["endpoint"] == "/entities/{entity_id}" and last["method"] == "GET"
    assert last["params"] == {"entity_id": "P-0001"}
    assert last["purpose"] == purpose and last["status"] == 200
    assert last["when"].startswith("20")


def test_non_ascii_purpose_percent_encoded(client, keys, settings):
    from urllib.parse import quote
    r = client.get("/entities/E-0001", headers={"X-API-Key": keys["service"], "X-Purpose": quote("政府采购资格审查")})
    assert r.status_code == 200
    assert _lines(settings)[-1]["purpose"] == "政府采购资格审查"


def test_refusals_are_audited(client, keys, settings):
    client.get("/entities/E-0001", headers=hdr(None))
    assert _lines(settings)[-1]["status"] == 401 and _lines(settings)[-1]["who"] is None
    client.get("/audit", headers=hdr(keys["service"]))
    assert _lines(settings)[-1]["status"] == 403 and _lines(settings)[-1]["who"] == "test-service"
    client.get("/entities/E-0001", headers=hdr(keys["service"], purpose=False))
    assert _lines(settings)[-1]["status"] == 400


def test_identity_number_in_parameters_never_clear(client, keys, settings, resolved):
    number = vault_numbers(resolved)["P-0001"]
    r = client.get("/search/identifier", params={"value": number}, headers=hdr(keys["investigator"]))
    assert r.status_code == 200
    text = settings.audit_path.read_text(encoding="utf-8")
    assert number not in text
    assert _lines(settings)[-1]["params"]["value"] == "*" * 14 + number[-4:]  # base.privacy.mask


def test_health_not_audited(client, settings):
    before = len(_lines(settings)) if settings.audit_path.exists() else 0
    client.get("/health")
    assert len(_lines(settings)) == before


def test_admin_queries_audit_trail(client, keys):
    client.get("/entities/E-0002", headers={"X-API-Key": keys["service"], "X-Purpose": "bank credit check"})
    r = client.get("/audit", params={"who": "test-service", "endpoint": "/entities", "purpose": "bank credit"},
                   headers=hdr(keys["admin"]))
    assert r.status_code == 200
    entries = r.json()["entries"]
    assert entries and entries[0]["params"] == {"entity_id": "E-0002"}
    assert all(e["who"] == "test-service" for e in entries)
    client.get("/entities/E-0002", headers=hdr(None))   # a 401 to filter on
    r = client.get("/audit", params={"status": 401, "limit": 5}, headers=hdr(keys["admin"]))
    entries = r.json()["entries"]
    assert entries and all(e["status"] == 401 for e in entries)
