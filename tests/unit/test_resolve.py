"""Resolution on a small hand-made city whose right answer is known row by row."""
from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from creditgraph.pipeline import run_resolve
from creditgraph.base.settings import Settings
from creditgraph.linkage.decisions import Decision, DecisionLog, Verdict
from creditgraph.base.privacy import mask
from creditgraph.linkage.identifiers import mask_ric, org_code_check_char, ric_check_char, uscc_check_char


def uscc(division: str, org8: str) -> str:
    org = org8 + org_code_check_char(org8)
    body = "91" + division + org
    return body + uscc_check_char(body)


def ric(body17: str) -> str:
    return body17 + ric_check_char(body17)


XINDA = uscc("210800", "MA0QD5F0")          # 营口鑫达贸易有限公司
XINDA_LOG = uscc("210800", "MA0QD6A1")      # 营口鑫达物流有限公司: same trade name, other industry
XINDA_BR = uscc("210804", "MA0QD7B2")       # its 鲅鱼圈 branch
HUA = uscc("210802", "MA0R11C3")            # 营口华盛建材有限公司
ZHANG_1 = ric("21080219720101301")          # 张伟 (born 1972: the stdnum trap area)
ZHANG_2 = ric("21080319850505123")          # another 张伟
LI = ric("21080219800303302")

MANIFEST = """
dataset: mini
sources:
  - name: registry
    department: market_regulation
    file: registry.csv
    record_id: 记录号
    parties:
      subject: {kind: enterprise, fields: {name: 企业名称, identifiers: [统一社会信用代码], phone: 联系电话}}
      legal_rep: {kind: person, fields: {name: 法定代表人, identifiers: [证件号码]}}
    relations: [{type: LEGAL_REP_OF, from: legal_rep, to: subject}]
  - name: tax
    department: tax
    file: tax.csv
    record_id: 记录号
    parties:
      subject: {kind: enterprise, fields: {name: 纳税人名称, identifiers: [纳税人识别号]}}
      legal_rep: {kind: person, optional: true, fields: {name: 法定代表人姓名}}
    relations: [{type: LEGAL_REP_OF, from: legal_rep, to: subject}]
    lists: [{party: subject, list: tax_grade, grade: 信用等级}]
  - name: court
    department: courts
    file: court.csv
    record_id: 记录号
    parties:
      subject:
        kind_from: {column: 类型, map: {自然人: person, 法人或其他组织: enterprise}}
        fields: {name: 名称, identifiers: [证件号码]}
    lists: [{party: subject, list: dishonest_debtor, case_no: 案号}]
"""


def registry() -> str:
    rows = [("r1", "营口市鑫达贸易有限公司", XINDA, "0417-1234567", "张伟", ZHANG_1),
            ("r2", "营口鑫达物流有限公司", XINDA_LOG, "0417-7654321", "张伟", ZHANG_2),
            ("r3", "营口市鑫达贸易有限公司鲅鱼圈分公司", XINDA_BR, "0417-1234567", "李娜", LI),
            ("r4", "营口华盛建材有限公司", HUA, "0417-5555555", "李娜", LI)]
    return "记录号,企业名称,统一社会信用代码,联系电话,法定代表人,证件号码\n" + "".join(",".join(r) + "\n" for r in rows)


def tax() -> str:
    rows = [("t1", "營口鑫達貿易有限責任公司", "210800" + XINDA[8:17], "张伟", "A"),   # old tax no., traditional
            ("t2", "鑫达物流(营口)有限公司", XINDA_LOG.lower(), "张伟", "B"),          # lower-case USCC
            ("t3", "营口 华盛建材有限公司", HUA[:-1] + ("0" if HUA[-1] != "0" else "1"), "李娜", "C")]  # bad check
    return "记录号,纳税人名称,纳税人识别号,法定代表人姓名,信用等级\n" + "".join(",".join(r) + "\n" for r in rows)


