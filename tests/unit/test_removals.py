"""A list record's period from the manifest, and removal exports that end records (issue 11)."""
from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from creditgraph.loaders.manifest import ManifestError, load_manifest
from creditgraph.loaders.reader import read_manifest
from creditgraph.loaders.removals import apply_removals, same_subject, term_end

MANIFEST = """
dataset: test
sources:
  - name: court
    department: courts
    file: court.csv
    record_id: 记录号
    parties:
      subject:
        kind_from: {column: 类型, map: {自然人: person, 法人或其他组织: enterprise}}
        fields: {name: 名称, identifiers: [证件号码]}
    lists:
      - {party: subject, list: dishonest_debtor, case_no: 案号, date: {column: 发布日期, type: date},
         effective_to: 截止日期, term: 2y}
  - name: court_removals
    department: courts
    kind: removals
    file: removals.csv
    record_id: 记录号
    removes:
      source: court
      case_no: 案号
      identifier: 证件号码
      removed_on: 移出日期
      reason: {column: 移出原因, map: {履行完毕: performed, 撤销: revoked}}
  - name: credit_repair
    department: credit_office
    kind: removals
    file: repair.csv
    record_id: 编号
    removes: {source: court, list: dishonest_debtor, record_id: 原记录号, removed_on: 修复日期,
              reason: {literal: repaired}}
"""

COURT = """记录号,名称,类型,证件号码,案号,发布日期,截止日期
1,营口鑫达贸易有限公司,法人或其他组织,91210800710001374U,（2020）辽0802执1号,2020-03-01,
2,李娜,自然人,2108021980****3018,(2020)辽0802执2号,2020/3/2,2021-06-30
3,营口新华物流有限公司,法人或其他组织,912108007100027483,(2020)辽0802执3号,2020-02-29,
4,营口新华物流有限公司,法人或其他组织,912108007100027483,(2020)辽0802执3号,2020-05-01,
"""
REMOVALS = """记录号,案号,证件号码,移出日期,移出原因
R1,(2020)辽0802执1号,71000137-4,2021-01-15,履行完毕
R2,(2020)辽0802执2号,210802********3018,2021-02-01,撤销
R3,(2020)辽0802执9号,91210800710001374U,2021-03-01,履行完毕
R4,(2020)辽0802执3号,912108007100027483,2021-03-01,履行完毕
R5,(2020)辽0802执1号,71000137-4,2021-04-01,和解
"""
REPAIR = """编号,原记录号,修复日期
X1,4,2020-12-01
X2,99,2020-12-01
"""


