"""The audit line is on disk (written and fsynced) before the response leaves; a request whose
line cannot be written fails with 503 and no data; kill -9 after a response loses no line."""
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from api_helpers import FIXTURE, TEST_ID_KEY, make_keys, resolved_copy
from live_server import free_port
from creditgraph.api.app import create_app
from creditgraph.base.settings import Settings


def _call(app, path: str, headers: list[tuple[bytes, bytes]], on_send) -> None:
    """One request straight through the ASGI app, `on_send(message)` for each message it sends."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
             "headers": headers, "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000)}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        on_send(message)

    asyncio.run(app(scope, receive, send))


def test_line_is_fsynced_before_the_response_starts(api, monkeypatch):
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    seen = {}

    def on_send(message):
        if message["type"] == "http.response.start":
            path = api.settings.audit_path
            seen["last"] = api.lines()[-1] if path.exists() else None
            seen["synced"] = str(path.resolve()) in synced
            seen["status"] = message["status"]

    _call(api.app, "/entities/E-0001", [(b"x-api-key", api.keys["service"].encode()),
                                        (b"x-purpose", b"durability check")], on_send)
    assert seen["status"] == 200
    assert seen["last"] and seen["last"]["endpoint"] == "/entities/{entity_id}" and seen["last"]["status"] == 200
    assert seen["synced"], "the audit line was not fsynced before the response started"


def test_unwritable_trail_fails_the_request_with_503(tmp_path, monkeypatch):
    from creditgraph.graph.factory import open_store
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data directory should be")
    resolved = resolved_copy(tmp_path / "resolved_small")
    keys_file = tmp_path / "keys" / "api_keys.json"
    keys = make_keys(keys_file)
    monkeypatch.setenv("CREDITGRAPH_API_KEYS_FILE", str(keys_file))
    store = open_store(f"memory://{tmp_path / 'graph.pickle'}")
    store.load(resolved)
    app = create_app(store=store, resolved_dir=resolved, settings=Settings(data=blocker / "data", id_key=TEST_ID_KEY))
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/entities/P-0001", headers={"X-API-Key": keys["investigator"], "X-Purpose": "check"})
    assert r.status_code == 503, r.text
    assert "audit" in r.json()["detail"]
    assert "P-0001" not in r.text and "王建国" not in r.text


def _serve(tmp_path, data, port):
    env = {**os.environ, "CREDITGRAPH_DATA": str(data)}
    for name in ("NEO4J_URI", "CREDITGRAPH_API_KEYS_FILE"):
        env.pop(name, None)
    log = open(tmp_path / "serve.log", "ab")
    return subprocess.Popen([sys.executable, "-m", "creditgraph.cli", "serve", "--from", str(FIXTURE),
                             "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _wait_up(base, proc, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, "serve exited (see serve.log)"
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("serve did not come up")


def _post_and_kill(port: int, proc, key: str, body: bytes) -> bytes:
    """POST a decision over a raw socket and kill -9 the server the moment its first bytes come."""
    request = (f"POST /review/decisions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {key}\r\n"
               f"X-Purpose: kill test\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(request)
        first = s.recv(12)
        os.killpg(proc.pid, signal.SIGKILL)
    return first


@pytest.mark.parametrize("round_", range(3))
def test_kill_9_right_after_a_decision_keeps_its_audit_line(tmp_path, round_):
    data = tmp_path / "data"
    keys = make_keys(data / "api_keys.json")
    port = free_port()
    proc = _serve(tmp_path, data, port)
    try:
        _wait_up(f"http://127.0.0.1:{port}", proc)
        body = json.dumps({"pair_id": "rq-0001", "verdict": "unsure", "note": f"round {round_}"}).encode()
        assert _post_and_kill(port, proc, keys["steward"], body) == b"HTTP/1.1 201"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(20)
    lines = [json.loads(x) for x in (data / "audit.jsonl").read_text(encoding="utf-8").splitlines()]
    decided = [x for x in lines if x["endpoint"] == "/review/decisions"]
    assert decided and decided[-1]["status"] == 201 and decided[-1]["params"]["pair_id"] == "rq-0001"
