"""Keys and roles: no or unknown key -> 401, a role outside the matrix -> 403, else served.

The expected answers come from docs/api.md (its "Endpoints" and "Role matrix" tables, parsed
here), never from api/access.py: a role the code grants and the documentation does not, or
the reverse, fails a check."""
import itertools
import re
from pathlib import Path

import pytest

from creditgraph.api.keys import KeyRing, create_key, revoke_key
from api_helpers import ROLES, hdr

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def _table(heading: str) -> list[list[str]]:
    """The cells of the first markdown table under the `## heading` line of docs/api.md."""
    lines = API_DOC.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"## {heading}"))
    after = itertools.dropwhile(lambda line: not line.startswith("|"), lines[start + 1:])
    rows = list(itertools.takewhile(lambda line: line.startswith("|"), after))
    return [[c.strip() for c in row.strip("|").split("|")] for row in rows if "---" not in row]


def _templates(cell: str):
    """'GET /entities/{id}, /entities/{id}/records' -> (GET, /entities/{}), (GET, /entities/{}/records)."""
    method = None
    for part in re.sub(r"\s*\(.*?\)", "", cell).split(", "):
        m = re.fullmatch(r"(?:([A-Z]+) )?(/[^?\s]*)\S*", part.strip())
        method = m.group(1) or method
        yield method, re.sub(r"\{[^}]*\}", "{}", m.group(2))


def documented_endpoints() -> dict[tuple[str, str], str]:
    """(method, path template) -> permission, from the Endpoints table."""
    return {t: perm for cell, perm in _table("Endpoints")[1:] for t in _templates(cell)}


def documented_roles() -> dict[str, set[str]]:
    """permission -> roles marked x, from the Role matrix table ('entity (detail, ...)' -> entity)."""
    header, *rows = _table("Role matrix")
    return {re.match(r"\w+", row[0]).group(0): {role for role, x in zip(header[1:], row[1:]) if x == "x"}
            for row in rows}


ENDPOINTS = documented_endpoints()
ROLE_MATRIX = documented_roles()

REQUESTS = [  # (method, url, json): one real request per documented endpoint, on known ids
    ("GET", "/health", None),
    ("GET", "/search/name?q=鑫达", None),
    ("GET", "/search/identifier?value=91210800710001374U", None),
    ("GET", "/entities/E-0001", None),
    ("GET", "/entities/E-0001/records", None),
    ("GET", "/entities/E-0001/related", None),
    ("GET", "/entities/E-0012/shared-contacts", None),
    ("GET", "/entities/E-0001/joint-discipline", None),
    ("GET", "/entities/P-0001/joint-discipline/reverse", None),
    ("GET", "/entities/E-0001/beneficial-owners", None),
    ("GET", "/entities/E-0001/credit?as_of=2024-01-01", None),
    ("POST", "/reports", {"entity_id": "E-0001", "reference": "tender 2024-9"}),
    ("GET", "/reports/{report}.html", None),  # {report}: the number the `report` fixture produced
    ("GET", "/reports/{report}.pdf", None),
    ("GET", "/guarantee-circles", None),
    ("GET", "/path?from_id=E-0003&to_id=E-0002", None),
    ("GET", "/review/queue", None),
    ("POST", "/review/decisions", {"pair_id": "rq-0001", "verdict": "unsure"}),  # stays pending
    ("GET", "/audit", None),
]


@pytest.fixture(scope="module")
def report(client, keys) -> str:
    r = client.post("/reports", json={"entity_id": "E-0012"}, headers=hdr(keys["admin"]))
    assert r.status_code == 201, r.text
    return r.json()["number"]


def template_of(method: str, url: str) -> tuple[str, str]:
    """The documented (method, template) a concrete request falls under."""
    path = url.split("?")[0]
    found = [t for t in ENDPOINTS
             if t[0] == method and re.fullmatch(re.escape(t[1]).replace(r"\{\}", "[^/]+"), path)]
    assert len(found) == 1, (url, found)
    return found[0]


