"""The main job end to end (`creditgraph demo`) on a small city, with the embedded store."""
import json

from typer.testing import CliRunner

from creditgraph.cli import app
from creditgraph.base.settings import get_settings


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
    assert "joint discipline" in result.output
    # a workdir outside the data directory keeps the demo's state (graph, key) to itself
    assert (work / "graph.pickle").exists() and not data.exists()
