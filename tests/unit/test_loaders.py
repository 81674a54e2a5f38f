"""Loaders: manifest validation, encodings, typed fields, and every row accepted or rejected."""
from __future__ import annotations

import codecs
import json
import re
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from creditgraph.base.settings import get_settings
from creditgraph.cli import app
from creditgraph.loaders.fields import FieldError, parse_date, parse_ratio
from creditgraph.loaders.manifest import CYPHER, ManifestError, list_catalogue, load_manifest
from creditgraph.loaders.reader import detect_encoding, read_manifest
from creditgraph.render import path_text
from creditgraph.synth.noise import Garbler
from creditgraph.synth.rates import Noise
from creditgraph.synth.vocab import SYNTH_DATA, load_vocab

REPO = Path(__file__).resolve().parents[2]

MANIFEST = """
dataset: test
sources:
  - name: court
    department: courts
    file: court.csv
    encoding: auto
    record_id: 记录号
    parties:
      subject:
        kind_from: {column: 类型, map: {自然人: person, 法人或其他组织: enterprise}}
        fields:
          name: 名称
          identifiers: [证件号码]
      legal_rep:
        kind: person
        when: {column: 类型, equals: 法人或其他组织}
        optional: true
        fields: {name: 法定代表人}
    relations:
      - {type: LEGAL_REP_OF, from: legal_rep, to: subject}
    lists:
      - {party: subject, list: dishonest_debtor, case_no: 案号, date: {column: 发布日期, type: date}}
"""

HEADER = "记录号,名称,类型,证件号码,法定代表人,案号,发布日期\n"
GOOD = [
    "1,营口鑫达贸易有限公司,法人或其他组织,12345678-9,张伟,(2020)辽0802执1号,2020年3月1日\n",
    "2,李娜,自然人,2108021980****3018,,(2020)辽0802执2号,2020/3/2\n",
    "3,营口新华物流有限公司,法人或其他组织,,,(2020)辽0802执3号,20200303\n",
]
BAD = [
    "4,,自然人,,,(2020)辽0802执4号,2020-03-04\n",        # empty name
    "5,王芳,自然人,,,(2020)辽0802执5号,2019-02-30\n",      # impossible date
    "6,王芳,自然人,,(2020)辽0802执6号\n",                  # ragged row
    "7,某人,外国人,,,(2020)辽0802执7号,2020-03-07\n",      # kind not in the map
    "1,重复,自然人,,,(2020)辽0802执8号,2020-03-08\n",      # duplicate record id
]


def write(tmp_path, rows, encoding="utf-8", manifest=MANIFEST, name="court.csv"):
    (tmp_path / "manifest.yaml").write_text(textwrap.dedent(manifest), encoding="utf-8")
    (tmp_path / name).write_bytes("".join([HEADER, *rows]).encode(encoding))
    return load_manifest(tmp_path / "manifest.yaml")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_reads_each_encoding_to_the_same_mentions(tmp_path, encoding):
    result = read_manifest(write(tmp_path, GOOD, encoding))
    assert result.reports[0].encoding == encoding
    frames = result.frames()
    mentions = frames["mentions"].to_dict("records")
    assert [m["name"] for m in mentions] == ["营口鑫达贸易有限公司", "张伟", "李娜", "营口新华物流有限公司"]
    assert mentions[0]["mention_id"] == "court:1:subject"
    assert mentions[1]["kind"] == "person"
    relations = frames["relations"].astype(object).where(frames["relations"].notna(), None).to_dict("records")
    assert relations == [{"from_mention": "court:1:legal_rep", "to_mention": "court:1:subject",
                          "type": "LEGAL_REP_OF", "ratio": None, "role": None, "amount": None,
                          "source": "court", "record_id": "1"}]
    assert frames["lists"]["date"].tolist() == ["2020-03-01", "2020-03-02", "2020-03-03"]


