"""The engine's parts on their own: blocking, comparators, the model, clustering, evaluation."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from creditgraph.linkage.blocking import candidate_pairs
from creditgraph.linkage.cluster import cluster
from creditgraph.linkage.compare import context, enterprise_name, person_id
from creditgraph.linkage.evaluate import pairwise
from creditgraph.linkage.model import MISSING, MatchModel


def test_blocking_pairs_records_sharing_any_key_and_skips_huge_blocks():
    keys = [["a", "x"], ["a"], ["b", "x"], ["c"]] + [["big"]] * 5
    cands = candidate_pairs(keys, max_block=4)
    assert sorted(zip(cands.left.tolist(), cands.right.tolist())) == [(0, 1), (0, 2)]
    assert cands.skipped_blocks == {"big": 5}


def test_blocking_gives_every_pair_sharing_a_block_of_any_size_once():
    rng = np.random.default_rng(3)
    keys = [[f"k{v}" for v in rng.integers(0, 40, rng.integers(0, 4))] for _ in range(300)]
    members = {}
    for r, ks in enumerate(keys):
        for k in set(ks):
            members.setdefault(k, []).append(r)
    want = {(a, b) for rs in members.values() if len(rs) <= 12 for a in rs for b in rs if a < b}
    cands = candidate_pairs(keys, max_block=12)
    got = list(zip(cands.left.tolist(), cands.right.tolist()))
    assert len(got) == len(set(got)) and set(got) == want and len({len(rs) for rs in members.values()}) > 3


def test_blocking_in_link_mode_keeps_only_pairs_across_groups():
    cands = candidate_pairs([["k"], ["k"], ["k"]], groups=np.array([0, 0, 1]))
    assert sorted(zip(cands.left.tolist(), cands.right.tolist())) == [(0, 2), (1, 2)]


def test_enterprise_name_levels_keep_trade_and_industry_apart():
    xinda = ("鑫达贸易", "xinda", "贸易")
    assert enterprise_name((xinda,), (("鑫达贸易", "xinda", "贸易"),), {}) == 0
    assert enterprise_name((xinda,), (("新达贸易", "xinda", "贸易"),), {}) == 1   # homophone
    assert enterprise_name((xinda,), (("鑫达物流", "xinda", "物流"),), {}) >= 2   # other industry


def test_person_id_levels():
    id18 = "210802197201013011"
    assert person_id((id18,), (id18,), {}) == 0
    assert person_id((id18,), (id18[:-1] + "2",), {}) == 1
    assert person_id((id18,), ("210802********3011",), {}) == 2
    assert person_id((id18,), ("210802********9999",), {}) == 3


def test_two_masked_numbers_agreeing_where_both_show_digits_are_compatible():
    """A court list names one person in several cases with the same masked number (2108 city,
    birth date hidden): two masks that agree wherever both show a digit corroborate, as a mask
    and a full number do; a digit they both show and differ on makes them different."""
    assert person_id(("210800********9235",), ("210800********9235",), {}) == 2
    assert person_id(("2114021978****4976",), ("211402********4976",), {}) == 2
    assert person_id(("2114021978****4976",), ("2114021979****4976",), {}) == 3
    assert person_id(("210800********9235",), ("210800********9236",), {}) == 3


def test_context_levels():
    assert context(("E1|LEGAL_REP_OF",), ("E1|LEGAL_REP_OF", "E2|EXECUTIVE_OF"), {}) == 0
    assert context(("E1|LEGAL_REP_OF",), ("E1|EXECUTIVE_OF",), {}) == 1
    assert context(("E1|LEGAL_REP_OF",), ("E2|LEGAL_REP_OF",), {}) == 2


def test_person_model_never_matches_on_a_name_alone():
    model = MatchModel.load("person")
    names = [f.name for f in model.fields]
    row = np.full((1, len(names)), MISSING)
    row[0, names.index("name")] = 0                      # exact name, nothing else
    assert model.probability(row)[0] == 0.0
    row[0, names.index("context")] = 0                   # plus the same role at the same firm
    assert model.probability(row)[0] > model.match_threshold


def test_evidence_names_every_field_with_its_weight():
    model = MatchModel.load("enterprise")
    levels = np.zeros(len(model.fields), dtype=int)
    evidence = model.evidence(levels)
    assert set(evidence) == {f.name for f in model.fields}
    assert evidence["name"]["level"] == "exact" and evidence["name"]["weight"] > 0


def test_em_recovers_a_planted_signal():
    rng = np.random.default_rng(1)
    model = MatchModel.load("febrl")
    n, k = 4000, len(model.fields)
    is_match = rng.random(n) < 0.3
    levels = np.where(is_match[:, None], 0, np.array([len(f.levels) - 1 for f in model.fields]))
    noise = rng.random((n, k)) < 0.1
    levels = np.where(noise, 0, levels)
    for f in model.fields:                               # start uninformed
        f.m[:] = 1 / len(f.levels)
    model.fit_em(levels, fix_u=True)
    p = model.probability(levels)
    assert ((p > 0.5) == is_match).mean() > 0.97


def hard(*ids):
    return frozenset(ids)


def test_cluster_refuses_two_different_identifiers_and_flags_the_conflict():
    # 0 and 1 carry different identifiers; 2 (none) links strongly to both.
    res = cluster(3, np.array([0, 0]), np.array([2, 1]), np.array([0.9999, 0.995]), 0.99,
                  [hard("org:A"), hard("org:B"), hard()])
    assert res.labels[0] != res.labels[1]
    assert res.blocked[1], "the direct match between two identifiers is a conflict"


def test_cluster_sends_a_record_matching_two_incompatible_records_to_review():
    res = cluster(3, np.array([0, 1]), np.array([2, 2]), np.array([0.995, 0.995]), 0.99,
                  [hard("id:1"), hard("id:2"), hard()], log_odds=np.array([10.0, 10.5]))
    assert res.ambiguous.all() and len(set(res.labels)) == 3


def test_cluster_lets_a_clearly_better_match_win():
    res = cluster(3, np.array([0, 1]), np.array([2, 2]), np.array([0.9999, 0.995]), 0.99,
                  [hard("id:1"), hard("id:2"), hard()], log_odds=np.array([16.0, 9.0]))
    assert res.labels[2] == res.labels[0] and res.outweighed[1]


def test_cluster_does_not_chain_two_groups_through_one_weak_link():
    # {0,1} and {2,3} are tight pairs; one weak-but-above-threshold edge 1-2 and a non-match 0-3.
    left, right = np.array([0, 2, 1, 0]), np.array([1, 3, 2, 3])
    prob = np.array([0.9999, 0.9999, 0.992, 0.1])
    res = cluster(4, left, right, prob, 0.99, [hard()] * 4)
    assert res.labels[0] == res.labels[1] and res.labels[2] == res.labels[3]
    assert res.labels[0] != res.labels[2]


def test_cannot_and_must_links_hold():
    res = cluster(3, np.array([0]), np.array([1]), np.array([0.9999]), 0.99, [hard()] * 3,
                  cannot={(0, 1)}, must=[(1, 2)])
    assert res.labels[0] != res.labels[1] and res.labels[1] == res.labels[2]


@pytest.mark.parametrize("predicted,truth,expected", [
    (["a", "a", "b"], ["x", "x", "y"], (1.0, 1.0)),
    (["a", "a", "a"], ["x", "x", "y"], (1 / 3, 1.0)),
    (["a", "b", "c"], ["x", "x", "y"], (1.0, 0.0)),
])
def test_pairwise_quality(predicted, truth, expected):
    q = pairwise(pd.Series(predicted), pd.Series(truth))
    assert (q["precision"], q["recall"]) == pytest.approx(expected, abs=1e-4)


def test_an_ambiguous_record_waits_for_review_instead_of_pairing_with_another_leftover():
    # 2 and 3 (no identifier) each match both 0 and 1 (different identifiers) about equally;
    # 2 and 3 also match each other. Neither may end up with the other: a steward decides.
    left = np.array([0, 1, 0, 1, 2])
    right = np.array([2, 2, 3, 3, 3])
    prob = np.array([0.995, 0.995, 0.995, 0.995, 0.9999])
    res = cluster(4, left, right, prob, 0.99, [hard("org:A"), hard("org:B"), hard(), hard()],
                  log_odds=np.array([10.0, 10.2, 10.0, 10.2, 14.0]))
    assert len(set(res.labels.tolist())) == 4
