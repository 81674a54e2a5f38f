"""Person names by sound (issue 10 point 4): 黄燕 and 黄艳 are one name read aloud.

A legal representative's name is evidence in the enterprise model (`legal_rep`) and the person's
own name in the person model; both have a homophone level, and a person is still never merged on
a name alone."""
from __future__ import annotations

import textwrap

import pandas as pd

from creditgraph.base.settings import Settings
from creditgraph.linkage.compare import COMPARATORS
from creditgraph.linkage.model import MatchModel
from creditgraph.linkage.names import normalize_person_name
from creditgraph.pipeline import run_resolve

from test_resolve import uscc

XINDA = uscc("210800", "MA0QD5F0")   # 营口鑫达贸易有限公司
HUA = uscc("210802", "MA0R11C3")     # 营口华盛建材有限公司

MANIFEST = """
dataset: sound
sources:
  - name: registry
    department: market_regulation
    file: registry.csv
    record_id: 记录号
    parties:
      subject: {kind: enterprise, fields: {name: 企业名称, identifiers: [统一社会信用代码]}}
      legal_rep: {kind: person, fields: {name: 法定代表人}}
    relations: [{type: LEGAL_REP_OF, from: legal_rep, to: subject}]
  - name: tax
    department: tax
    file: tax.csv
    record_id: 记录号
    parties:
      subject: {kind: enterprise, fields: {name: 纳税人名称, identifiers: [纳税人识别号]}}
      legal_rep: {kind: person, optional: true, fields: {name: 法定代表人姓名}}
    relations: [{type: LEGAL_REP_OF, from: legal_rep, to: subject}]
"""


def _level(model: str, field: str, a: str, b: str) -> str:
    f = next(f for f in MatchModel.load(model).fields if f.name == field)
    return f.levels[COMPARATORS[f.compare]((a,), (b,), f.options)]


def test_a_legal_representatives_homophone_is_the_sound_level_not_different():
    clean = lambda s: normalize_person_name(s).clean  # as prepare hands the enterprise model
    assert _level("enterprise", "legal_rep", clean("黄燕"), clean("黄艳")) == "pinyin"
    assert _level("enterprise", "legal_rep", clean("黄燕"), clean("黃燕")) == "exact"  # traditional 黃
    assert _level("enterprise", "legal_rep", clean("黄燕"), clean("王刚")) == "different"


def resolve(tmp_path, registry: list[tuple], tax: list[tuple]):
    (tmp_path / "manifest.yaml").write_text(textwrap.dedent(MANIFEST), encoding="utf-8")
    (tmp_path / "registry.csv").write_text(
        "记录号,企业名称,统一社会信用代码,法定代表人\n" + "".join(",".join(r) + "\n" for r in registry), encoding="utf-8")
    (tmp_path / "tax.csv").write_text(
        "记录号,纳税人名称,纳税人识别号,法定代表人姓名\n" + "".join(",".join(r) + "\n" for r in tax), encoding="utf-8")
    out = tmp_path / "out"
    run_resolve(tmp_path / "manifest.yaml", out, Settings(data=tmp_path / "data", id_key="test-key"))
    mentions = pd.read_csv(out / "mentions.csv", dtype=str)
    return dict(zip(mentions["mention_id"], mentions["entity_id"])), pd.read_csv(out / "review_queue.csv", dtype=str)


def test_a_firm_without_identifier_joins_on_a_sound_alike_name_and_legal_representative(tmp_path):
    entity, _ = resolve(tmp_path, [("r1", "营口市鑫达贸易有限公司", XINDA, "黄燕"), ("r2", "营口华盛建材有限公司", HUA, "李娜")],
                        [("t1", "营口新达贸易有限公司", "", "黄艳")])  # 新 for 鑫, 艳 for 燕, no number
    assert entity["tax:t1:subject"] == entity["registry:r1:subject"]
    assert entity["tax:t1:subject"] != entity["registry:r2:subject"]


def test_homophone_legal_representatives_of_one_firm_are_one_person(tmp_path):
    entity, queue = resolve(tmp_path, [("r1", "营口市鑫达贸易有限公司", XINDA, "黄燕")],
                            [("t1", "营口鑫达贸易有限公司", XINDA, "黄艳")])
    assert entity["tax:t1:legal_rep"] == entity["registry:r1:legal_rep"], queue.to_dict("records")


def test_homophone_names_without_other_evidence_stay_apart(tmp_path):
    entity, queue = resolve(tmp_path, [("r1", "营口市鑫达贸易有限公司", XINDA, "黄燕"), ("r2", "营口华盛建材有限公司", HUA, "黄艳")],
                            [("t1", "营口华盛建材有限公司", HUA, "黄燕")])
    assert entity["registry:r1:legal_rep"] != entity["registry:r2:legal_rep"]
    assert entity["registry:r1:legal_rep"] != entity["tax:t1:legal_rep"], "same name, other firm: not enough"
    persons = queue[queue["kind"] == "person"]
    pair = {"registry:r1:legal_rep", "registry:r2:legal_rep"}
    assert not any({l, r} == pair for l, r in zip(persons["left_mention"], persons["right_mention"])), \
        "a name alone is not even a question for a steward"