def test_every_row_is_accepted_or_rejected_with_a_reason(tmp_path):
    result = read_manifest(write(tmp_path, GOOD + BAD))
    report = result.reports[0]
    assert (report.rows_read, report.accepted, report.rejected) == (8, 3, 5)
    rejects = result.frames()["rejects"].to_dict("records")
    reasons = {r["line"]: (r["column"], r["reason"]) for r in rejects}
    assert reasons[5][0] == "名称" and "empty name" in reasons[5][1]
    assert reasons[6][0] == "发布日期" and "impossible date" in reasons[6][1]
    assert "ragged row: 5 fields" in reasons[7][1]
    assert reasons[8][0] == "类型" and "外国人" in reasons[8][1]
    assert "duplicate record id '1' (first on line 2)" in reasons[9][1]
    assert all(r["file"].endswith("court.csv") for r in rejects)


def test_undecodable_line_is_rejected_and_the_rest_read(tmp_path):
    manifest = write(tmp_path, GOOD)
    data = (tmp_path / "court.csv").read_bytes()
    (tmp_path / "court.csv").write_bytes(data + "8,坏行,自然人,,,x,2020-01-01\n".encode("utf-8")[:-20] + b"\xff\xfe\n")
    manifest = load_manifest(tmp_path / "manifest.yaml")
    result = read_manifest(manifest.model_copy(update={"sources": [
        manifest.sources[0].model_copy(update={"encoding": "utf-8"})]}))
    report = result.reports[0]
    assert report.accepted == 3 and report.rejected == 1
    reject = result.frames()["rejects"].iloc[0]
    assert "not valid utf-8" in reject["reason"] and reject["line"] == 5


def test_missing_column_names_the_entry_and_the_columns_the_file_has(tmp_path):
    manifest = write(tmp_path, GOOD, manifest=MANIFEST.replace("案号, date", "案件号, date"))
    result = read_manifest(manifest)
    report = result.reports[0]
    assert report.rejected == 3 and report.accepted == 0
    assert "source 'court'" in report.error and "['案件号']" in report.error and "发布日期" in report.error


def test_bad_manifest_fails_when_it_loads(tmp_path):
    bad = MANIFEST.replace("from: legal_rep", "from: legal_representative")
    with pytest.raises(ManifestError, match="source 'court'.*legal_representative"):
        write(tmp_path, GOOD, manifest=bad)


def test_encoding_detection():
    assert detect_encoding(codecs.BOM_UTF8 + "名称".encode()) == "utf-8-sig"
    assert detect_encoding("名称".encode()) == "utf-8"
    assert detect_encoding("營口鑫達".encode("gb18030")) == "gb18030"


@pytest.mark.parametrize("text,iso", [("2008-03-01", "2008-03-01"), ("2008/3/1", "2008-03-01"),
                                      ("20080301", "2008-03-01"), ("2008年3月1日", "2008-03-01"),
                                      ("２００８－０３－０１", "2008-03-01")])
def test_dates(text, iso):
    assert parse_date(text) == iso


@pytest.mark.parametrize("text", ["2008-13-01", "March 1", "2019-02-30"])
def test_bad_dates(text):
    with pytest.raises(FieldError):
        parse_date(text)


@pytest.mark.parametrize("text,unit,ratio", [
    ("1", "percent", 0.01), ("2", "percent", 0.02), ("35", "percent", 0.35), ("0.5", "percent", 0.005),
    ("100", "percent", 1.0), ("1", "fraction", 1.0), ("0.35", "fraction", 0.35), ("0", "fraction", 0.0),
    ("35%", "fraction", 0.35), ("35.00%", "percent", 0.35), ("1%", "fraction", 0.01), ("３５％", "percent", 0.35)])
def test_ratios_read_in_the_declared_unit(text, unit, ratio):
    """A bare number is read in the column's unit (a 1% stake is not 100%); a `%` sign speaks for itself."""
    assert parse_ratio(text, unit) == ratio


@pytest.mark.parametrize("text,unit", [("135%", "fraction"), ("135", "percent"), ("35", "fraction"),
                                       ("1.01", "fraction"), ("-1", "percent"), ("-0.1", "fraction")])
