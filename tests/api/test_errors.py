"""Bounds -> 422, bad values -> 400/404 with a message; store failures -> 503/400, never 500."""
import pytest
from fastapi.testclient import TestClient

from creditgraph.api.app import create_app
from creditgraph.api.keys import create_key
from api_helpers import TEST_ID_KEY, hdr
from creditgraph.base.settings import Settings


@pytest.mark.parametrize("path", [
    "/entities/E-0001/related?depth=0",
    "/entities/E-0001/related?depth=4",
    "/entities/E-0001/related?limit=0",
    "/entities/E-0001/related?limit=501",
    "/entities/E-0001/related?types=OWNS_BOAT",
    "/search/name?q=鑫达&limit=1000",
    "/search/name?q=",
    "/guarantee-circles?max_length=9",
    "/search/name?q=%21%21",
    "/path?from_id=E-0001&to_id=E-0002&max_length=11",
    "/path?from_id=E-0001",
    "/entities/E-0001/beneficial-owners?threshold=2",
    "/audit?limit=5000",
])
def test_bounds_are_422(client, keys, path):
    r = client.get(path, headers=hdr(keys["admin"]))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["msg"]


def test_unknown_entity_is_404(client, keys):
    r = client.get("/entities/E-9999", headers=hdr(keys["admin"]))
    assert r.status_code == 404
    assert "E-9999" in r.json()["detail"] and "/search/name" in r.json()["detail"]


@pytest.mark.parametrize("value,fragment", [
    ("210802********3018", "masked"),
    ("hello", "expected"),
])
def test_bad_identifier_is_400(client, keys, value, fragment):
    r = client.get("/search/identifier", params={"value": value}, headers=hdr(keys["admin"]))
    assert r.status_code == 400 and fragment in r.json()["detail"]


def test_path_to_itself_is_empty(client, keys):
    r = client.get("/path?from_id=E-0001&to_id=E-0001", headers=hdr(keys["admin"]))
    assert r.status_code == 200 and r.json()["found"] and r.json()["paths"][0]["steps"] == []


class FailingStore:
    def __init__(self, exc):
        self.exc = exc

    def query(self, name, **params):
        raise self.exc

    def close(self):
        pass


@pytest.mark.parametrize("exc,status", [
    ("neo4j_down", 503),
    ("neo4j_client", 400),
    ("query_error", 400),
    ("connection", 503),
])
def test_store_errors_become_503_or_400(tmp_path, exc, status):
    from neo4j.exceptions import ClientError, ServiceUnavailable

    from creditgraph.graph.queries import MissingParameter
    error = {"neo4j_down": ServiceUnavailable("connection refused"),
             "neo4j_client": ClientError("bad parameter"),
             "query_error": MissingParameter("entity_id missing"),
             "connection": ConnectionRefusedError("refused")}[exc]
    settings = Settings(data=tmp_path, id_key=TEST_ID_KEY)  # no graph: the store param is not needed
    key = create_key("test-admin", ["admin"], tmp_path / "api_keys.json")
    app = create_app(store=FailingStore(error), settings=settings)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/entities/E-0001", headers=hdr(key))
    assert r.status_code == status, r.text
    assert r.json()["detail"]
    if status == 503:
        assert "retry" in r.json()["detail"]
