"""The deployed shape, `creditgraph serve --workers 2`: both workers append to one chain that
verifies intact under concurrent requests, and a forwarded address from loopback is not believed."""
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from typer.testing import CliRunner

from api_helpers import FIXTURE, make_keys
from live_server import free_port
from creditgraph.cli import app as cli


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    data = root / "data"
    keys = make_keys(data / "api_keys.json")
    port = free_port()
    env = {**os.environ, "CREDITGRAPH_DATA": str(data)}
    for name in ("NEO4J_URI", "CREDITGRAPH_API_KEYS_FILE", "CREDITGRAPH_TRUSTED_PROXIES", "FORWARDED_ALLOW_IPS"):
        env.pop(name, None)
    log = open(root / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "creditgraph.cli", "serve", "--from", str(FIXTURE),
                             "--port", str(port), "--workers", "2"], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            assert proc.poll() is None and time.time() < deadline, (root / "serve.log").read_text()
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield base, data, keys
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        log.close()


def _lines(data) -> list[dict]:
    return [json.loads(x) for x in (data / "audit.jsonl").read_text(encoding="utf-8").splitlines()]


def test_forwarded_for_from_loopback_is_not_believed(server):
    base, data, keys = server
    r = httpx.get(base + "/entities/E-0001", headers={"X-API-Key": keys["service"], "X-Purpose": "proxy test",
                                                      "X-Forwarded-For": "203.0.113.7"})
    assert r.status_code == 200
    last = [x for x in _lines(data) if x.get("purpose") == "proxy test"][-1]
    assert last["client"] == "127.0.0.1"


def test_two_workers_keep_one_intact_chain(server):
    base, data, keys = server
    headers = {"X-API-Key": keys["investigator"], "X-Purpose": "concurrency test", "Connection": "close"}

    def get(i):
        return httpx.get(f"{base}/entities/E-{i % 15 + 1:04d}/related", headers=headers).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(get, range(120)))
    assert statuses == [200] * 120
    lines = _lines(data)
    assert sum(x.get("purpose") == "concurrency test" for x in lines) == 120  # all on disk already
    assert [x["seq"] for x in lines] == list(range(1, len(lines) + 1))
    result = CliRunner().invoke(cli, ["audit", "verify", "--data", str(data)])
    assert result.exit_code == 0, result.output
