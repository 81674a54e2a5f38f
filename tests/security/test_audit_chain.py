"""Tamper evidence: every line carries `seq` and `prev` (sha256 of the previous line), rotated
files continue the chain, several processes keep it intact, and `creditgraph audit verify`
names the first edited, removed or truncated line by file and line number."""
import hashlib
import json
import logging
import multiprocessing

import pytest
from typer.testing import CliRunner

from creditgraph.api.audit import GENESIS, AuditTrail
from creditgraph.cli import app as cli


def record(i: int) -> dict:
    return {"who": "test", "method": "GET", "endpoint": "/entities/{entity_id}",
            "params": {"entity_id": f"E-{i:04d}"}, "purpose": f"check {i}", "status": 200}


def fill(path, n: int, **kw) -> AuditTrail:
    trail = AuditTrail(path, **kw)
    for i in range(n):
        trail.append(record(i))
    return trail


def verify(data_dir):
    return CliRunner().invoke(cli, ["audit", "verify", "--data", str(data_dir)])


def raw_lines(path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def last_seq(path) -> int:
    return json.loads(raw_lines(path)[-1])["seq"]


def test_lines_are_chained(api):
    for path in ("/entities/E-0001", "/entities/E-0002", "/nope"):
        api.client.get(path, headers={"X-API-Key": api.keys["service"], "X-Purpose": "chain test"})
    lines = raw_lines(api.settings.audit_path)
    assert [json.loads(x)["seq"] for x in lines] == [1, 2, 3]
    assert json.loads(lines[0])["prev"] == GENESIS
    for before, line in zip(lines, lines[1:]):
        assert json.loads(line)["prev"] == hashlib.sha256(before.rstrip(b"\n")).hexdigest()


def test_verify_intact(tmp_path):
    fill(tmp_path / "audit.jsonl", 6)
    result = verify(tmp_path)
    print(result.output)
    assert result.exit_code == 0, result.output
    assert "intact" in result.output and "6 lines" in result.output


def test_verify_reports_an_edited_line(tmp_path):
    path = tmp_path / "audit.jsonl"
    fill(path, 6)
    lines = raw_lines(path)
    lines[2] = lines[2].replace(b"check 2", b"check 9")  # still valid JSON, still seq 3
    path.write_bytes(b"".join(lines))
    result = verify(tmp_path)
    print(result.output)
    assert result.exit_code != 0
    assert f"{path}:4: broken link" in result.output and f"{path}:3" in result.output


def test_verify_reports_a_removed_line(tmp_path):
    path = tmp_path / "audit.jsonl"
    fill(path, 6)
    lines = raw_lines(path)
    del lines[2]
    path.write_bytes(b"".join(lines))
    result = verify(tmp_path)
    print(result.output)
    assert result.exit_code != 0
    assert f"{path}:3: gap" in result.output and "seq 4 follows seq 2" in result.output


def test_verify_reports_a_truncated_trail(tmp_path):
    path = tmp_path / "audit.jsonl"
    fill(path, 6)
    data = path.read_bytes()
    path.write_bytes(data[:-25])  # cut in the middle of the last line
    result = verify(tmp_path)
    print(result.output)
    assert result.exit_code != 0
    assert f"{path}:6: truncated" in result.output
    path.write_bytes(b"".join(raw_lines(path)[:4]))  # cut at a line end: only the head knows
    result = verify(tmp_path)
    assert result.exit_code != 0
    assert "truncated" in result.output and "seq 6" in result.output and "seq 4" in result.output


def test_verify_reports_a_removed_first_line(tmp_path):
    path = tmp_path / "audit.jsonl"
    fill(path, 3)
    path.write_bytes(b"".join(raw_lines(path)[1:]))
    result = verify(tmp_path)
    assert result.exit_code != 0 and f"{path}:1: gap" in result.output


@pytest.mark.parametrize("how", ["deleted", "renamed", "emptied"])
def test_a_vanished_trail_is_reported_and_the_chain_goes_on(tmp_path, caplog, how):
    path = tmp_path / "audit.jsonl"
    fill(path, 5)
    if how == "deleted":
        path.unlink()
    elif how == "renamed":
        path.rename(tmp_path / "old.jsonl")
    else:
        path.write_bytes(b"")
    with caplog.at_level(logging.ERROR, logger="creditgraph.api.audit"):
        trail = AuditTrail(path)  # a server starting up
        trail.append(record(99))
    assert any("audit.jsonl" in r.getMessage() and "seq 5" in r.getMessage() for r in caplog.records
               if r.levelno >= logging.ERROR), caplog.text
    assert last_seq(path) > 5  # not silently starting over at 1
    result = verify(tmp_path)
    assert result.exit_code != 0 and "missing" in result.output


def test_rotation_keeps_the_chain(tmp_path):
    path = tmp_path / "audit.jsonl"
    fill(path, 40, max_bytes=2000)
    rotated = sorted(tmp_path.glob("audit-*.jsonl"))
    assert len(rotated) >= 3
    assert all(f.stat().st_size <= 2000 + 400 for f in rotated)
    assert last_seq(path) == 40
    result = verify(tmp_path)
    assert result.exit_code == 0, result.output
    assert "40 lines" in result.output
    # a rotated file's first line links to the last line of the file before it
    first_of_second = json.loads(raw_lines(rotated[1])[0])
    last_of_first = raw_lines(rotated[0])[-1]
    assert first_of_second["prev"] == hashlib.sha256(last_of_first.rstrip(b"\n")).hexdigest()
    # a rotated file removed: a gap between the files
    rotated[1].unlink()
    result = verify(tmp_path)
    assert result.exit_code != 0 and "gap" in result.output


def _writer(path, n, worker):
    trail = AuditTrail(path, max_bytes=20_000)
    for i in range(n):
        trail.append({**record(i), "who": f"worker-{worker}"})


def test_several_processes_keep_one_chain(tmp_path):
    path = tmp_path / "audit.jsonl"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, 60, w)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    result = verify(tmp_path)
    assert result.exit_code == 0, result.output
    assert "240 lines" in result.output
    files = sorted(tmp_path.glob("audit-*.jsonl")) + [path]
    seqs = [json.loads(x)["seq"] for f in files for x in raw_lines(f)]
    assert seqs == list(range(1, 241))


def test_verify_without_a_trail_is_not_intact(tmp_path):
    result = verify(tmp_path)
    assert result.exit_code != 0 and "no audit trail" in result.output
