"""A damaged api_keys.json fails closed: 503 saying so, a log line naming the file and the
fault, and service again once the file is fixed."""
import logging

import pytest

CORRUPT = {
    "truncated": '{"keys": [{"name": "a", "roles": ["admin"], "sha',
    "a list": '[{"name": "a"}]',
    "keys not a list": '{"keys": 7}',
    "an entry not an object": '{"keys": ["admin"]}',
    "not UTF-8": b'{"keys": [\xff\xfe]}',
}


@pytest.mark.parametrize("fault", CORRUPT)
def test_corrupt_keys_file_is_a_clear_503(api, caplog, fault):
    path = api.settings.data / "api_keys.json"
    good = path.read_bytes()
    content = CORRUPT[fault]
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    headers = {"X-API-Key": api.keys["service"], "X-Purpose": "keys test"}
    with caplog.at_level(logging.ERROR):
        r = api.client.get("/entities/E-0001", headers=headers)
    assert r.status_code == 503, r.text
    assert "API keys" in r.json()["detail"] and "E-0001" not in r.text
    assert any(str(path) in rec.getMessage() for rec in caplog.records if rec.levelno >= logging.ERROR), caplog.text
    path.write_bytes(good)
    assert api.client.get("/entities/E-0001", headers=headers).status_code == 200


def test_keys_file_replaced_by_a_directory(api):
    path = api.settings.data / "api_keys.json"
    path.unlink()
    path.mkdir()
    r = api.client.get("/entities/E-0001", headers={"X-API-Key": api.keys["service"], "X-Purpose": "keys test"})
    assert r.status_code == 503 and "API keys" in r.json()["detail"]
