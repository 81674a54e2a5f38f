"""The one rule for what waits for a steward (CLI and API both use linkage.review)."""
import shutil
from pathlib import Path

import pytest

from creditgraph.base.settings import Settings
from creditgraph.linkage import review
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