def test_ratio_outside_its_unit_range(text, unit):
    with pytest.raises(FieldError, match="out of range"):
        parse_ratio(text, unit)


RATIOS = """
dataset: test
sources:
  - name: holders
    department: market_regulation
    file: holders.csv
    record_id: 记录号
    parties:
      subject: {kind: enterprise, fields: {name: 企业名称}}
      shareholder: {kind: person, fields: {name: 股东名称}}
    relations:
      - {type: SHAREHOLDER_OF, from: shareholder, to: subject, props: {ratio: {column: 持股比例(%), type: ratio UNIT}}}
"""


def read_ratios(tmp_path, unit: str, values: list[str]):
    (tmp_path / "manifest.yaml").write_text(textwrap.dedent(RATIOS.replace(" UNIT", unit)), encoding="utf-8")
    rows = "".join(f"{i},营口鑫达贸易有限公司,张伟{i},{v}\n" for i, v in enumerate(values, 1))
    (tmp_path / "holders.csv").write_text("记录号,企业名称,股东名称,持股比例(%)\n" + rows, encoding="utf-8")
    return read_manifest(load_manifest(tmp_path / "manifest.yaml"))


def test_a_percent_column_reads_a_one_percent_stake_and_rejects_what_is_out_of_range(tmp_path):
    result = read_ratios(tmp_path, ", unit: percent", ["1", "2", "0.5", "100", "150", "3%"])
    frames = result.frames()
    assert frames["relations"]["ratio"].tolist() == [0.01, 0.02, 0.005, 1.0, 0.03]
    report = result.reports[0]
    assert (report.rows_read, report.accepted, report.rejected) == (6, 5, 1)
    reject = frames["rejects"].iloc[0]
    assert reject["file"].endswith("holders.csv") and reject["line"] == 6 and reject["column"] == "持股比例(%)"
    assert "out of range" in reject["reason"] and "150" in reject["reason"] and "percent" in reject["reason"]


def test_a_fraction_column_rejects_a_bare_percentage(tmp_path):
    result = read_ratios(tmp_path, ", unit: fraction", ["0.35", "35%", "35"])
    assert result.frames()["relations"]["ratio"].tolist() == [0.35, 0.35]
    assert result.frames()["rejects"]["line"].tolist() == [4]


def test_a_ratio_without_a_unit_is_a_manifest_error_naming_source_and_field(tmp_path):
    with pytest.raises(ManifestError, match=r"source 'holders': relations\.0\.props: .*field 'ratio': a ratio needs its unit.*'持股比例\(%\)' suggests percent"):
        read_ratios(tmp_path, "", ["1"])


@pytest.mark.parametrize("spec", ["{column: 成立日期, type: date, unit: percent}",
                                  "{column: 持股比例, type: ratio, unit: permille}"])
def test_a_unit_only_goes_with_a_ratio_and_is_percent_or_fraction(tmp_path, spec):
    with pytest.raises(ManifestError, match="source 'court'"):
        write(tmp_path, GOOD, manifest=MANIFEST.replace("{column: 发布日期, type: date}", spec))


@pytest.mark.parametrize("path", [SYNTH_DATA / "manifest.yaml", REPO / "benchmarks/febrl/manifest.yaml"])
def test_shipped_manifests_load(path):
    assert load_manifest(path).sources   # loads only if every ratio field declares its unit


def test_the_synthetic_city_ratios_read_back_in_their_declared_unit():
    source = next(s for s in load_manifest(SYNTH_DATA / "manifest.yaml").sources if s.name == "shareholders")
    unit = next(r for r in source.relations if r.type == "SHAREHOLDER_OF").props["ratio"].unit
    garbler = Garbler(Noise(), load_vocab(), seed=1)
    for ratio in (0.01, 0.005, 0.35, 1.0):
        written = {garbler.ratio(ratio) for _ in range(30)}
        assert len(written) == 3 and {parse_ratio(w, unit) for w in written} == {ratio}, written


