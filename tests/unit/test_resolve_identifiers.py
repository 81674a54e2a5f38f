"""Identifiers on data nobody tuned for: a steward's `different` holds between its two mentions
only, and a secondary identifier shared by two firms (or persons) whose primary identifiers
differ joins nothing: it is a conflict for review."""
from __future__ import annotations

import json
import random
import textwrap

import numpy as np
import pandas as pd
import pytest

from creditgraph.base.settings import Settings
from creditgraph.linkage.decisions import Decision, DecisionLog, Verdict
from creditgraph.linkage.identifiers import org_code_check_char, regno_check_digit, ric_check_char, uscc_check_char
from creditgraph.linkage.prepare import _group_by_hard_ids, _union_in_order
from creditgraph.pipeline import run_resolve


def uscc(division: str, org8: str) -> str:
    org = org8 + org_code_check_char(org8)
    body = "91" + division + org
    return body + uscc_check_char(body)


A = uscc("210800", "MA0QD5F0")
B = uscc("210800", "MA0QD6A1")

MANIFEST = """
dataset: ids
sources:
  - name: registry
    department: market_regulation
    file: registry.csv
    record_id: id
    parties:
      subject: {kind: enterprise, fields: {name: name, identifiers: [uscc, old], phone: phone}}
  - name: tax
    department: tax
    file: tax.csv
    record_id: id
    parties:
      subject: {kind: enterprise, fields: {name: name, identifiers: [taxno], phone: phone}}
"""


@pytest.fixture
def settings(tmp_path):
    return Settings(data=tmp_path / "data", id_key="test-key")


def write(tmp_path, registry: list[tuple], tax: list[tuple]):
    (tmp_path / "manifest.yaml").write_text(textwrap.dedent(MANIFEST), encoding="utf-8")
    (tmp_path / "registry.csv").write_text(
        "id,name,uscc,old,phone\n" + "".join(",".join(r) + "\n" for r in registry), encoding="utf-8")
    (tmp_path / "tax.csv").write_text("id,name,taxno,phone\n" + "".join(",".join(r) + "\n" for r in tax), encoding="utf-8")


def resolve(tmp_path, settings):
    out = tmp_path / "out"
    run_resolve(tmp_path / "manifest.yaml", out, settings)
    mentions = pd.read_csv(out / "mentions.csv", dtype=str)
    return dict(zip(mentions["mention_id"], mentions["entity_id"])), pd.read_csv(out / "review_queue.csv", dtype=str)


def test_a_stewards_different_keeps_the_identifiers_of_both_mentions(tmp_path, settings):
    """t1's old tax number carries A's organisation code, but a steward says t1 is not r1 (A).
    t1 has r2's name and phone: it must still never join r2, whose USCC B its number contradicts;
    the two are a conflict for review."""
    write(tmp_path, [("r1", "营口华盛建材有限公司", A, "", "0417-5555555"),
                     ("r2", "营口鑫达贸易有限公司", B, "", "0417-1234567")],
          [("t1", "营口鑫达贸易有限公司", "210800" + A[8:17], "0417-1234567")])
    DecisionLog(settings.decisions_path).append(
        Decision("tax:t1:subject", "registry:r1:subject", Verdict.DIFFERENT, "steward-a"))
    entity, review = resolve(tmp_path, settings)
    assert entity["tax:t1:subject"] != entity["registry:r1:subject"], "the decision holds"
    assert entity["tax:t1:subject"] != entity["registry:r2:subject"], "t1's own identifier still counts"
    pairs = {frozenset(p): r for p, r in zip(zip(review["left_mention"], review["right_mention"]), review["reason"])}
    assert pairs.get(frozenset({"tax:t1:subject", "registry:r2:subject"})) == "conflict"


def regno(body14: str) -> str:
    return body14 + regno_check_digit(body14)


def ric(body17: str) -> str:
    return body17 + ric_check_char(body17)


def org_code(uscc_value: str) -> str:
    return uscc_value[8:16] + "-" + uscc_value[16]


