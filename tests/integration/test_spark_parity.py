"""The resolve on Spark (local[2]) gives every mention the entity id the embedded engine gives it.

The city is the synthetic one at the issue's size, 100k mentions (9,000 firms, 13,500 persons;
both tests take about 4 minutes on a quiet 2-core machine; CREDITGRAPH_SPARK_PARITY_ENTERPRISES
and _PERSONS set a smaller city for a quick run). Steward decisions (one `same`, one `different`)
go to both engines, so must-links and cannot-links are compared too. The CLI test runs
`creditgraph resolve --engine spark` and compares its output files with the embedded engine's,
byte for byte, the review queue, the mentions left unlinked and the share sums included.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from creditgraph.linkage import spark as spark_engine
from creditgraph.linkage import spark_io
from creditgraph.linkage.decisions import Decision, Verdict
from creditgraph.linkage.resolve import resolve
from creditgraph.loaders.manifest import load_manifest
from creditgraph.loaders.reader import read_manifest
from creditgraph.loaders.removals import apply_removals
from creditgraph.synth import generate

KEY = b"parity-test-key"
SIZE = {"enterprises": int(os.environ.get("CREDITGRAPH_SPARK_PARITY_ENTERPRISES", 9000)),
        "persons": int(os.environ.get("CREDITGRAPH_SPARK_PARITY_PERSONS", 13500))}


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("city")
    generate(out, enterprises=SIZE["enterprises"], persons=SIZE["persons"], seed=7)
    return out


def _embedded(manifest: Path, decisions: dict):
    load = read_manifest(load_manifest(manifest))
    return resolve(apply_removals(load.frames(), load.reports), decisions, KEY)


@pytest.fixture(scope="module")
def decisions(city) -> dict:
    """Two steward decisions against the embedded run without any: `different` on two mentions it
    put in one firm, `same` on two persons it kept apart."""
    m = _embedded(city / "manifest.yaml", {}).mentions.sort_values("mention_id")
    firms = m[m["entity_id"].str.startswith("E-")].groupby("entity_id")["mention_id"].agg(list)
    split = next(ids for ids in firms if len(ids) >= 2)[:2]
    people = m[m["entity_id"].str.startswith("P-")].drop_duplicates("entity_id")["mention_id"].head(2).tolist()
    out = {}
    for (left, right), verdict in ((split, Verdict.DIFFERENT), (people, Verdict.SAME)):
        d = Decision(left, right, verdict, who="parity-test")
        out[d.pair] = d
    return out


def test_spark_gives_every_mention_the_embedded_entity_id(city, spark, decisions, tmp_path):
    embedded = _embedded(city / "manifest.yaml", decisions)
    want = embedded.mentions.set_index("mention_id")["entity_id"]
    loaded = spark_io.load(spark, load_manifest(city / "manifest.yaml"), tmp_path / "staging")
    kinds = spark_engine.resolve(spark, loaded.mentions, loaded.relations, decisions, KEY, tmp_path / "work")
    got = pd.concat([k.mentions.select("mention_id", "entity_id").toPandas() for k in kinds.values()])
    got = got.set_index("mention_id")["entity_id"]
    assert sorted(got.index) == sorted(want.index)
    differ = want.reindex(got.index) != got
    assert not differ.any(), pd.DataFrame({"embedded": want.reindex(got.index), "spark": got})[differ].head(20)
    # not a trivial agreement: mentions were merged, and the decisions changed the clustering
    assert got.value_counts().max() > 1 and got.nunique() < len(got)
    for d in decisions.values():
        same = want[d.left] == want[d.right]
        assert same == (d.verdict == Verdict.SAME)
    assert all(k.stats["pairs"] > 0 for k in kinds.values())
    # the pairs scored: blocking's candidates and the conflicts it did not pair, as the embedded engine counts them
    assert {kind: k.stats["pairs"] for kind, k in kinds.items()} == {
        kind: embedded.report[kind]["pairs"] for kind in kinds}
    # the queue and the unlinked mentions, found per component, are the embedded engine's items
    queue = pd.concat([k.queue for k in kinds.values()]).sort_values("pair_id", ignore_index=True)
    pd.testing.assert_frame_equal(queue, embedded.review.drop(columns="worth").sort_values("pair_id", ignore_index=True),
                                  check_dtype=False)
    unlinked = pd.concat([k.unlinked for k in kinds.values()]).sort_values("mention_id", ignore_index=True)
    pd.testing.assert_frame_equal(unlinked, embedded.unlinked.sort_values("mention_id", ignore_index=True),
                                  check_dtype=False)
    assert len(queue) and len(unlinked)
    for kind in kinds:  # and it clustered components of the pairs that can move it, not of every candidate pair
        every, partitioned = _largest_components(tmp_path / "work" / kind)
        assert partitioned < every, kind


def _largest_components(work: Path) -> tuple[int, int]:
    """The largest component of every candidate pair, and of the pairs the engine partitioned by
    (the stars of its last `pair-components` round: a centre and its leaves), in records."""
    cands = pd.read_parquet(work / "candidates")
    rounds = sorted(work.glob("pair-components-[0-9]*"), key=lambda d: int(d.name.rsplit("-", 1)[1]))
    stars = pd.read_parquet(rounds[-1] if rounds else work / "pair-components-edges")
    ids, ends = np.unique(np.r_[cands["left"], cands["right"]], return_inverse=True)  # rec: a position
    graph = coo_matrix((np.ones(len(cands)), (ends[:len(cands)], ends[len(cands):])), shape=(len(ids), len(ids)))
    every = np.bincount(connected_components(graph, directed=False)[1]).max()
    return int(every), int(stars["src"].value_counts().max()) + 1


SAME_FILES = ["mentions.csv", "entities.csv", "relations.csv", "list_records.csv", "identity_vault.csv",
              "rejects.csv", "rejects_vault.csv", "review_queue.csv", "unlinked.csv", "share_issues.csv"]


def test_cli_spark_writes_the_embedded_outputs(city, spark, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from creditgraph.cli import app
    monkeypatch.setenv("CREDITGRAPH_DATA", str(tmp_path / "data"))
    runner = CliRunner()
    for engine in ("embedded", "spark"):
        extra = ["--engine", "spark", "--master", "local[2]", "--parquet"] if engine == "spark" else []
        result = runner.invoke(app, ["resolve", "--manifest", str(city / "manifest.yaml"),
                                     "--out", str(tmp_path / engine), *extra])
        assert result.exit_code == 0, result.output
    assert "scored_pairs.npz" in result.output  # the Spark run says what it does not write yet
    reports = [json.loads((tmp_path / e / "run_report.json").read_text()) for e in ("embedded", "spark")]
    for figure in ("review_queue", "review_workload", "shares_over_100"):
        assert reports[0][figure] == reports[1][figure], figure
    assert reports[1]["review_workload"]["items"] > 0 and reports[1]["review_workload"]["unlinked"]["count"] > 0
    for name in SAME_FILES:
        embedded, spark_out = (tmp_path / e / name for e in ("embedded", "spark"))
        assert embedded.read_bytes() == spark_out.read_bytes(), name
    assert len(pd.read_csv(tmp_path / "spark" / "mentions.csv")) > 0
    assert len(spark.read.parquet(str(tmp_path / "spark" / "parquet" / "mentions")).collect()) == \
        len(pd.read_csv(tmp_path / "spark" / "mentions.csv"))
    assert not (tmp_path / "spark" / "_staging").exists()  # the staged rows are removed after the run
    ingest = runner.invoke(app, ["ingest", "--manifest", str(city / "manifest.yaml"), "--into", str(tmp_path / "spark")])
    assert ingest.exit_code == 1 and "--engine spark" in ingest.output