def test_a_quoted_field_may_span_lines(tmp_path):
    multi = '9,"营口鑫达贸易\n有限公司",法人或其他组织,,"张\r\n伟",(2020)辽0802执9号,2020-03-09\n'
    result = read_manifest(write(tmp_path, [GOOD[0], multi, GOOD[1]]))
    report = result.reports[0]
    assert (report.rows_read, report.accepted, report.rejected) == (3, 3, 0)
    mentions = result.frames()["mentions"].to_dict("records")
    by_id = {m["mention_id"]: m for m in mentions}
    assert by_id["court:9:subject"]["name"] == "营口鑫达贸易 有限公司"
    assert by_id["court:9:legal_rep"]["name"] == "张 伟"
    assert by_id["court:9:subject"]["line"] == 3 and by_id["court:2:subject"]["line"] == 6


def test_an_unclosed_quote_rejects_its_line_and_the_rest_is_read(tmp_path):
    stray = '9,"营口鑫达贸易有限公司,法人或其他组织,,,(2020)辽0802执9号,2020-03-09\n'
    result = read_manifest(write(tmp_path, [GOOD[0], stray, *GOOD[1:]]))
    report = result.reports[0]
    assert (report.rows_read, report.accepted, report.rejected) == (4, 3, 1)
    reject = result.frames()["rejects"].iloc[0]
    assert reject["line"] == 3 and "unclosed quote" in reject["reason"] and reject["raw"].startswith('9,"营口')
    lines = sorted(result.frames()["mentions"]["line"].unique())
    assert lines == [2, 4, 5]


def test_an_undecodable_line_inside_a_quoted_record_rejects_the_record(tmp_path):
    manifest = write(tmp_path, [])
    bad = ('9,"营口鑫达\n'.encode("utf-8") + b"\xff\xfe\n" + '贸易",法人或其他组织,,,x,2020-03-09\n'.encode("utf-8"))
    (tmp_path / "court.csv").write_bytes(HEADER.encode("utf-8") + bad + GOOD[0].encode("utf-8"))
    source = manifest.sources[0].model_copy(update={"encoding": "utf-8"})
    result = read_manifest(manifest.model_copy(update={"sources": [source]}))
    report = result.reports[0]
    assert report.rows_read == report.accepted + report.rejected
    reasons = result.frames()["rejects"].set_index("line")["reason"].to_dict()
    assert "line 3 inside this quoted record" in reasons[2]
    assert report.accepted == 1  # the good row after the broken record


def test_an_unclosed_quote_does_not_swallow_a_long_file(tmp_path):
    stray = '9,"营口鑫达贸易有限公司,法人或其他组织,,,(2020)辽0802执9号,2020-03-09\n'
    rows = [f"{100 + i},李娜{i},自然人,,,(2020)辽0802执{100 + i}号,2020-03-02\n" for i in range(30)]
    result = read_manifest(write(tmp_path, [stray, *rows]))
    report = result.reports[0]
    assert (report.rows_read, report.accepted, report.rejected) == (31, 30, 1)
    assert result.frames()["rejects"].iloc[0]["line"] == 2


# -- a source that is missing or empty is an error for that source, and the run says so --------

def test_a_missing_or_empty_export_is_an_error_for_its_source(tmp_path):
    manifest = write(tmp_path, GOOD)
    sources = [manifest.sources[0].model_copy(update={"name": n, "file": f})
               for n, f in (("court", "court.csv"), ("gone", "gone.csv"), ("blank", "blank.csv"),
                            ("header_only", "header_only.csv"))]
    (tmp_path / "blank.csv").write_bytes(b"")
    (tmp_path / "header_only.csv").write_text(HEADER, encoding="utf-8")
    reports = {r.source: r for r in read_manifest(manifest.model_copy(update={"sources": sources})).reports}
    assert reports["court"].accepted == 3 and not reports["court"].error
    assert "cannot read" in reports["gone"].error and "gone.csv" in reports["gone"].error
    assert "empty" in reports["blank"].error and "blank.csv" in reports["blank"].error
    assert "no data rows" in reports["header_only"].error