@pytest.mark.parametrize("shared", [regno("21080000001234"), org_code(A)], ids=["registration number", "org code"])
def test_firms_with_different_usccs_sharing_another_identifier_are_a_conflict(tmp_path, settings, shared):
    """Two firms, each with its valid USCC, and the same old number typed for both (an old
    registration number, or A's organisation code on B's row): two entities, and the pair in the
    review queue as a conflict that names the identifier they share."""
    write(tmp_path, [("r1", "营口鑫达贸易有限公司", A, shared, "0417-1234567"),
                     ("r2", "营口华盛建材有限公司", B, shared, "0417-5555555")], [])
    entity, review = resolve(tmp_path, settings)
    assert entity["registry:r1:subject"] == "E-" + A and entity["registry:r2:subject"] == "E-" + B
    ends = [frozenset(p) for p in zip(review["left_mention"], review["right_mention"])]
    pair = review[[e == {"registry:r1:subject", "registry:r2:subject"} for e in ends]]
    assert list(pair["reason"]) == ["conflict"]
    evidence = json.loads(pair["evidence"].iloc[0])
    digits = shared.replace("-", "")
    assert digits in evidence["shared_identifier"]["left"] and digits in evidence["shared_identifier"]["right"]


def test_a_mention_of_the_shared_number_alone_still_joins_one_of_them(tmp_path, settings):
    shared = regno("21080000001234")
    write(tmp_path, [("r1", "营口鑫达贸易有限公司", A, shared, ""), ("r2", "营口华盛建材有限公司", B, shared, "")],
          [("t1", "营口鑫达贸易有限公司", shared, "")])
    entity, _ = resolve(tmp_path, settings)
    assert entity["registry:r1:subject"] != entity["registry:r2:subject"]
    assert entity["tax:t1:subject"] in {entity["registry:r1:subject"], entity["registry:r2:subject"]}


PERSONS = """
dataset: people
sources:
  - name: court
    department: courts
    file: court.csv
    record_id: id
    parties:
      subject: {kind: person, fields: {name: name, identifiers: [ids]}}
"""


def test_persons_with_different_identity_numbers_sharing_another_stay_apart(tmp_path, settings):
    """p2's row lists its own number and, mistyped into the second column, p1's."""
    one, two = ric("21080219720101301"), ric("21080319850505123")
    (tmp_path / "manifest.yaml").write_text(textwrap.dedent(PERSONS), encoding="utf-8")
    (tmp_path / "court.csv").write_text(f"id,name,ids\np1,张伟,{one}\np2,张伟,{two}|{one}\n", encoding="utf-8")
    entity, review = resolve(tmp_path, settings)
    assert entity["court:p1:subject"] != entity["court:p2:subject"]
    assert list(review["reason"]) == ["conflict"]


class _Ordered(frozenset):
    """A set that iterates in a given order: as a set of strings may in another process."""

    def __new__(cls, order):
        self = super().__new__(cls, order)
        self.order = list(order)
        return self

    def __iter__(self):
        return iter(self.order)


def test_grouping_by_shared_identifiers_does_not_depend_on_a_sets_order():
    # mention 2 carries both firms' organisation codes and no USCC: which one it joins, and which
    # key is the conflict, must not change with the order its set happens to iterate in
    primary = [A, B, ""]
    results = []
    for order in (["org:A", "org:B"], ["org:B", "org:A"]):
        hard = [frozenset({"org:A"}), frozenset({"org:B"}), _Ordered(order)]
        record_of, conflicts = _group_by_hard_ids(hard, primary)
        results.append((record_of.tolist(), conflicts))
    assert results[0] == results[1]
    assert results[0] == ([0, 1, 0], [(1, 2, "org:B")])


def test_grouping_by_components_equals_the_union_of_mentions_one_by_one():
    # the shortcut (a component without two primaries or a decision is one group) against the
    # plain union in mention order, on random identifiers with collisions, conflicts and decisions
    rng = random.Random(5)
    for _ in range(30):
        n = 200
        hard = [{f"{rng.choice('or')}:{rng.randrange(60)}" for _ in range(rng.randrange(3))} for _ in range(n)]
        primary = [rng.choice(["", "", "", "U1", "U2", "U3", f"U{rng.randrange(99)}"]) for _ in range(n)]
        apart = [(rng.randrange(n), rng.randrange(n)) for _ in range(rng.randrange(4))]
        roots, want_conflicts = _union_in_order(hard, primary, apart, np.arange(n))
        record_of, conflicts = _group_by_hard_ids(hard, primary, apart)
        assert record_of.tolist() == np.unique(roots, return_inverse=True)[1].tolist()
        assert conflicts == want_conflicts