def write(tmp_path, manifest=MANIFEST, court=COURT, removals=REMOVALS, repair=REPAIR):
    (tmp_path / "manifest.yaml").write_text(textwrap.dedent(manifest), encoding="utf-8")
    for name, text in (("court.csv", court), ("removals.csv", removals), ("repair.csv", repair)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    return load_manifest(tmp_path / "manifest.yaml")


@pytest.fixture()
def loaded(tmp_path):
    result = read_manifest(write(tmp_path))
    frames = apply_removals(result.frames(), result.reports)
    return frames, {r.source: r for r in result.reports}


def _record(frames, record_id: str) -> dict:
    lists = frames["lists"]
    return lists[lists["record_id"] == record_id].iloc[0].to_dict()


def test_a_term_ends_the_day_before_its_anniversary():
    assert term_end("2024-03-01", "2y") == "2026-02-28"
    assert term_end("2020-02-29", "1y") == "2021-02-27"        # no 29 February: the 28th is the anniversary
    assert term_end("2023-11-30", "3m") == "2024-02-28"


def test_a_record_carries_its_period(loaded):
    frames, _ = loaded
    first = _record(frames, "1")
    assert (first["effective_from"], first["effective_to"], first["department"]) == (
        "2020-03-01", "2022-02-28", "courts")                  # no end date: the list's 2-year term
    assert _record(frames, "2")["effective_to"] == "2021-06-30"  # an end date of its own wins


def test_removals_end_the_record_they_name(loaded):
    frames, _ = loaded
    first = _record(frames, "1")     # USCC listed, removed by its organisation code, case in full-width brackets
    assert (first["removed_on"], first["removal_reason"]) == ("2021-01-15", "performed")
    second = _record(frames, "2")    # a masked number against the same mask
    assert (second["removed_on"], second["removal_reason"]) == ("2021-02-01", "revoked")
    fourth = _record(frames, "4")    # by the source's record id, for one list
    assert (fourth["removed_on"], fourth["removal_reason"]) == ("2020-12-01", "repaired")


def test_a_removal_that_matches_nothing_is_rejected_with_its_reason(loaded):
    frames, reports = loaded
    rejects = frames["rejects"].set_index("raw")["reason"]
    unmatched = rejects[next(r for r in rejects.index if r.startswith("R3,"))]
    assert "matches no dishonest_debtor" not in unmatched   # the removal names no list: none claimed
    assert "no record of source 'court' with case '(2020)辽0802执9号' of subject" in unmatched
    assert "record id '99'" in rejects[next(r for r in rejects.index if r.startswith("X2,"))]


def test_a_removal_that_matches_several_records_is_for_a_steward(loaded):
    frames, _ = loaded
    reason = frames["rejects"].set_index("raw")["reason"][lambda s: s.index.str.startswith("R4,")].iloc[0]
    assert "matches 2 records (court:3:dishonest_debtor, court:4:dishonest_debtor): a steward decides" in reason
    assert pd.isna(_record(frames, "3")["removed_on"])   # not guessed


def test_an_unknown_reason_rejects_its_row_and_counts_add_up(loaded):
    frames, reports = loaded
    rejects = frames["rejects"]
    r5 = rejects[rejects["raw"].str.startswith("R5,")].iloc[0]
    assert r5["column"] == "移出原因" and "removal reason '和解'" in r5["reason"]
    removals = reports["court_removals"]
    assert (removals.rows_read, removals.accepted, removals.rejected) == (5, 2, 3)
    assert (reports["credit_repair"].accepted, reports["credit_repair"].rejected) == (1, 1)
    for r in reports.values():
        assert r.rows_read == r.accepted + r.rejected


def test_the_earliest_removal_of_a_record_holds(tmp_path):
    extra = REMOVALS + "R6,(2020)辽0802执1号,91210800710001374U,2020-12-31,撤销\n"
    result = read_manifest(write(tmp_path, removals=extra))
    frames = apply_removals(result.frames(), result.reports)
    assert _record(frames, "1")["removed_on"] == "2020-12-31"


@pytest.mark.parametrize("wanted,held,same", [
    ("71000137-4", "91210800710001374U", True),
    ("91210800710001374U", "x|710001374", True),
    ("912108007100027483", "91210800710001374U", False),
    ("210802********3018", "2108021980****3018", True),
    ("210802********3019", "2108021980****3018", False),
])
def test_the_subject_is_matched_by_what_identifiers_carry(wanted, held, same):
    assert same_subject(wanted, held) is same


@pytest.mark.parametrize("change,message", [
    (("    kind: removals\n    file: removals.csv\n", "    kind: removals\n    file: removals.csv\n"
      "    parties: {subject: {kind: person, fields: {name: 名称}}}\n"), "no parties, relations or lists"),
    (("source: court\n      case_no", "source: courts\n      case_no"), "removes records of 'courts'"),
    (("      identifier: 证件号码\n", ""), "by `record_id`, or by `case_no` and `identifier`"),
    (("term: 2y", "term: two years"), "term 'two years'"),
    (("{literal: repaired}", "{literal: forgiven}"), "literal"),
])
def test_a_bad_removal_or_period_is_a_manifest_error(tmp_path, change, message):
    assert change[0] in MANIFEST
    with pytest.raises(ManifestError, match=message):
        write(tmp_path, manifest=MANIFEST.replace(*change))