def test_resolve_goes_on_past_a_missing_source_and_exits_non_zero(tmp_path, monkeypatch):
    write(tmp_path, GOOD)
    text = textwrap.dedent(MANIFEST)
    entry = text[text.index("  - name: court"):]
    (tmp_path / "manifest.yaml").write_text(
        text + entry.replace("name: court", "name: court_2021").replace("file: court.csv", "file: court_2021.csv"),
        encoding="utf-8")
    monkeypatch.setenv("CREDITGRAPH_DATA", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["resolve", "--manifest", str(tmp_path / "manifest.yaml"),
                                          "--out", str(tmp_path / "out")])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1, result.output
    assert "court_2021" in result.output
    report = json.loads((tmp_path / "out" / "run_report.json").read_text(encoding="utf-8"))
    assert list(report["failed_sources"]) == ["court_2021"]
    assert "court_2021.csv" in report["failed_sources"]["court_2021"]
    assert report["rows"]["accepted"] == 3      # the other source was read and resolved
    assert len(pd.read_csv(tmp_path / "out" / "mentions.csv")) == 4
    # a failed source is one error in the report, not a reject row: read = accepted + rejected per source
    rejects = pd.read_csv(tmp_path / "out" / "rejects.csv")
    assert "court_2021" not in set(rejects["source"]) and 0 not in set(rejects["line"])
    assert all(s["rows_read"] == s["accepted"] + s["rejected"] for s in report["sources"])
    assert "they add up" not in result.output
    assert "1 source failed: court_2021" in " ".join(result.output.split())


# -- encodings: detected per file, decoded per line -------------------------------------------

def test_one_bad_byte_rejects_its_line_and_the_rest_reads_as_utf8(tmp_path):
    manifest = write(tmp_path, [])
    bad = GOOD[1].encode("utf-8").replace("李娜".encode("utf-8"), b"\xff\xfe")
    data = HEADER.encode("utf-8") + GOOD[0].encode("utf-8") + bad + GOOD[2].encode("utf-8")
    (tmp_path / "court.csv").write_bytes(data)
    result = read_manifest(manifest)
    report = result.reports[0]
    assert report.encoding == "utf-8" and not report.error
    assert (report.rows_read, report.accepted, report.rejected) == (3, 2, 1)
    names = result.frames()["mentions"]["name"].tolist()
    assert names == ["营口鑫达贸易有限公司", "张伟", "营口新华物流有限公司"]
    reject = result.frames()["rejects"].iloc[0]
    assert reject["line"] == 3 and "not valid utf-8" in reject["reason"]


def test_a_gb18030_file_with_one_bad_byte_rejects_only_that_line(tmp_path):
    manifest = write(tmp_path, [])
    bad = GOOD[1].encode("gb18030").replace("李娜".encode("gb18030"), b"\xff\xff")
    data = HEADER.encode("gb18030") + GOOD[0].encode("gb18030") + bad + GOOD[2].encode("gb18030")
    (tmp_path / "court.csv").write_bytes(data)
    result = read_manifest(manifest)
    report = result.reports[0]
    assert report.encoding == "gb18030"
    assert (report.rows_read, report.accepted, report.rejected) == (3, 2, 1)
    assert result.frames()["mentions"]["name"].tolist()[0] == "营口鑫达贸易有限公司"


def test_a_file_in_two_encodings_is_an_error_naming_both(tmp_path):
    manifest = write(tmp_path, [])
    data = (HEADER.encode("utf-8") + GOOD[0].encode("utf-8") + GOOD[1].encode("gb18030")
            + GOOD[2].encode("utf-8"))
    (tmp_path / "court.csv").write_bytes(data)
    report = read_manifest(manifest).reports[0]
    assert report.accepted == 0 and report.rows_read == report.accepted + report.rejected
    assert "UTF-8" in report.error and "GB18030" in report.error and "line 3" in report.error
    assert "court.csv" in report.error


# -- amounts: declared in 元, 万元 or 亿元, stored in yuan ----------------------------------------

