"""The persons a firm mention's row names are evidence for the firm (issue 10, recall at scale).

A social-security row names its employer by a bare name that several registered firms carry, and
names the insured employee with an identity number. When that number appears in another row of
exactly one of those firms (its legal representative, say), the employer is that firm. Naming
different people is no evidence of two firms (a firm's rows name many people), so the field only
corroborates; and two firms with different valid codes never merge over a shared person.
"""
from __future__ import annotations

import json
import textwrap

import pandas as pd

from creditgraph.api.models import Evidence, ReviewItem
from creditgraph.base.settings import Settings
from creditgraph.linkage import triage
from creditgraph.linkage.compare import DESCRIBERS
from creditgraph.linkage.model import MatchModel
from creditgraph.linkage.prepare import person_id_parts, person_numbers, row_person_numbers
from creditgraph.pipeline import run_resolve

from test_name_only import _csv, _filler
from test_resolve import ric, uscc

YINGKOU, DASHIQIAO = uscc("210800", "MA0QD5F0"), uscc("210882", "MA0R11C3")
ZHANG, LI, WANG = ric("21080219800303302"), ric("21080219710512101"), ric("21080319920817224")

MANIFEST = """
dataset: row_persons
sources:
  - name: registry
    department: market_regulation
    file: registry.csv
    record_id: 记录号
    parties:
      subject: {kind: enterprise, fields: {name: 企业名称, identifiers: [统一社会信用代码]}}
      legal_rep: {kind: person, optional: true, fields: {name: 法定代表人, identifiers: [法人证件号码]}}
    relations: [{type: LEGAL_REP_OF, from: legal_rep, to: subject}]
  - name: tax
    department: tax
    file: tax.csv
    record_id: 记录号
    parties:
      subject: {kind: enterprise, fields: {name: 纳税人名称, identifiers: [纳税人识别号]}}
  - name: social
    department: human_resources_social_security
    file: social.csv
    record_id: 记录号
    parties:
      subject: {kind: person, fields: {name: 姓名, identifiers: [身份证号]}}
      employer: {kind: enterprise, fields: {name: 参保单位名称, identifiers: [参保单位代码]}}
    relations: [{type: EMPLOYED_BY, from: subject, to: employer}]
"""


def test_a_firm_mentions_row_persons_are_the_valid_numbers_tied_to_it_either_way():
    persons = pd.Series(["p1", "p2", "p3"])
    number_of = pd.Series(person_numbers(pd.Series([ZHANG, ZHANG[:-1] + "0", f"{LI}|x"])).to_numpy(), index=persons)
    assert number_of.tolist() == [ZHANG, "", LI]  # a wrong check digit is no number
    relations = pd.DataFrame({"from_mention": ["p1", "p2", "f2", "p3"], "to_mention": ["f1", "f1", "p1", "f1"]})
    got = row_person_numbers(pd.Series(["f1", "f2", "f3"]), relations, number_of[number_of != ""])
    assert got.tolist() == [tuple(sorted((ZHANG, LI))), (ZHANG,), ()]


def test_naming_different_people_weighs_nothing_naming_the_same_one_weighs_much():
    field = next(f for f in MatchModel.load("enterprise").fields if f.name == "row_person")
    assert field.corroborates_only
    weights = field.weights()
    assert weights[0] > 5 and weights[1] == 0.0
    field.corroborates_only = False  # the same m and u without the rule: a penalty
    assert field.weights()[1] < 0


