"""scripts/postgres-local, the test command's throwaway PostgreSQL: a server whose files had to
live under /tmp (run as root, its directory unreachable by the `postgres` user) leaves nothing
there once stopped; one in its own directory keeps its files there for the next start."""
from __future__ import annotations

import glob
import os
import socket
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "postgres-local"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(not glob.glob("/usr/lib/postgresql/*/bin"), reason="no PostgreSQL (scripts/test installs it)")
def test_the_server_leaves_no_files_under_tmp_once_stopped(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    data, port = private / "pg", str(_free_port())
    before = set(glob.glob("/tmp/creditgraph-postgres-*"))
    started = _run("start", "--dir", str(data), "--port", port)
    assert started.returncode == 0, started.stderr
    try:
        assert _run("status", "--dir", str(data)).returncode == 0
        moved = set(glob.glob("/tmp/creditgraph-postgres-*")) - before
        if os.geteuid() == 0:  # the postgres user cannot enter tmp_path: the files went to /tmp
            assert len(moved) == 1 and not data.exists()
        else:
            assert not moved and (data / "cluster" / "PG_VERSION").exists()
    finally:
        assert _run("stop", "--dir", str(data)).returncode == 0
    assert _run("status", "--dir", str(data)).returncode == 3
    assert set(glob.glob("/tmp/creditgraph-postgres-*")) == before  # nothing left under /tmp
    if os.geteuid() != 0:
        assert (data / "cluster" / "PG_VERSION").exists()  # kept for the next start