def court() -> str:
    rows = [("c1", "营口市鑫达贸易有限公司", "法人或其他组织", XINDA[8:16] + "-" + XINDA[16], "(2021)辽0802执1号"),
            ("c2", "张伟", "自然人", mask_ric(ZHANG_1), "(2021)辽0802执2号"),
            ("c3", "张伟", "自然人", "", "(2021)辽0802执3号")]
    return "记录号,名称,类型,证件号码,案号\n" + "".join(",".join(r) + "\n" for r in rows)


TRUTH = {"registry:r1:subject": "XINDA", "tax:t1:subject": "XINDA", "court:c1:subject": "XINDA",
         "registry:r2:subject": "XINDA_LOG", "tax:t2:subject": "XINDA_LOG",
         "registry:r3:subject": "XINDA_BR", "registry:r4:subject": "HUA", "tax:t3:subject": "HUA",
         "registry:r1:legal_rep": "ZHANG_1", "tax:t1:legal_rep": "ZHANG_1", "court:c2:subject": "ZHANG_1",
         "registry:r2:legal_rep": "ZHANG_2", "tax:t2:legal_rep": "ZHANG_2",
         "registry:r3:legal_rep": "LI", "registry:r4:legal_rep": "LI", "tax:t3:legal_rep": "LI",
         "court:c3:subject": "ZHANG_?"}


@pytest.fixture
def city(tmp_path):
    (tmp_path / "manifest.yaml").write_text(textwrap.dedent(MANIFEST), encoding="utf-8")
    (tmp_path / "registry.csv").write_text(registry(), encoding="utf-8-sig")
    (tmp_path / "tax.csv").write_bytes(tax().encode("gb18030"))
    (tmp_path / "court.csv").write_text(court(), encoding="utf-8")
    return tmp_path


def resolve(city, settings):
    out = city / "out"
    report = run_resolve(city / "manifest.yaml", out, settings)
    mentions = pd.read_csv(out / "mentions.csv", dtype=str)
    return report, out, dict(zip(mentions["mention_id"], mentions["entity_id"]))


@pytest.fixture
def settings(tmp_path):
    return Settings(data=tmp_path / "data", id_key="test-key")


def test_every_mention_lands_on_its_true_entity(city, settings):
    report, out, entity = resolve(city, settings)
    assert report["rows"]["adds_up"] and report["rows"]["rejected"] == 0
    groups = {}
    for mid, true in TRUTH.items():
        groups.setdefault(true, set()).add(entity[mid])
    assert all(len(ids) == 1 for ids in groups.values()), groups
    distinct = [next(iter(groups[t])) for t in ("XINDA", "XINDA_LOG", "XINDA_BR", "HUA", "ZHANG_1", "ZHANG_2", "LI")]
    assert len(set(distinct)) == 7, "hard negatives (other industry, branch, same name) stay apart"
    assert groups["ZHANG_?"] != groups["ZHANG_1"], "a person is never merged on a name alone"


def test_outputs_hide_identity_numbers_and_use_stable_ids(city, settings):
    _, out, entity = resolve(city, settings)
    assert entity["registry:r1:subject"] == "E-" + XINDA
    for name in ("entities.csv", "mentions.csv", "relations.csv", "review_queue.csv", "list_records.csv"):
        text = (out / name).read_text(encoding="utf-8")
        assert ZHANG_1 not in text and LI not in text, name
    vault = pd.read_csv(out / "identity_vault.csv", dtype=str)
    assert ZHANG_1 in set(vault["id_number"])
    assert (out / "identity_vault.csv").stat().st_mode & 0o077 == 0
    entities = pd.read_csv(out / "entities.csv", dtype=str).set_index("entity_id")
    assert entities.loc[entity["court:c2:subject"], "identifier"] == mask(ZHANG_1)  # the display mask
    _, _, again = resolve(city, settings)
    assert again == entity, "the same input gives the same ids"


