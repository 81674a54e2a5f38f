"""A name-only mention goes to the firm whose name it spells exactly (issue 10 point 5).

A social-security row's employer is often a free name without a code. Between two registered
firms with similar names, a record whose normalised name equals one of them belongs there even
when a fuzzy match to the other scores higher (0.9999 against 0.9997): scores that close to 1
say both are plausible, the exact name says which."""
from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from creditgraph.base.settings import Settings
from creditgraph.linkage.cluster import cluster
from creditgraph.pipeline import run_resolve

from test_resolve import uscc

A, B, MENTION, OTHER = 0, 1, 2, 3
HARD = [frozenset({"org:A"}), frozenset({"org:B"}), frozenset(), frozenset()]


def _cluster(pairs: list[tuple[int, int, float, int]]):
    """pairs: (left, right, probability, name rank: 0 the exact normalised name, 1 fuzzy)."""
    left, right, prob, rank = (np.array(c) for c in zip(*pairs))
    return cluster(len(HARD), left, right, prob.astype(float), 0.99, HARD, rank=rank)


def test_an_exact_name_outranks_a_higher_fuzzy_score():
    res = _cluster([(A, MENTION, 0.9997, 0), (B, MENTION, 0.9999, 1)])
    assert res.labels[MENTION] == res.labels[A] != res.labels[B]
    assert res.outweighed.tolist() == [False, True] and not res.ambiguous.any()


def test_an_exact_name_outranks_a_fuzzy_chain_through_another_name_only_record():
    # the other name-only record spells B's name; the mention reaches B through it, on higher scores
    res = _cluster([(MENTION, OTHER, 0.99999, 1), (B, OTHER, 0.9999, 0), (A, MENTION, 0.9997, 0)])
    assert res.labels[MENTION] == res.labels[A]
    assert res.labels[OTHER] == res.labels[B] != res.labels[A]


def test_two_fuzzy_matches_scoring_alike_stay_ambiguous():
    res = _cluster([(A, MENTION, 0.9997, 1), (B, MENTION, 0.9999, 1)])
    assert res.ambiguous.all() and res.labels[MENTION] not in (res.labels[A], res.labels[B])


MANIFEST = """
dataset: name_only
sources:
  - name: registry
    department: market_regulation
    file: registry.csv
    record_id: 记录号
    parties:
      subject: {kind: enterprise, fields: {name: 企业名称, identifiers: [统一社会信用代码]}}
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
      subject: {kind: person, fields: {name: 姓名}}
      employer: {kind: enterprise, fields: {name: 参保单位名称, identifiers: [参保单位代码]}}
    relations: [{type: EMPLOYED_BY, from: subject, to: employer}]
"""
TRADE, INDUSTRY = "华盛鼎泰恒远博通金瑞宏兴隆昌明永安富源嘉禾东方", ["贸易", "建材", "物流", "科技", "食品", "机械"]


def _filler(n: int) -> list[tuple[str, str]]:
    """Other firms, in the registry and the tax export under one code: enough pairs to fit the model."""
    rng, firms, seen = np.random.default_rng(1), [], set()
    while len(firms) < n:
        name = f"营口{''.join(rng.choice(list(TRADE), 2))}{rng.choice(INDUSTRY)}有限公司"
        if name not in seen:
            seen.add(name)
            firms.append((name, uscc("210800", f"MB{len(firms):06d}")))
    return firms


def _csv(header: str, rows) -> str:
    return header + "\n" + "".join(",".join(r) + "\n" for r in rows)


def test_a_name_only_employer_lands_on_the_firm_it_names_exactly(tmp_path):
    xinda, xinda_sound = uscc("210800", "MA0QD5F0"), uscc("210802", "MA0R11C3")
    firms = _filler(250)
    (tmp_path / "manifest.yaml").write_text(textwrap.dedent(MANIFEST), encoding="utf-8")
    (tmp_path / "registry.csv").write_text(_csv("记录号,企业名称,统一社会信用代码", [
        ("r1", "营口鑫达贸易有限公司", xinda), ("r2", "营口新达贸易有限公司", xinda_sound),
        *((f"f{i}", n, u) for i, (n, u) in enumerate(firms))]), encoding="utf-8")
    (tmp_path / "tax.csv").write_text(_csv("记录号,纳税人名称,纳税人识别号",
                                           ((f"t{i}", n[2:], u) for i, (n, u) in enumerate(firms))), encoding="utf-8")
    (tmp_path / "social.csv").write_text(_csv("记录号,姓名,参保单位名称,参保单位代码", [
        ("s1", "王五", "营口新达贸易有限公司", ""), ("s2", "赵六", "营口鑫达贸易有限公司", "")]), encoding="utf-8")
    run_resolve(tmp_path / "manifest.yaml", tmp_path / "out", Settings(data=tmp_path / "data", id_key="k"))
    mentions = pd.read_csv(tmp_path / "out" / "mentions.csv", dtype=str)
    entity = dict(zip(mentions["mention_id"], mentions["entity_id"]))
    assert entity["social:s1:employer"] == entity["registry:r2:subject"]
    assert entity["social:s2:employer"] == entity["registry:r1:subject"] != entity["registry:r2:subject"]
