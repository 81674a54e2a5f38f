"""The one rule for what waits for a steward (CLI and API both use linkage.review)."""
import shutil
from pathlib import Path

import numpy as np
import pytest

from creditgraph.base.settings import Settings
from creditgraph.linkage import resolve, review
from creditgraph.linkage.decisions import Decision, DecisionLog, Verdict

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "resolved_small"


@pytest.fixture
def resolved(tmp_path):
    out = tmp_path / "resolved"
    out.mkdir()
    shutil.copy(FIXTURE / "review_queue.csv", out / "review_queue.csv")
    return out


@pytest.fixture
def settings(tmp_path):
    return Settings(data=tmp_path / "data")


def decide(settings, resolved, pair_id, verdict):
    row = review.find_pair(resolved, pair_id)
    DecisionLog(settings.decisions_path).append(
        Decision(row["left_mention"], row["right_mention"], Verdict(verdict), "tester"))


def test_unsure_stays_pending_behind_the_pairs_not_looked_at(resolved, settings):
    assert list(review.pending(resolved, settings)["pair_id"]) == ["rq-0001", "rq-0002"]
    decide(settings, resolved, "rq-0001", "unsure")
    assert list(review.pending(resolved, settings)["pair_id"]) == ["rq-0002", "rq-0001"]


def test_same_or_different_takes_a_pair_out_and_the_latest_decision_wins(resolved, settings):
    decide(settings, resolved, "rq-0002", "different")
    assert list(review.pending(resolved, settings)["pair_id"]) == ["rq-0001"]
    decide(settings, resolved, "rq-0002", "unsure")  # a steward reopens it
    assert list(review.pending(resolved, settings)["pair_id"]) == ["rq-0001", "rq-0002"]


def test_is_pending():
    d = Decision("a", "b", Verdict.SAME, "x")
    assert review.is_pending(None)
    assert review.is_pending(Decision("a", "b", Verdict.UNSURE, "x"))
    assert not review.is_pending(d)


def test_the_queue_reads_most_worth_first_then_by_score(resolved, settings):
    """A decision on a pair of big entities settles more: it comes first, whatever the score."""
    q = review.queue(resolved)
    assert len(q) == 2 and "worth" not in q       # an older output: by score alone
    first_by_score = review.pending(resolved, settings)["pair_id"].iloc[0]
    other = (set(q["pair_id"]) - {first_by_score}).pop()
    q["worth"] = [50 if p == other else 3 for p in q["pair_id"]]
    q.to_csv(resolved / "review_queue.csv", index=False)
    assert list(review.pending(resolved, settings)["pair_id"]) == [other, first_by_score]
    decide(settings, resolved, other, "unsure")   # unsure still goes behind the pairs not looked at
    assert list(review.pending(resolved, settings)["pair_id"]) == [first_by_score, other]


def test_resolve_writes_each_pairs_worth():
    import pandas as pd
    from creditgraph.linkage.resolve import with_worth
    review_ = pd.DataFrame({"pair_id": ["p2", "p1"], "left_entity": ["E-B", "E-A"], "right_entity": ["P-X", "E-B"],
                            "score": [0.99, 0.9]})
    mentions = pd.DataFrame({"entity_id": ["E-A", "E-A", "E-B", "P-X"]})
    relations = pd.DataFrame({"from_id": ["P-X"], "to_id": ["E-A"]})
    lists = pd.DataFrame({"entity_id": ["E-B", "E-B"]})
    # E-A: 2 mentions + 1 relation; E-B: 1 mention + 2 list records; P-X: 1 mention + 1 relation
    out = with_worth(review_, mentions, relations, lists)
    assert list(out["pair_id"]) == ["p1", "p2"] and list(out["worth"]) == [3 + 3, 3 + 2]  # most worth first


def test_the_queue_is_written_by_worth_then_score_then_pair_id_whatever_the_engine_found_first():
    import pandas as pd
    from creditgraph.linkage.resolve import in_worth_order
    held = pd.Series({"E-A": 2, "E-B": 2, "E-C": 1})
    review_ = pd.DataFrame({"pair_id": ["d", "c", "b", "a"], "left_entity": ["E-C", "E-A", "E-A", "E-A"],
                            "right_entity": ["E-C", "E-B", "E-B", "E-B"], "score": ["0.99", "0.5", "0.95", "0.95"]})
    out = in_worth_order(review_, held)
    assert list(out["pair_id"]) == ["a", "b", "c", "d"]  # scores as read back from CSV (text) compare as numbers
    assert list(out.columns) == [*review_.columns, "worth"]


def test_clusters_are_told_apart_when_both_carry_identifiers_and_share_none():
    ids_of = {0: {"org:A"}, 1: {"org:B"}, 2: {"org:A", "org:C"}, 3: {"org:C"}, 5: {"org:B", "org:D"}}
    a, b = np.array([0, 0, 2, 1, 4, 5, 5]), np.array([1, 2, 3, 2, 0, 2, 1])
    assert resolve._told_apart(ids_of, a, b).tolist() == [True, False, False, True, False, True, False]
