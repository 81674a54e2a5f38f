"""The evaluation report's numbers (issue 10): scored pairs re-clustered at other match
thresholds, the review queue at other review thresholds, and the file resolve keeps them in."""
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from creditgraph import render
from creditgraph.base.settings import Settings
from creditgraph.linkage import sweep
from creditgraph.linkage.cluster import ClusterInputs
from creditgraph.linkage.evaluate import evaluate
from creditgraph.linkage.report import truth_by_mention
from creditgraph.pipeline import run_resolve
from creditgraph.synth.generate import generate

# Four records of one mention each; truly {a, b} and {c, d}. Pairs a-b 0.9, c-d 0.6, b-c 0.3.
A, B, C, D = range(4)
PAIRS = [(A, B, 0.9), (C, D, 0.6), (B, C, 0.3)]


def _scored(queue=(sweep.QUEUE_NEVER,) * 3, hard=(frozenset(),) * 4, cannot=frozenset(), item=None) -> sweep.ScoredKind:
    left, right, prob = (np.array(v) for v in zip(*PAIRS))
    inputs = ClusterInputs(4, left, right, prob.astype(float), np.log2(prob / (1 - prob)), list(hard), set(cannot), [])
    return sweep.ScoredKind(inputs, np.array(["m:a", "m:b", "m:c", "m:d"]), np.arange(4), np.array(queue, np.int8),
                            0.5, 0.2, None if item is None else np.array(item))


TRUTH = pd.Series(["x", "x", "y", "y"], index=["m:a", "m:b", "m:c", "m:d"])


def _at(df: pd.DataFrame, t: float) -> dict:
    return df[np.isclose(df["threshold"], t)].iloc[0].to_dict()


def test_precision_and_recall_at_each_threshold_by_hand():
    df = sweep.match_sweep(_scored(), TRUTH, np.array([0.95, 0.8, 0.5, 0.2]))
    # 0.95: nothing merged: no pair put together (precision 1 by definition), none of 2 true pairs found;
    # per mention B-cubed recall 1/2.
    got = _at(df, 0.95)
    assert (got["precision"], got["recall"], got["bcubed_precision"], got["bcubed_recall"]) == (1.0, 0.0, 1.0, 0.5)
    # 0.8: a-b merged: 1 of 2 true pairs; B-cubed recall (1 + 1 + 1/2 + 1/2) / 4.
    assert _at(df, 0.8)["recall"] == 0.5 and _at(df, 0.8)["bcubed_recall"] == 0.75
    # 0.5: both true entities found, nothing else.
    got = _at(df, 0.5)
    assert (got["precision"], got["recall"], got["bcubed_precision"], got["bcubed_recall"]) == (1.0, 1.0, 1.0, 1.0)
    # 0.2: b-c joins the two: 6 pairs put together, 2 right; each mention's entity is half its own.
    got = _at(df, 0.2)
    assert got["precision"] == round(2 / 6, 5) and got["recall"] == 1.0
    assert got["bcubed_precision"] == 0.5 and got["predicted_pairs"] == 6
    assert list(df["weight"].round(3)) == [round(float(np.log2(t / (1 - t))), 3) for t in (0.95, 0.8, 0.5, 0.2)]


def test_the_sweep_keeps_the_constraints_of_the_run():
    # b and c carry different identity numbers: at 0.2 they stay apart, so precision stays 1.
    hard = (frozenset(), frozenset({1}), frozenset({2}), frozenset())
    assert _at(sweep.match_sweep(_scored(hard=hard), TRUTH, np.array([0.2])), 0.2)["precision"] == 1.0
    assert _at(sweep.match_sweep(_scored(cannot={(B, C)}), TRUTH, np.array([0.2])), 0.2)["precision"] == 1.0


def test_mentions_the_truth_does_not_know_are_left_out():
    df = sweep.match_sweep(_scored(), TRUTH.drop("m:d"), np.array([0.2]))
    assert _at(df, 0.2)["true_pairs"] == 1 and _at(df, 0.2)["predicted_pairs"] == 3


def test_queue_size_at_each_review_threshold_by_hand():
    # a-b waits whatever the threshold (ambiguous), c-d and b-c only at or above it, none never.
    s = _scored(queue=(sweep.QUEUE_ALWAYS, sweep.QUEUE_ABOVE, sweep.QUEUE_ABOVE))
    df = sweep.queue_sweep(s, np.array([0.1, 0.3, 0.31, 0.6, 0.7]))
    assert df["items"].tolist() == [3, 3, 2, 2, 1]


def test_pairs_of_one_queue_item_count_once():
    # c-d and b-c are one item (say, d a lone mention with candidates); a-b is left unlinked (-1).
    s = _scored(queue=(sweep.QUEUE_ALWAYS, sweep.QUEUE_ABOVE, sweep.QUEUE_ABOVE), item=(-1, 7, 7))
    df = sweep.queue_sweep(s, np.array([0.1, 0.31, 0.7]))
    assert df["items"].tolist() == [1, 1, 0]


def test_thresholds_hold_the_one_in_use_and_stop_at_the_match_threshold():
    assert 0.99 in sweep.thresholds(0.99)
    upto = sweep.thresholds(0.5, 0.99)
    assert upto.max() == 0.99 and 0.5 in upto and len(upto) == len(set(upto.tolist()))


@pytest.fixture(scope="module")
def resolved(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep")
    generate(root / "city", 120, 180, seed=1)  # a city whose queue is not empty
    run_resolve(root / "city" / "manifest.yaml", root / "out", Settings(data=root / "data", id_key="k"))
    return root / "city", root / "out"


def test_the_sweep_at_the_threshold_in_use_is_the_resolve_itself(resolved):
    city, out = resolved
    mentions, truth = render.evaluation_inputs(city / "truth", out)
    quality = evaluate(mentions, truth)
    scored = sweep.load(out)
    assert set(scored) == {"enterprise", "person"}
    assert stat.S_IMODE((out / sweep.FILE).stat().st_mode) == 0o600
    queue = pd.read_csv(out / "review_queue.csv", dtype=str, keep_default_na=False)
    assert len(queue)  # else the queue counts below would agree on nothing
    for kind, s in scored.items():
        row = _at(sweep.match_sweep(s, truth_by_mention(mentions, truth), np.array([s.match_threshold])),
                  s.match_threshold)
        for k in ("precision", "recall", "bcubed_precision", "bcubed_recall", "predicted_pairs", "true_pairs"):
            assert row[k] == quality[kind][k], (kind, k)
        waiting = _at(sweep.queue_sweep(s, np.array([s.review_threshold])), s.review_threshold)["items"]
        assert waiting == (queue["kind"] == kind).sum()  # the queue's rows are its items


def test_the_scored_pairs_hold_no_identifier_values(resolved):
    _, out = resolved
    vault = pd.read_csv(out / "identity_vault.csv", dtype=str)["id_number"]
    with np.load(out / sweep.FILE, allow_pickle=False) as npz:
        assert all(npz[k].dtype.kind in "iuf" for k in npz.files if not k.endswith("mention_ids"))
        ids = {v.decode() for k in npz.files if k.endswith("mention_ids") for v in npz[k]}
    assert len(vault) and not any(number in mid for number in vault for mid in ids)
    assert ids == set(pd.read_csv(Path(out) / "mentions.csv", dtype=str)["mention_id"])
