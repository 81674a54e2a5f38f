"""The main job end to end (`creditgraph demo`) on a small city, with the embedded store."""
import json
import re
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from creditgraph.cli import app
from creditgraph.base.settings import get_settings
from creditgraph.graph.memory_store import MemoryStore


def test_demo_runs_end_to_end_in_its_own_workdir(tmp_path, monkeypatch):
    data, work = tmp_path / "data", tmp_path / "demo"
    monkeypatch.setenv("CREDITGRAPH_DATA", str(data))
    monkeypatch.delenv("NEO4J_URI", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["demo", "--enterprises", "300", "--persons", "450",
                                          "--workdir", str(work)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    quality = json.loads((work / "resolved" / "evaluation.json").read_text(encoding="utf-8"))
    assert quality["enterprise"]["precision"] >= 0.99 and quality["person"]["precision"] >= 0.99
    assert "Joint discipline" in result.output
    # a workdir outside the data directory keeps the demo's state (graph, key, last output) to itself
    assert (work / "graph.pickle").exists() and not data.exists()
    assert Path((work / "last_resolve").read_text().strip()) == (work / "resolved").resolve()


def test_demo_answers_read_in_full_off_a_terminal(tmp_path, monkeypatch):
    """Off a terminal (a log) nothing is cut: who is reached, by which rule and path; circles by name."""
    monkeypatch.setenv("CREDITGRAPH_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("NEO4J_URI", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["demo", "--enterprises", "300", "--persons", "450"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    text = result.output
    assert "…" not in text and "..." not in text, "a cell was cut"
    assert not re.search(r"\{'|\[\"E-|LoadReport\(", text), "a Python or JSON value on screen"
    store = MemoryStore(tmp_path / "data" / "graph.pickle")
    resolved = tmp_path / "data" / "demo" / "resolved"
    entities = pd.read_csv(resolved / "entities.csv", dtype=str).set_index("entity_id")
    lists = pd.read_csv(resolved / "list_records.csv", dtype=str)
    debtor = next(e for e in lists[lists["list"] == "dishonest_debtor"]["entity_id"]
                  if entities.loc[e, "kind"] == "enterprise")
    for r in store.query("joint_discipline_forward", entity_id=debtor):
        assert r["target_name"] in text and r["rule"] in text and r["basis"] in text
    for circle in store.query("guarantee_circles", max_len=5)[:3]:
        assert all(entities.loc[e, "name"] in text for e in circle["circle"])
