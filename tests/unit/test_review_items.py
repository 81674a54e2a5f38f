"""A queue stewards can read (issue 10): a name-only mention that fits several firms is one item
with its candidates (choose one, or none), and the choice holds on the next resolve; a bare name
that several firms carry is left unlinked with a reason; a conflict the identifiers settle is no
item; the run report gives the queue per 1,000 mentions and per reason."""
from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from creditgraph.base.settings import Settings
from creditgraph.linkage import review, triage
from creditgraph.linkage.decisions import Decision, DecisionLog, Verdict
from creditgraph.linkage.model import MatchModel
from creditgraph.pipeline import run_resolve

from test_name_only import _csv, _filler
from test_resolve import uscc

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


# -- an item with candidates, as stewards decide it ----------------------------------------------

@pytest.fixture
def resolved(tmp_path):
    """resolved_small's queue (two pairs) with rq-0003: a mention and its two candidate firms."""
    out = Path(shutil.copytree(FIXTURES / "resolved_small", tmp_path / "resolved"))
    q = pd.concat([review.queue(out), pd.read_csv(FIXTURES / "review_choice.csv", dtype=str, keep_default_na=False)])
    q.fillna("").to_csv(out / "review_queue.csv", index=False)
    return out


@pytest.fixture
def settings(tmp_path):
    return Settings(data=tmp_path / "data", id_key="test-key")


def test_same_names_one_candidate_and_the_item_leaves_the_queue(resolved, settings):
    row = review.find_pair(resolved, "rq-0003")
    assert [c["entity_id"] for c in review.candidates(row)] == ["E-0001", "E-0009"]
    with pytest.raises(review.NeedsCandidate, match="E-0009"):
        review.record(row, "same", "steward-a", "", settings)       # same with which one?
    made = review.record(row, "same", "steward-a", "its code", settings, candidate="2")
    assert [(d.left, d.right, d.verdict) for d in made] == [
        ("social_insured:0500:employer", "market_registry:0090:subject", Verdict.SAME)]
    assert "rq-0003" not in set(review.pending(resolved, settings)["pair_id"])


def test_different_is_none_of_them_and_unsure_keeps_the_item(resolved, settings):
    row = review.find_pair(resolved, "rq-0003")
    review.record(row, "unsure", "steward-a", "", settings)
    assert list(review.pending(resolved, settings)["pair_id"])[-1] == "rq-0003"   # behind the others
    made = review.record(row, "different", "steward-a", "another firm", settings)
    assert {d.right for d in made} == {"market_registry:0001:subject", "market_registry:0090:subject"}
    latest = DecisionLog(settings.decisions_path).latest()
    assert review.state(row, latest) == review.DECIDED and review.verdict_of(row, latest) == "different"
    assert "rq-0003" not in set(review.pending(resolved, settings)["pair_id"])


def test_a_pair_has_no_candidates_to_choose():
    row = {"pair_id": "rq-0001", "left_mention": "a", "right_mention": "b", "score": "0.7", "candidates": ""}
    assert review.candidates(row) == []
    assert len(review.decisions_for(row, "same", "x")) == 1
    with pytest.raises(review.NeedsCandidate):
        review.decisions_for(row, "same", "x", candidate="1")


# -- conflicts the identifiers settle ------------------------------------------------------------

PERSON = MatchModel.load("person")
LEVEL = {f.name: {name: i for i, name in enumerate(f.levels)} for f in PERSON.fields}


def _persons(levels: list[dict], hard: list[frozenset], conflicts=()):
    """A person KindResult as triage reads it: one mention per record, each record its own
    cluster, pair k between records 2k and 2k+1 with the given field levels."""
    n = len(hard)
    rows = [[LEVEL[f.name][lv.get(f.name, f.levels[-1])] for f in PERSON.fields] for lv in levels]
    mentions = pd.DataFrame({"mention_id": [f"m{i}" for i in range(n)], "record": range(n), "cluster": range(n),
                             "kind": "person"})
    pairs = pd.DataFrame({"left": range(0, n, 2), "right": range(1, n, 2), "prob": 0.999, "status": "conflict"})
    link = SimpleNamespace(pairs=pairs, labels=np.arange(n), levels=np.array(rows), model=PERSON)
    records = SimpleNamespace(hard_ids=hard, conflicts=list(conflicts), rep=list(mentions["mention_id"]))
    return SimpleNamespace(link=link, records=records, mentions=mentions)


