"""API keys from the command line: create with an expiry, list (never a key nor its hash),
revoke, all taking effect on a running API without a restart; "last used" recorded cheaply."""
from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from creditgraph.api import keys as keys_module
from creditgraph.api.keys import KeyRing, create_key, hash_key, list_keys, used_path
from creditgraph.base.settings import Settings, get_settings
from creditgraph.cli import app

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "resolved_small"
PURPOSE = {"X-Purpose": "unit test: keys"}
runner = CliRunner()


@pytest.fixture
def data(tmp_path, monkeypatch):
    path = tmp_path / "data"
    monkeypatch.setenv("CREDITGRAPH_DATA", str(path))
    monkeypatch.delenv("CREDITGRAPH_API_KEYS_FILE", raising=False)
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


@pytest.fixture
def client(data, tmp_path):
    """The API over the fixture, reading the keys file the CLI writes."""
    from creditgraph.api.app import create_app
    resolved = shutil.copytree(FIXTURE, tmp_path / "resolved")
    with TestClient(create_app(resolved_dir=resolved, settings=Settings(data=data))) as c:
        yield c


def cli(*args):
    return runner.invoke(app, ["apikey", *map(str, args)])


def new_key(*args) -> str:
    result = cli("create", *args)
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1]


def get(client, key: str):
    return client.get("/entities/E-0001", headers={**PURPOSE, "X-API-Key": key})


def test_list_shows_name_roles_dates_and_never_a_key_or_its_hash(data):
    key = new_key("alice", "--role", "investigator", "--role", "steward", "--expires", "2099-01-31")
    new_key("bank-a", "--role", "service", "--days", "30")
    listed = cli("list")
    assert listed.exit_code == 0, listed.output
    for text in ("alice", "investigator, steward", "2099-02-01", "bank-a", "service", "never"):
        assert text in listed.output, text
    as_json = json.loads(cli("list", "--json").stdout)
    assert {k["name"] for k in as_json} == {"alice", "bank-a"}
    assert set(as_json[0]) == {"name", "roles", "created", "last_used", "expires", "expired"}
    in_30_days = datetime.fromisoformat(as_json[1]["expires"]) - datetime.now(timezone.utc)
    assert timedelta(days=29) < in_30_days <= timedelta(days=30)
    for output in (listed.output, cli("list", "--json").stdout):
        assert key not in output and hash_key(key) not in output


def test_a_second_key_of_one_name_and_a_past_expiry_are_usage_errors(data):
    new_key("alice", "--role", "service")
    twice = cli("create", "alice", "--role", "service")
    past = cli("create", "bob", "--role", "service", "--expires", "2001-01-01")
    both = cli("create", "carol", "--role", "service", "--expires", "2099-01-01", "--days", "3")
    for result, says in ((twice, "revoke it first"), (past, "has passed"), (both, "not both")):
        assert result.exit_code == 2 and says in " ".join(result.output.replace("│", " ").split())
    assert [k["name"] for k in list_keys()] == ["alice"]


def test_a_revoked_key_is_refused_by_the_running_api_without_restart(client):
    key = new_key("alice", "--role", "investigator")
    assert get(client, key).status_code == 200
    revoked = cli("revoke", "alice")
    assert revoked.exit_code == 0, revoked.output
    refused = get(client, key)
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    assert cli("revoke", "alice").exit_code == 2  # no such key any more


def test_an_expired_key_is_refused_saying_it_expired(client, data):
    key = new_key("alice", "--role", "investigator", "--days", "1")
    assert get(client, key).status_code == 200
    path = data / "api_keys.json"  # a day goes by: the expiry is now in the past
    entries = json.loads(path.read_text())
    entries["keys"][0]["expires"] = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat()
    path.write_text(json.dumps(entries))
    refused = get(client, key)
    assert refused.status_code == 401 and "expired" in refused.json()["detail"]
    assert "EXPIRED" in cli("list").output


def test_last_use_is_recorded_beside_the_keys_file_at_most_once_a_minute(tmp_path):
    path = tmp_path / "keys.json"
    key = create_key("alice", ["service"], path)
    keys_before = path.read_bytes(), path.stat().st_mtime_ns
    ring = KeyRing(path)
    assert [k["last_used"] for k in list_keys(path)] == [None]
    assert ring.lookup(key).name == "alice"
    first = used_path(path).stat().st_mtime_ns
    assert list_keys(path)[0]["last_used"] is not None
    ring.lookup(key)
    assert used_path(path).stat().st_mtime_ns == first, "a second use within a minute rewrote the side file"
    assert (path.read_bytes(), path.stat().st_mtime_ns) == keys_before, "serving wrote the keys file"


def test_last_use_is_written_again_once_the_minute_has_passed(tmp_path, monkeypatch):
    path = tmp_path / "keys.json"
    key = create_key("alice", ["service"], path)
    ring = KeyRing(path)
    ring.lookup(key)
    used = json.loads(used_path(path).read_text())
    used[hash_key(key)] = "2000-01-01T00:00:00+00:00"  # as if the last write were long ago
    used_path(path).write_text(json.dumps(used))
    monkeypatch.setattr(keys_module, "TOUCH_EVERY_S", 0)
    ring.lookup(key)
    assert list_keys(path)[0]["last_used"] > "2000-01-01T00:00:00+00:00"