GUARANTEES = """
dataset: test
sources:
  - name: loans
    department: banks
    file: loans.csv
    record_id: 记录号
    parties:
      subject: {kind: enterprise, fields: {name: 借款人}}
      guarantor: {kind: enterprise, fields: {name: 担保人}}
    relations:
      - {type: GUARANTEES, from: guarantor, to: subject, props: {amount: AMOUNT}}
"""


def read_amounts(tmp_path, spec: str, values: list[str]):
    (tmp_path / "manifest.yaml").write_text(textwrap.dedent(GUARANTEES.replace("AMOUNT", spec)), encoding="utf-8")
    rows = "".join(f"{i},营口鑫达贸易有限公司,营口新华物流有限公司,{v}\n" for i, v in enumerate(values, 1))
    (tmp_path / "loans.csv").write_text("记录号,借款人,担保人,担保金额(万元)\n" + rows, encoding="utf-8")
    return read_manifest(load_manifest(tmp_path / "manifest.yaml"))


@pytest.mark.parametrize("unit,values,yuan", [
    ("万元", ["500", '"1,200.5"', "3亿元", "800元"], [5_000_000, 12_005_000, 300_000_000, 800]),
    ("亿元", ["1.5", "0.02"], [150_000_000, 2_000_000]),
    ("元", ["1234.56", "５００万"], [1234.56, 5_000_000]),
])
def test_amounts_are_stored_in_yuan_from_their_declared_unit(tmp_path, unit, values, yuan):
    result = read_amounts(tmp_path, f"{{column: 担保金额(万元), type: amount, unit: {unit}}}", values)
    assert result.frames()["relations"]["amount"].tolist() == yuan


def test_a_negative_or_garbled_amount_rejects_its_row(tmp_path):
    result = read_amounts(tmp_path, "{column: 担保金额(万元), type: amount, unit: 万元}", ["500", "-3", "五百"])
    assert result.frames()["rejects"]["line"].tolist() == [3, 4]
    assert result.frames()["rejects"]["column"].tolist() == ["担保金额(万元)"] * 2


@pytest.mark.parametrize("spec,message", [
    ("{column: 担保金额(万元), type: amount}", r"field 'amount': an amount needs its unit.*suggests 万元"),
    ("{column: 担保金额(万元), type: number}", r"field 'amount': .*type: amount"),
    ("担保金额(万元)", r"field 'amount': .*type: amount"),
    ("{column: 担保金额(万元), type: amount, unit: 千元}", r"field 'amount'"),
    ("{column: 担保金额(万元), type: number, unit: 万元}", r"field 'amount'"),
])
def test_an_amount_without_a_unit_is_a_manifest_error_naming_source_and_field(tmp_path, spec, message):
    with pytest.raises(ManifestError, match=r"source 'loans': relations\.0\.props: .*" + message):
        read_amounts(tmp_path, spec, ["500"])


def test_the_synthetic_city_amounts_read_back_in_yuan():
    manifest = load_manifest(SYNTH_DATA / "manifest.yaml")
    specs = {key: spec for s in manifest.sources for rel in s.relations for key, spec in rel.props.items()}
    specs |= {key: spec for s in manifest.sources for p in s.parties.values() for key, spec in p.fields.items()}
    # the generator writes guarantees, registered capital and arrears in 万元 (creditgraph/synth/world.py)
    assert {k: (specs[k].type, specs[k].unit) for k in ("amount", "capital", "arrears_amount")} == {
        k: ("amount", "万元") for k in ("amount", "capital", "arrears_amount")}


def test_the_demo_shows_a_guarantee_stored_in_yuan_in_wan_yuan():
    step = {"from": "E-1", "to": "E-2", "type": "GUARANTEES", "amount": 5_000_000.0}
    assert path_text([step], {"E-1": "甲", "E-2": "乙"}) == "甲 -GUARANTEES 500万元-> 乙"


# -- lists: one catalogue (cypher/lists.yaml), a list name nobody knows is a manifest error ----

