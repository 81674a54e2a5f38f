"""Keys and roles: no or unknown key -> 401, a role outside the matrix -> 403, else served."""
import pytest

from creditgraph.api.access import MATRIX, Permission, Role
from creditgraph.api.keys import KeyRing, create_key, revoke_key
from api_helpers import ROLES, hdr

ENDPOINTS = [  # (method, path, json, permission)
    ("GET", "/search/name?q=鑫达", None, Permission.SEARCH),
    ("GET", "/search/identifier?value=91210800710001374U", None, Permission.SEARCH),
    ("GET", "/entities/E-0001", None, Permission.ENTITY),
    ("GET", "/entities/E-0001/records", None, Permission.ENTITY),
    ("GET", "/entities/E-0001/related", None, Permission.RELATED),
    ("GET", "/entities/E-0001/joint-discipline", None, Permission.DISCIPLINE_FORWARD),
    ("GET", "/entities/P-0001/joint-discipline/reverse", None, Permission.DISCIPLINE_REVERSE),
    ("GET", "/entities/E-0001/beneficial-owners", None, Permission.BENEFICIAL_OWNERS),
    ("GET", "/guarantee-circles", None, Permission.GUARANTEE_CIRCLES),
    ("GET", "/path?from_id=E-0003&to_id=E-0002", None, Permission.PATH),
    ("GET", "/review/queue", None, Permission.REVIEW),
    ("POST", "/review/decisions", {"pair_id": "no-such-pair", "verdict": "unsure"}, Permission.REVIEW),
    ("GET", "/audit", None, Permission.AUDIT),
]


@pytest.mark.parametrize("method,path,body,perm", ENDPOINTS, ids=[e[1] for e in ENDPOINTS])
def test_no_key_is_401(client, method, path, body, perm):
    r = client.request(method, path, json=body, headers=hdr(None))
    assert r.status_code == 401, r.text
    assert "X-API-Key" in r.json()["detail"]


@pytest.mark.parametrize("method,path,body,perm", ENDPOINTS, ids=[e[1] for e in ENDPOINTS])
def test_unknown_key_is_401(client, method, path, body, perm):
    r = client.request(method, path, json=body, headers=hdr("cg_not-a-real-key"))
    assert r.status_code == 401


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method,path,body,perm", ENDPOINTS, ids=[e[1] for e in ENDPOINTS])
def test_role_matrix(client, keys, role, method, path, body, perm):
    r = client.request(method, path, json=body, headers=hdr(keys[role]))
    if Role(role) in MATRIX[perm]:
        assert r.status_code in (200, 201, 404), r.text  # 404: the unknown pair of the POST
    else:
        assert r.status_code == 403, r.text
        assert perm.value in r.json()["detail"]


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