def ids(*values: str) -> list[frozenset]:
    return [frozenset({f"id:{v}"}) if v else frozenset() for v in values]


def test_different_identity_numbers_settle_a_conflict_unless_one_typo_apart_with_the_same_name():
    res = _persons([{"id": "typo", "name": "exact"},           # one typo apart, same name: ask
                    {"id": "typo", "name": "different"},       # one typo apart, names differ: two people
                    {"id": "different", "name": "exact"},      # numbers far apart: two namesakes
                    {"id": "different", "name": "exact"},      # ...but one side has no number: ask
                    {"id": "exact", "name": "different"}],     # one lists the other's number too: ask
                   ids("1", "2", "3", "4", "5", "6", "7", "", "9", "10"))
    assert triage.settled(res, np.ones(5, bool), {}).tolist() == [False, True, True, False, False]


def test_a_shared_secondary_number_a_disputed_identifier_and_a_decision():
    res = _persons([{"id": "different"}] * 4, ids("1", "2", "3", "4", "5", "6", "3", "8"), conflicts=[(0, 1, "id:x")])
    # a steward said m2 and m6 differ though they share number 3: their numbers settle nothing
    decisions = {("m2", "m6"): Decision("m2", "m6", Verdict.DIFFERENT, "s")}
    assert triage.settled(res, np.ones(4, bool), decisions).tolist() == [False, False, True, False]
    decisions = {("m0", "m2"): Decision("m0", "m2", Verdict.DIFFERENT, "s")}  # no number shared
    assert triage.settled(res, np.ones(4, bool), decisions).tolist() == [False, True, True, True]
    # a decision on the clusters of pair 2 (whichever mentions it named) settles it whatever else
    res.link.levels[2] = [LEVEL["id"]["typo"], LEVEL["name"]["exact"], 0, 0]
    assert not triage.settled(res, np.ones(4, bool), {})[2]
    decided = {("m4", "m5"): Decision("m4", "m5", Verdict.UNSURE, "s")}
    assert not triage.settled(res, np.ones(4, bool), decided)[2], "unsure settles nothing"
    decided = {("m4", "m5"): Decision("m4", "m5", Verdict.DIFFERENT, "s")}
    assert triage.settled(res, np.ones(4, bool), decided)[2]


# -- end to end: a city with two firms of one name --------------------------------------------

MANIFEST = """
dataset: review_items
sources:
  - name: registry
    department: market_regulation
    file: registry.csv
    record_id: 记录号
    parties:
      subject: {kind: enterprise, fields: {name: 企业名称, identifiers: [统一社会信用代码], phone: 电话}}
  - name: tax
    department: tax
    file: tax.csv
    record_id: 记录号
    parties:
      subject: {kind: enterprise, fields: {name: 纳税人名称, identifiers: [纳税人识别号], phone: 电话}}
  - name: social
    department: human_resources_social_security
    file: social.csv
    record_id: 记录号
    parties:
      subject: {kind: person, fields: {name: 姓名}}
      employer: {kind: enterprise, fields: {name: 参保单位名称, identifiers: [参保单位代码]}}
    relations: [{type: EMPLOYED_BY, from: subject, to: employer}]
"""
YINGKOU, DASHIQIAO = uscc("210800", "MA0QD5F0"), uscc("210882", "MA0R11C3")
HUASHENG, OTHER = uscc("210800", "MA0QE7K2"), uscc("210800", "MA1B2C3D")