def test_an_unknown_list_is_a_manifest_error_naming_source_and_field(tmp_path):
    typo = MANIFEST.replace("list: dishonest_debtor", "list: dishonest_debtors")
    with pytest.raises(ManifestError, match=r"source 'court': lists\.0\.list: .*unknown list 'dishonest_debtors'"
                                            r".*cypher/lists\.yaml"):
        write(tmp_path, GOOD, manifest=typo)


def test_a_grade_list_needs_its_grade(tmp_path):
    ungraded = MANIFEST.replace("list: dishonest_debtor", "list: tax_grade")
    with pytest.raises(ManifestError, match=r"source 'court': lists\.0: .*'tax_grade' is a grade.*`grade`"):
        write(tmp_path, GOOD, manifest=ungraded)


def test_the_list_catalogue_and_the_joint_discipline_rules_agree():
    catalogue = list_catalogue()
    rules = yaml.safe_load((CYPHER / "joint_discipline_rules.yaml").read_text(encoding="utf-8"))
    reached: dict[str, set] = {}
    kinds = {"negative": "discipline", "positive": "incentive"}  # a grade reaches nobody
    for rule in rules:
        reached.setdefault(rule["list"], set()).add(rule["rule"])
        assert kinds.get(catalogue[rule["list"]].kind) == rule.get("kind", "discipline"), rule["rule"]
    assert set(reached) <= set(catalogue)              # every list a rule names is catalogued ...
    for name, entry in catalogue.items():              # ... with the rules that reach it, no more
        assert set(entry.rules) == reached.get(name, set()), name
        assert entry.authority, name
    default = re.search(r'"lists": (\[[^]]*\])', (CYPHER / "discipline.cypher").read_text(encoding="utf-8"))
    assert {catalogue[n].kind for n in json.loads(default[1])} == {"negative"}


def test_every_shipped_manifest_list_is_catalogued():
    used = {lst.list for s in load_manifest(SYNTH_DATA / "manifest.yaml").sources for lst in s.lists}
    assert used and used <= set(list_catalogue())


# -- the row's main party is declared; party keys are free role names --------------------------

BORROWERS = """
dataset: test
sources:
  - name: loans
    department: banks
    file: loans.csv
    record_id: 记录号
    MAIN
    parties:
      borrower: {kind: enterprise, fields: {name: 借款人}}
      guarantor: {kind: enterprise, optional: true, fields: {name: 担保人}}
    relations:
      - {type: GUARANTEES, from: guarantor, to: borrower}
"""


def read_borrowers(tmp_path, main: str):
    (tmp_path / "manifest.yaml").write_text(textwrap.dedent(BORROWERS.replace("MAIN", main)), encoding="utf-8")
    (tmp_path / "loans.csv").write_text("记录号,借款人,担保人\n1,营口鑫达贸易有限公司,营口新华物流有限公司\n2,,营口新华物流有限公司\n",
                                        encoding="utf-8")
    return read_manifest(load_manifest(tmp_path / "manifest.yaml"))


def test_a_source_declares_its_main_party(tmp_path):
    result = read_borrowers(tmp_path, "main: borrower")
    frames = result.frames()
    assert frames["mentions"]["mention_id"].tolist() == ["loans:1:borrower", "loans:1:guarantor"]
    assert frames["relations"]["to_mention"].tolist() == ["loans:1:borrower"]
    assert frames["rejects"]["line"].tolist() == [3] and "'borrower'" in frames["rejects"]["reason"][0]


@pytest.mark.parametrize("main,message", [
    ("# no main", r"source 'loans': .*main party 'subject' is not among the parties \['borrower', 'guarantor'\]"
                        r".*`main: <role>`"),
    ("main: lender", r"source 'loans': .*main party 'lender' is not among the parties"),
    ("main: guarantor", r"source 'loans': .*main party 'guarantor' cannot be optional"),
])
def test_a_main_party_that_is_not_there_or_may_be_absent_is_a_manifest_error(tmp_path, main, message):
    with pytest.raises(ManifestError, match=message):
        read_borrowers(tmp_path, main)
