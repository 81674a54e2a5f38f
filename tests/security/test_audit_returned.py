"""Whose data a query returned: the audit line lists every entity id in the response body."""
import pytest

ID_KEYS = {"entity_id", "from_id", "to_id", "left_entity", "right_entity"}


def ids_in(body) -> set[str]:
    if isinstance(body, dict):
        found = {v for k, v in body.items() if k in ID_KEYS and isinstance(v, str)}
        return found.union(*(ids_in(v) for v in body.values()))
    if isinstance(body, list):
        return set().union(*(ids_in(v) for v in body))
    return set()


@pytest.mark.parametrize("path,params,role", [
    ("/search/name", {"q": "营口"}, "service"),
    ("/entities/E-0001/related", {"depth": 2}, "investigator"),
    ("/path", {"from_id": "E-0003", "to_id": "E-0002"}, "investigator"),
    ("/entities/E-0001/joint-discipline", {}, "investigator"),
    ("/review/queue", {}, "steward"),
])
def test_returned_entities_are_recorded(api, path, params, role):
    r = api.client.get(path, params=params, headers={"X-API-Key": api.keys[role], "X-Purpose": "who was returned"})
    assert r.status_code == 200, r.text
    expected = ids_in(r.json())
    assert len(expected) >= 2, "the fixture should return several parties here"
    assert set(api.lines()[-1]["returned"]) == expected


def test_refused_request_returns_nobody(api):
    api.client.get("/entities/E-0001/related", headers={"X-API-Key": api.keys["service"], "X-Purpose": "x"})
    last = api.lines()[-1]
    assert last["status"] == 403 and not last.get("returned")