def _city(tmp_path: Path) -> Path:
    """Two registered 鑫达贸易 firms (营口 and 大石桥); a tax row naming 鑫达贸易 without a code
    but with a phone neither firm lists; a social-security employer 鑫达贸易 by its bare name; and
    华盛建材 on a tax row with the same name and phone but another firm's valid code."""
    firms = _filler(250)
    (tmp_path / "manifest.yaml").write_text(textwrap.dedent(MANIFEST), encoding="utf-8")
    (tmp_path / "registry.csv").write_text(_csv("记录号,企业名称,统一社会信用代码,电话", [
        ("r1", "营口鑫达贸易有限公司", YINGKOU, ""), ("r2", "大石桥鑫达贸易有限公司", DASHIQIAO, ""),
        ("r3", "营口华盛建材有限公司", HUASHENG, "0417-5551234"),
        *((f"f{i}", n, u, "") for i, (n, u) in enumerate(firms))]), encoding="utf-8")
    (tmp_path / "tax.csv").write_text(_csv("记录号,纳税人名称,纳税人识别号,电话", [
        ("t1", "鑫达贸易有限公司", "", "0417-7654321"), ("t3", "营口华盛建材有限公司", "210800" + OTHER[8:17], "0417-5551234"),
        *((f"t{i + 10}", n[2:], u, "") for i, (n, u) in enumerate(firms))]), encoding="utf-8")
    (tmp_path / "social.csv").write_text(_csv("记录号,姓名,参保单位名称,参保单位代码", [
        ("s1", "王五", "鑫达贸易有限公司", "")]), encoding="utf-8")
    return tmp_path / "manifest.yaml"


def _resolve(manifest: Path, settings: Settings):
    out = manifest.parent / "out"
    report = run_resolve(manifest, out, settings)
    mentions = pd.read_csv(out / "mentions.csv", dtype=str)
    entity = dict(zip(mentions["mention_id"], mentions["entity_id"]))
    queue = pd.read_csv(out / "review_queue.csv", dtype=str, keep_default_na=False)
    return entity, queue, pd.read_csv(out / "unlinked.csv", dtype=str), report


def test_one_item_per_name_only_mention_a_bare_name_unlinked_and_a_settled_conflict_not_queued(tmp_path, settings):
    entity, queue, unlinked, report = _resolve(_city(tmp_path), settings)
    firms = {entity["registry:r1:subject"], entity["registry:r2:subject"]}
    assert list(queue["left_mention"]) == ["tax:t1:subject"], queue[["left_mention", "right_mention", "reason"]]
    item = queue.iloc[0]
    assert item["reason"] == "ambiguous"
    assert {c["entity_id"] for c in json.loads(item["candidates"])} == firms
    # the bare name: unlinked, with its reason and how many firms it fits
    assert unlinked[["mention_id", "reason", "candidates"]].values.tolist() == [
        ["social:s1:employer", triage.NAME_ONLY, "2"]]
    assert entity["social:s1:employer"] not in firms
    # 华盛建材's tax row carries another firm's valid code: two firms, and no question
    assert entity["tax:t3:subject"] != entity["registry:r3:subject"]
    workload = report["review_workload"]
    assert workload["unlinked"] == {"count": 1, "by_reason": {triage.NAME_ONLY: 1}}
    assert workload["per_1000_mentions"]["total"] == pytest.approx(1000 / report["mentions"], abs=1e-3)
    assert workload["per_1000_mentions"]["ambiguous"] == workload["per_1000_mentions"]["total"]


@pytest.mark.parametrize("choice", ["the one", "none"])
def test_a_stewards_choice_holds_on_the_next_resolve(tmp_path, settings, choice):
    manifest = _city(tmp_path)
    _, queue, _, _ = _resolve(manifest, settings)
    row = queue.iloc[0].to_dict()
    chosen = review.candidates(row)[1]
    review.record(row, "same" if choice == "the one" else "different", "steward-a", "", settings,
                  chosen["entity_id"] if choice == "the one" else None)
    entity, queue, _, _ = _resolve(manifest, settings)
    assert queue.empty, queue[["left_mention", "right_mention", "reason"]]
    if choice == "the one":
        assert entity["tax:t1:subject"] == chosen["entity_id"]
    else:
        assert entity["tax:t1:subject"] not in {entity["registry:r1:subject"], entity["registry:r2:subject"]}