def test_relations_and_lists_point_at_entities(city, settings):
    _, out, entity = resolve(city, settings)
    rel = pd.read_csv(out / "relations.csv", dtype=str)
    legal = rel[(rel["type"] == "LEGAL_REP_OF") & (rel["to_id"] == entity["registry:r1:subject"])]
    assert list(legal["from_id"]) == [entity["registry:r1:legal_rep"]]
    assert set(legal["source"].iloc[0].split("|")) == {"registry", "tax"}
    lists = pd.read_csv(out / "list_records.csv", dtype=str)
    debtor = lists[lists["list"] == "dishonest_debtor"]
    assert set(debtor["entity_id"]) == {entity["registry:r1:subject"], entity["registry:r1:legal_rep"],
                                        entity["court:c3:subject"]}


def test_a_stewards_decision_holds_on_the_next_run(city, settings):
    _, _, entity = resolve(city, settings)
    assert entity["court:c3:subject"] != entity["registry:r1:legal_rep"]
    DecisionLog(settings.decisions_path).append(
        Decision("court:c3:subject", "registry:r1:legal_rep", Verdict.SAME, "steward-a", "checked the judgment"))
    _, _, after = resolve(city, settings)
    assert after["court:c3:subject"] == after["registry:r1:legal_rep"]
    DecisionLog(settings.decisions_path).append(
        Decision("tax:t1:subject", "registry:r1:subject", Verdict.DIFFERENT, "steward-b"))
    _, _, split = resolve(city, settings)
    assert split["tax:t1:subject"] != split["registry:r1:subject"]


def test_adding_a_source_does_not_renumber_the_entities_it_leaves_alone(city, settings):
    full = textwrap.dedent(MANIFEST)
    without_court = full[:full.index("  - name: court")]
    (city / "manifest.yaml").write_text(without_court, encoding="utf-8")
    _, _, before = resolve(city, settings)
    (city / "manifest.yaml").write_text(full, encoding="utf-8")
    _, _, after = resolve(city, settings)
    assert {mid: after[mid] for mid in before} == before


def test_review_from_the_terminal_lands_in_the_decision_log(city, settings, monkeypatch):
    from typer.testing import CliRunner

    from creditgraph.base import settings as settings_module
    from creditgraph.cli import app
    _, out, _ = resolve(city, settings)
    queue = pd.read_csv(out / "review_queue.csv", dtype=str)
    assert queue.empty, "identifiers tell the mini city's close pairs apart: nothing to review"
    queue = pd.DataFrame([{"pair_id": "p1", "kind": "person", "left_mention": "court:c3:subject",
                           "right_mention": "registry:r1:legal_rep", "left_entity": "P-a", "right_entity": "P-b",
                           "score": 0.6, "reason": "uncertain",
                           "evidence": '{"name": {"left": "张伟", "right": "张伟", "level": "exact", "weight": 6.5}}'}])
    queue.to_csv(out / "review_queue.csv", index=False)
    monkeypatch.setenv("CREDITGRAPH_DATA", str(settings.data))
    settings_module.get_settings.cache_clear()
    runner = CliRunner()
    listed = runner.invoke(app, ["review", "list", "--from", str(out)])
    assert listed.exit_code == 0 and queue["pair_id"].iloc[0] in listed.output
    pair = queue.iloc[0]
    decided = runner.invoke(app, ["review", "decide", pair["pair_id"], "different", "--from", str(out),
                                  "--who", "steward-c", "--note", "other firm"])
    assert decided.exit_code == 0, decided.output
    log = DecisionLog(settings.decisions_path).latest()
    key = tuple(sorted((pair["left_mention"], pair["right_mention"])))
    assert log[key].verdict == Verdict.DIFFERENT and log[key].who == "steward-c"
    after = runner.invoke(app, ["review", "list", "--from", str(out)])
    assert pair["pair_id"] not in after.output
    settings_module.get_settings.cache_clear()