def _city(tmp_path) -> Settings:
    firms = _filler(250)
    (tmp_path / "manifest.yaml").write_text(textwrap.dedent(MANIFEST), encoding="utf-8")
    (tmp_path / "registry.csv").write_text(_csv("记录号,企业名称,统一社会信用代码,法定代表人,法人证件号码", [
        ("r1", "营口鑫达贸易有限公司", YINGKOU, "张伟", ZHANG), ("r2", "大石桥鑫达贸易有限公司", DASHIQIAO, "李强", LI),
        *((f"f{i}", n, u, "", "") for i, (n, u) in enumerate(firms))]), encoding="utf-8")
    (tmp_path / "tax.csv").write_text(_csv("记录号,纳税人名称,纳税人识别号",
                                           ((f"t{i}", n[2:], u) for i, (n, u) in enumerate(firms))), encoding="utf-8")
    (tmp_path / "social.csv").write_text(_csv("记录号,姓名,身份证号,参保单位名称,参保单位代码", [
        ("s1", "张伟", ZHANG, "鑫达贸易有限公司", ""),      # the legal representative of 营口鑫达, insured
        ("s2", "王芳", WANG, "鑫达贸易有限公司", "")]),     # a person no other row names
        encoding="utf-8")
    return Settings(data=tmp_path / "data", id_key="k")


def test_a_bare_employer_name_goes_to_the_one_firm_whose_rows_name_its_employee(tmp_path):
    settings = _city(tmp_path)
    run_resolve(tmp_path / "manifest.yaml", tmp_path / "out", settings)
    mentions = pd.read_csv(tmp_path / "out" / "mentions.csv", dtype=str)
    entity = dict(zip(mentions["mention_id"], mentions["entity_id"]))
    assert entity["social:s1:employer"] == entity["registry:r1:subject"] != entity["registry:r2:subject"]
    # the other employee is named nowhere else: the bare name stays unlinked, not a queue item
    unlinked = pd.read_csv(tmp_path / "out" / "unlinked.csv", dtype=str)
    assert unlinked[["mention_id", "reason"]].values.tolist() == [["social:s2:employer", triage.NAME_ONLY]]
    assert entity["social:s2:employer"] not in (entity["registry:r1:subject"], entity["registry:r2:subject"])
    queue = pd.read_csv(tmp_path / "out" / "review_queue.csv", dtype=str)
    assert not (queue["left_mention"].isin(["social:s2:employer"]) | queue["right_mention"].isin(["social:s2:employer"])).any()
    assert person_id_parts.cache_info().currsize == 0  # parsed once for firms and persons, then let go


def test_a_person_shared_by_two_registered_firms_never_merges_them(tmp_path):
    settings = _city(tmp_path)
    rows = (tmp_path / "registry.csv").read_text(encoding="utf-8").replace(f"李强,{LI}", f"张伟,{ZHANG}")
    (tmp_path / "registry.csv").write_text(rows, encoding="utf-8")  # one person runs both firms
    run_resolve(tmp_path / "manifest.yaml", tmp_path / "out", settings)
    mentions = pd.read_csv(tmp_path / "out" / "mentions.csv", dtype=str)
    entity = dict(zip(mentions["mention_id"], mentions["entity_id"]))
    assert entity["registry:r1:subject"] != entity["registry:r2:subject"]
    # both firms name the employee: nothing tells them apart, so no guess
    assert entity["social:s1:employer"] not in (entity["registry:r1:subject"], entity["registry:r2:subject"])
    assert "social:s1:employer" in set(pd.read_csv(tmp_path / "out" / "unlinked.csv", dtype=str)["mention_id"])


def test_a_steward_sees_whether_the_rows_share_a_person_never_the_numbers():
    field = next(f for f in MatchModel.load("enterprise").fields if f.name == "row_person")
    describe = DESCRIBERS[field.compare]
    assert describe((ZHANG, LI), (LI,)) == "a person in common"
    assert describe((ZHANG,), (WANG,)) == "no person in common"
    assert describe((), (WANG,)) == "missing on one side"


def test_a_queue_from_before_keeps_no_row_person_values_when_served():
    # a row_person with values (not `compare`) in an enterprise item: the API drops them, and
    # even the masked form of the numbers is not shown
    item = ReviewItem(pair_id="p", kind="enterprise", left_mention="a", right_mention="b",
                      evidence={"row_person": Evidence(left=f"{ZHANG} / {LI}", right=LI, level="shared", weight=9.0)})
    shown = json.loads(item.model_dump_json())["evidence"]["row_person"]
    assert shown["left"] is None and shown["right"] is None and shown["level"] == "shared"
    assert ZHANG[-4:] not in item.model_dump_json()
