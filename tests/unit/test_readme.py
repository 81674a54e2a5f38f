"""Every README block that asks the API something runs as written after the demo, and answers."""
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from live_server import free_port

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
API_BLOCKS = [b for b in re.findall(r"```bash\n(.*?)```", README, re.S) if "curl" in b]


@pytest.fixture(scope="module")
def after_demo(tmp_path_factory):
    """A directory where the README's first command has run (its demo, not its install)."""
    work = tmp_path_factory.mktemp("readme")
    env = {**os.environ, "CREDITGRAPH_DATA": str(work / "data"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(["creditgraph", "demo"], cwd=work, env=env, check=True, capture_output=True)
    return work, env


def test_the_readme_has_api_examples():
    assert len(API_BLOCKS) >= 2


@pytest.mark.parametrize("block", API_BLOCKS, ids=lambda b: re.findall(r"8000(/[^\"?]*)", b)[-1])
def test_api_example_runs_as_written_after_the_demo(after_demo, block):
    work, env = after_demo
    port = str(free_port())
    script = "set -euo pipefail\n" + block.replace("8000", port)  # only the port differs
    out, err = work / "stdout.txt", work / "stderr.txt"
    # Output to files and a session of its own: the block's server must not outlive a failure.
    with out.open("w") as o, err.open("w") as e:
        proc = subprocess.Popen(["bash", "-c", script], cwd=work, env=env, stdout=o, stderr=e,
                                start_new_session=True)
        try:
            code = proc.wait(timeout=120)
        finally:
            _kill_group(proc)
    stdout = out.read_text(encoding="utf-8")
    assert code == 0, err.read_text(encoding="utf-8")[-2000:]
    answers = [line for line in stdout.splitlines() if line.startswith(("{", "["))]
    assert answers and all('"detail"' not in a for a in answers), stdout[-2000:]
    assert "营口锦博投资管理有限责任公司" in stdout, stdout[-2000:]
    if "joint-discipline?as_of=" in block:   # the listing's life as the README tells it
        assert '"relation":"legal_rep","role":null,"kind":"discipline"' in stdout, stdout[-2000:]
        assert '"status":"in_force"' in stdout and '"status":"removed"' in stdout
        assert '"removed_on":"2023-06-05","removal_reason":"performed"' in stdout


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
