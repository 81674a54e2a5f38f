"""B-cubed beside pairwise quality (issue 10): expected numbers written from the definitions."""
import pandas as pd
import pytest
from rich.console import Console

from creditgraph import render
from creditgraph.linkage.evaluate import bcubed, evaluate, pairwise
from creditgraph.synth.generate import generate

from benchmark_scripts import load_benchmark


def _scores(predicted: list[str], truth: list[str]) -> dict:
    return bcubed(pd.Series(predicted), pd.Series(truth))


def test_a_true_cluster_of_three_split_two_and_one():
    # a, b: 2 of their predicted 2 are theirs (precision 1), 2 of their true 3 (recall 2/3);
    # c: 1 of 1, 1 of 3. Recall (2/3 + 2/3 + 1/3) / 3 = 5/9; pairwise recall 1 of 3 true pairs.
    got = _scores(["p1", "p1", "p2"], ["t", "t", "t"])
    assert got == {"bcubed_precision": 1.0, "bcubed_recall": round(5 / 9, 5),
                   "bcubed_f1": round(2 * (5 / 9) / (1 + 5 / 9), 5)}
    assert pairwise(pd.Series(["p1", "p1", "p2"]), pd.Series(["t", "t", "t"]))["recall"] == round(1 / 3, 5)


def test_two_true_entities_merged_into_one():
    # a, b: 2 of the predicted 3 are theirs; c: 1 of 3. Precision (2/3 + 2/3 + 1/3) / 3 = 5/9, recall 1.
    got = _scores(["p", "p", "p"], ["t1", "t1", "t2"])
    assert (got["bcubed_precision"], got["bcubed_recall"]) == (round(5 / 9, 5), 1.0)


def test_crossed_clusters():
    # True {a,b,c,d} {e,f}; predicted {a,b,e} {c,d,f}. a,b,c,d: precision 2/3, recall 2/4;
    # e, f: precision 1/3, recall 1/2. Precision (4 * 2/3 + 2 * 1/3) / 6 = 5/9, recall 1/2.
    got = _scores(["P1", "P1", "P2", "P2", "P1", "P2"], ["T1", "T1", "T1", "T1", "T2", "T2"])
    assert got == {"bcubed_precision": round(5 / 9, 5), "bcubed_recall": 0.5,
                   "bcubed_f1": round(2 * (5 / 9) * 0.5 / (5 / 9 + 0.5), 5)}


def test_singletons():
    assert _scores(["a", "b", "c"], ["x", "y", "z"]) == {"bcubed_precision": 1.0, "bcubed_recall": 1.0,
                                                          "bcubed_f1": 1.0}
    # Nothing linked of one true entity of four: pairwise recall 0, B-cubed recall 1/4 per mention.
    got = _scores(["a", "b", "c", "d"], ["x", "x", "x", "x"])
    assert (got["bcubed_precision"], got["bcubed_recall"], got["bcubed_f1"]) == (1.0, 0.25, 0.4)
    assert pairwise(pd.Series(["a", "b", "c", "d"]), pd.Series(["x"] * 4))["recall"] == 0.0


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    mentions = pd.DataFrame({"source": "tax", "record_id": [1, 2, 3, 4, 5], "role": "self",
                             "entity_id": ["E1", "E1", "E2", "P1", "P2"],
                             "kind": ["enterprise"] * 3 + ["person"] * 2, "name": list("abcde")})
    truth = pd.DataFrame({"source": "tax", "record_id": ["1", "2", "3", "4", "5"], "role": "self",
                          "entity_id": ["e", "e", "e", "p", "q"]})
    return mentions, truth


def test_evaluate_reports_bcubed_per_kind_and_the_table_shows_it():
    result = evaluate(*_frames())
    assert result["enterprise"]["bcubed_recall"] == round(5 / 9, 5)
    assert result["person"]["bcubed_precision"] == result["person"]["bcubed_recall"] == 1.0
    assert set(result["enterprise"]) >= {"precision", "bcubed_precision", "bcubed_recall", "bcubed_f1"}
    out = Console(record=True, width=render.WIDE)
    render.print_quality(out, result)
    text = out.export_text()
    assert "B³ precision" in text and "B³ recall" in text and "B³ F1" in text
    enterprise_row = next(line for line in text.splitlines() if line.lstrip("│ ").startswith("enterprise"))
    assert f"{5 / 9:.4f}" in enterprise_row


@pytest.fixture(scope="module")
def ceiling_module():
    return load_benchmark("person_ceiling")


def test_person_ceiling_reports_a_bcubed_ceiling(ceiling_module, tmp_path):
    generate(tmp_path, 150, 200, seed=3)
    got = ceiling_module.ceiling(tmp_path)
    assert 0 < got["recall_ceiling"] <= 1 and 0 < got["bcubed_recall_ceiling"] <= 1
    # The oracle only splits: B-cubed recall below 1 needs some unlinkable mention left alone.
    assert got["bcubed_recall_ceiling"] == 1.0 or got["unlinkable"] > 0
