"""Firms whose recorded shares sum past 100% (issue 10 point 1): share_issues.csv and run_report.json."""
from __future__ import annotations

import json
import textwrap

import pandas as pd
import pytest

from creditgraph.base.settings import Settings
from creditgraph.linkage.identifiers import org_code_check_char, uscc_check_char
from creditgraph.linkage.resolve import SHARE_ISSUE_COLUMNS, shares_over_100
from creditgraph.pipeline import run_resolve

MANIFEST = """
dataset: shares
sources:
  - name: shareholders
    department: market_regulation
    file: shareholders.csv
    record_id: id
    parties:
      subject: {kind: enterprise, fields: {name: firm, identifiers: [firm_uscc]}}
      shareholder: {kind: enterprise, fields: {name: holder, identifiers: [holder_uscc]}}
    relations:
      - {type: SHAREHOLDER_OF, from: shareholder, to: subject,
         props: {ratio: {column: ratio, type: ratio, unit: percent}}}
"""


def uscc(org8: str) -> str:
    body = "91210800" + org8 + org_code_check_char(org8)
    return body + uscc_check_char(body)


FIRMS = {"over": ("沈阳甲乙贸易有限公司", uscc("MA0QD5F0")), "rounding": ("大连丙丁机械有限公司", uscc("MA0QD6A1")),
         "repeated": ("鞍山戊己物流有限公司", uscc("MA0QD7B2"))}
HOLDERS = {k: (f"股东{k}投资有限公司", uscc(f"MA1QE{i:02d}C")) for i, k in enumerate("ABCDEF")}
ROWS = [("over", "A", "60"), ("over", "B", "50"),            # 110%: flagged
        ("rounding", "C", "60"), ("rounding", "D", "40.3"),  # 100.3%: within the rounding allowed
        ("repeated", "E", "70"), ("repeated", "E", "70"),    # one shareholder filed twice: 70 + 30
        ("repeated", "F", "30")]


@pytest.fixture
def resolved(tmp_path):
    (tmp_path / "manifest.yaml").write_text(textwrap.dedent(MANIFEST), encoding="utf-8")
    lines = ["id,firm,firm_uscc,holder,holder_uscc,ratio"]
    for i, (firm, holder, ratio) in enumerate(ROWS, 1):
        lines.append(",".join((str(i), *FIRMS[firm], *HOLDERS[holder], ratio)))
    (tmp_path / "shareholders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    report = run_resolve(tmp_path / "manifest.yaml", out, Settings(data=tmp_path / "data", id_key="test-key"))
    return out, report


def test_a_firm_held_60_and_50_percent_is_flagged(resolved):
    out, report = resolved
    issues = pd.read_csv(out / "share_issues.csv", dtype=str)
    assert list(issues.columns) == SHARE_ISSUE_COLUMNS
    assert issues["name"].tolist() == [FIRMS["over"][0]]
    flagged = issues.iloc[0]
    assert float(flagged["shares_percent"]) == 110.0 and flagged["shareholders"] == "2"
    entities = pd.read_csv(out / "entities.csv", dtype=str).set_index("name")["entity_id"]
    assert flagged["entity_id"] == entities[FIRMS["over"][0]]
    assert set(flagged["shareholder_ids"].split("|")) == {entities[HOLDERS["A"][0]], entities[HOLDERS["B"][0]]}
    assert report["shares_over_100"] == {"count": 1, "firms": [
        {"entity_id": flagged["entity_id"], "name": FIRMS["over"][0], "shares_percent": 110.0}]}
    on_disk = json.loads((out / "run_report.json").read_text(encoding="utf-8"))
    assert on_disk["shares_over_100"] == report["shares_over_100"]


def test_no_shareholdings_no_issues():
    relations = pd.DataFrame({"from_id": ["P-1"], "to_id": ["E-1"], "type": ["LEGAL_REP_OF"], "ratio": [None],
                              "source": ["tax"]})
    got = shares_over_100(relations, pd.DataFrame({"entity_id": ["E-1"], "name": ["甲公司"]}))
    assert got.empty and list(got.columns) == SHARE_ISSUE_COLUMNS
