"""Identifiers on data nobody tuned for: a steward's `different` holds between its two mentions
only, and a secondary identifier shared by two firms (or persons) whose primary identifiers
differ joins nothing: it is a conflict for review."""
from __future__ import annotations

import json
import textwrap

import pandas as pd
import pytest

from creditgraph.base.settings import Settings
from creditgraph.linkage.decisions import Decision, DecisionLog, Verdict
from creditgraph.linkage.identifiers import org_code_check_char, uscc_check_char
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
