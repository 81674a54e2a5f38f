"""`creditgraph serve --workers N`: the command users run, as a real server process."""
import os
import subprocess
import sys
import time

import httpx
import psutil

from api_helpers import FIXTURE, hdr, make_keys
from live_server import free_port


def wait_up(base: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, f"serve exited with {proc.returncode} (see serve.log)"
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{base} did not come up in {timeout}s")


def test_serve_with_two_workers(tmp_path):
    data = tmp_path / "data"
    keys = make_keys(data / "api_keys.json")
    port = free_port()
    env = {**os.environ, "CREDITGRAPH_DATA": str(data)}
    env.pop("NEO4J_URI", None)  # the embedded store: each worker loads its own graph
    env.pop("CREDITGRAPH_API_KEYS_FILE", None)
    log = open(tmp_path / "serve.log", "wb")  # a file, not a pipe nobody drains
    proc = subprocess.Popen([sys.executable, "-m", "creditgraph.cli", "serve", "--from", str(FIXTURE),
                             "--port", str(port), "--workers", "2"], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(base, proc)
        workers = [c for c in psutil.Process(proc.pid).children(recursive=True)
                   if "spawn_main" in " ".join(c.cmdline())]
        assert len(workers) == 2
        with httpx.Client(base_url=base, headers=hdr(keys["investigator"])) as client:
            for _ in range(40):
                r = client.get("/entities/E-0001", headers={"Connection": "close"})
                assert r.status_code == 200 and r.json()["entity_id"] == "E-0001"
        # every request was audited, by whichever worker took it, in the one trail, before its
        # response was sent: no waiting
        lines = (data / "audit.jsonl").read_text(encoding="utf-8").splitlines()
        audited = sum('"/entities/{entity_id}"' in line for line in lines)
        assert audited == 40
    finally:
        proc.terminate()
        proc.wait(120)  # the supervisor reads SIGTERM between health checks, each up to 30 s under load
        log.close()
