"""A torn line in decisions.jsonl (full disk, power loss) is set aside with a warning: both
faces and resolve go on, and the next decision starts on a line of its own. The log is 0600."""
import logging
import os
import stat

from creditgraph.linkage.decisions import Decision, DecisionLog, Verdict

TORN = b'{"left": "market:0001:subject", "right": "tax:0007:subj'


def decision(left: str, verdict=Verdict.SAME) -> Decision:
    return Decision(left, "tax:0001:subject", verdict, "steward-a", "checked")


def test_append_after_a_torn_line_starts_a_new_line(tmp_path, caplog):
    log = DecisionLog(tmp_path / "decisions.jsonl")
    log.append(decision("market:0001:subject"))
    with open(log.path, "ab") as f:
        f.write(TORN)  # the power went out mid-line
    log.append(decision("market:0002:subject", Verdict.DIFFERENT))
    with caplog.at_level(logging.WARNING):
        latest = log.latest()
    assert {d.left for d in latest.values()} == {"market:0001:subject", "market:0002:subject"}
    assert any(f"{log.path}:2" in r.getMessage() for r in caplog.records), caplog.text


def test_review_queue_answers_with_a_torn_line(api):
    path = api.settings.decisions_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(TORN)
    r = api.client.get("/review/queue", headers={"X-API-Key": api.keys["steward"], "X-Purpose": "review"})
    assert r.status_code == 200, r.text
    assert r.json()["pending"] >= 1
    r = api.client.post("/review/decisions", json={"pair_id": "rq-0001", "verdict": "same"},
                        headers={"X-API-Key": api.keys["steward"], "X-Purpose": "review"})
    assert r.status_code == 201
    assert [d.who for d in DecisionLog(path).all()] == ["test-steward"]


def test_resolve_goes_on_with_a_torn_line(tmp_path):
    from creditgraph.base.settings import Settings
    from creditgraph.pipeline import run_resolve
    from creditgraph.synth import generate
    generate(tmp_path / "city", 40, 60, seed=3)
    settings = Settings(data=tmp_path / "data", id_key="test-key")
    settings.data.mkdir()
    settings.decisions_path.write_bytes(b'{"left": "a", "right": "b", "verdict": "same", "who": "x"}\n' + TORN)
    report = run_resolve(tmp_path / "city" / "manifest.yaml", tmp_path / "out", settings)
    assert sum(report["entities"].values()) > 0 and (tmp_path / "out" / "entities.csv").exists()


def test_log_is_private(tmp_path):
    umask = os.umask(0o022)  # the usual default: files 0644 and folders 0755 unless asked otherwise
    try:
        log = DecisionLog(tmp_path / "data" / "decisions.jsonl")
        log.append(decision("market:0001:subject"))
    finally:
        os.umask(umask)
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.path.parent.stat().st_mode) == 0o700