def permission_of(method: str, url: str) -> str:
    return ENDPOINTS[template_of(method, url)]


DATA_REQUESTS = [r for r in REQUESTS if permission_of(r[0], r[1]) != "none"]
MATRIX_CASES = [pytest.param(role, *r, id=f"{role}-{r[0]} {r[1].split('?')[0]}")
                for role in ROLES for r in REQUESTS]


def test_the_doc_tables_parse():
    """The parser reads what docs/api.md says (the tables are the source of the checks below)."""
    assert ENDPOINTS[("GET", "/entities/{}/records")] == "entity"
    assert ENDPOINTS[("POST", "/review/decisions")] == "review"
    assert ROLE_MATRIX["path"] == {"investigator", "admin"}
    assert ROLE_MATRIX["audit"] == {"admin"}
    assert set(ENDPOINTS.values()) - {"none"} <= set(ROLE_MATRIX)
    assert set().union(*ROLE_MATRIX.values()) == set(ROLES)   # a key for every documented role


def test_every_documented_endpoint_is_requested():
    assert {template_of(m, u) for m, u, _ in REQUESTS} == set(ENDPOINTS)


def test_every_route_is_documented(client):
    """What the app serves (its OpenAPI) is what docs/api.md lists, no more, no less."""
    served = {(m.upper(), re.sub(r"\{[^}]*\}", "{}", path))
              for path, ops in client.get("/openapi.json").json()["paths"].items() for m in ops}
    assert served == set(ENDPOINTS)


@pytest.mark.parametrize("method,path,body", DATA_REQUESTS, ids=[r[1].split("?")[0] for r in DATA_REQUESTS])
def test_no_key_is_401(client, report, method, path, body):
    r = client.request(method, path.format(report=report), json=body, headers=hdr(None))
    assert r.status_code == 401, r.text
    assert "X-API-Key" in r.json()["detail"]


@pytest.mark.parametrize("method,path,body", DATA_REQUESTS, ids=[r[1].split("?")[0] for r in DATA_REQUESTS])
def test_unknown_key_is_401(client, report, method, path, body):
    r = client.request(method, path.format(report=report), json=body, headers=hdr("cg_not-a-real-key"))
    assert r.status_code == 401


@pytest.mark.parametrize("role,method,path,body", MATRIX_CASES)
def test_role_matrix(client, keys, report, role, method, path, body):
    perm = permission_of(method, path)
    r = client.request(method, path.format(report=report), json=body, headers=hdr(keys[role]))
    if perm == "none" or role in ROLE_MATRIX[perm]:
        assert 200 <= r.status_code < 300, r.text
    else:
        assert r.status_code == 403, r.text
        assert perm in r.json()["detail"]


def test_bearer_header_works(client, keys):
    r = client.get("/entities/E-0001", headers={"Authorization": f"Bearer {keys['service']}",
                                                "X-Purpose": "test"})
    assert r.status_code == 200


def test_health_needs_no_key(client):
    r = client.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_docs_and_page_need_no_key(client):
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    r = client.get("/review")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]


def test_key_file_stores_hashes_only(tmp_path):
    path = tmp_path / "keys.json"
    plain = create_key("bank-a", ["service"], path)
    text = path.read_text()
    assert plain not in text and "bank-a" in text
    assert (path.stat().st_mode & 0o777) == 0o600
    ring = KeyRing(path)
    assert ring.lookup(plain).name == "bank-a"
    with pytest.raises(ValueError, match="exists"):
        create_key("bank-a", ["service"], path)
    with pytest.raises(ValueError, match="unknown role"):
        create_key("x", ["root"], path)
    assert revoke_key("bank-a", path)
    assert ring.lookup(plain) is None


def test_key_created_while_running_is_accepted(client, settings):
    plain = create_key("late-service", ["service"], settings.data / "api_keys.json")
    assert client.get("/entities/E-0001", headers=hdr(plain)).status_code == 200
