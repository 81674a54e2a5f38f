"""The audited client address: X-Forwarded-For counts only from proxies the operator names
(CREDITGRAPH_TRUSTED_PROXIES); from anyone else, loopback included, it is ignored."""
import json

import pytest
from fastapi.testclient import TestClient

from api_helpers import memory_app

SPOOF = "203.0.113.7"


def _client_recorded(tmp_path, monkeypatch, peer: str, forwarded: str, trusted: str | None) -> dict:
    if trusted is None:
        monkeypatch.delenv("CREDITGRAPH_TRUSTED_PROXIES", raising=False)
    else:
        monkeypatch.setenv("CREDITGRAPH_TRUSTED_PROXIES", trusted)
    app, settings, keys = memory_app(tmp_path)
    with TestClient(app, client=(peer, 40000)) as client:
        r = client.get("/entities/E-0001", headers={"X-API-Key": keys["service"], "X-Purpose": "proxy test",
                                                    "X-Forwarded-For": forwarded})
        assert r.status_code == 200
    return json.loads(settings.audit_path.read_bytes().splitlines()[-1])


@pytest.mark.parametrize("peer", ["127.0.0.1", "::1", "10.0.0.5"])
def test_forwarded_for_is_ignored_by_default(tmp_path, monkeypatch, peer):
    line = _client_recorded(tmp_path, monkeypatch, peer, SPOOF, None)
    assert line["client"] == peer


def test_forwarded_for_from_a_named_proxy(tmp_path, monkeypatch):
    line = _client_recorded(tmp_path, monkeypatch, "10.0.0.5", f"198.51.100.1, {SPOOF}, 10.0.0.9",
                            "10.0.0.0/8, 127.0.0.1")
    # the right-most address no trusted proxy vouches for; what the caller wrote before it is not believed
    assert line["client"] == SPOOF and line["via"] == "10.0.0.5"


def test_forwarded_for_from_an_unnamed_peer_with_proxies_set(tmp_path, monkeypatch):
    line = _client_recorded(tmp_path, monkeypatch, "192.0.2.44", SPOOF, "10.0.0.0/8")
    assert line["client"] == "192.0.2.44" and "via" not in line


def test_garbage_forwarded_for_from_a_proxy(tmp_path, monkeypatch):
    line = _client_recorded(tmp_path, monkeypatch, "10.0.0.5", "not-an-address" + "x" * 500, "10.0.0.0/8")
    assert line["client"] == "10.0.0.5"
