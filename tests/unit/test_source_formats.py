"""XLSX sources (`format: xlsx`) read as a CSV's rows are, and the manifest's rules for each
format (the database sources' reading is in tests/integration/test_sql_sources.py)."""
from __future__ import annotations

import textwrap
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from creditgraph.loaders.cells import CellError, cell_text
from creditgraph.loaders.manifest import ManifestError, load_manifest
from creditgraph.loaders.reader import read_manifest
from creditgraph.loaders.sql import SqlSourceError, expand

SOURCE = """
dataset: test
sources:
  - name: court
    department: courts
    {where}
    record_id: 记录号
    parties:
      subject:
        kind_from: {{column: 类型, map: {{自然人: person, 法人或其他组织: enterprise}}}}
        fields: {{name: 名称, identifiers: [证件号码]}}
    lists:
      - {{party: subject, list: dishonest_debtor, case_no: 案号, date: {{column: 发布日期, type: date}}}}
"""
HEADER = ["记录号", "名称", "类型", "证件号码", "案号", "发布日期"]
ID_A = "110101199001011237"
USCC = "91210800MA0QXXXX17"
# The same rows as a department keeps them in a spreadsheet: record ids and dates typed, one
# identity number typed as a number (Excel keeps 15 digits: 1.10101199001011E+17).
ROWS = [
    [1, "李娜", "自然人", ID_A, "(2020)辽0802执1号", date(2020, 3, 1)],
    [2, "营口鑫达贸易有限公司", "法人或其他组织", USCC, "(2020)辽0802执2号", "2020年3月2日"],
    None,  # an empty row
    [3, "王芳", "自然人", 1.10101199001011e17, "(2020)辽0802执3号", datetime(2020, 3, 3, 9, 30)],
    [4, "张伟", "自然人", "", "(2020)辽0802执4号", "2020-02-30"],
    [5.0, "赵军", "自然人", "", "(2020)辽0802执5号", datetime(2020, 3, 5)],
]
CSV_ROWS = [
    f"1,李娜,自然人,{ID_A},(2020)辽0802执1号,2020-03-01",
    f"2,营口鑫达贸易有限公司,法人或其他组织,{USCC},(2020)辽0802执2号,2020年3月2日",
    "4,张伟,自然人,,(2020)辽0802执4号,2020-02-30",
    "5,赵军,自然人,,(2020)辽0802执5号,2020-03-05",
]


def workbook(path, rows=ROWS, title="失信名单", above=(), sheets=(), header=HEADER):
    book = Workbook()
    sheet = book.active
    sheet.title = title
    for other in sheets:
        book.create_sheet(other).append(["别的表"])
    for row in [*above, header, *rows]:
        sheet.append(row or [])
    book.save(path)


def manifest(tmp_path, where: str):
    (tmp_path / "manifest.yaml").write_text(textwrap.dedent(SOURCE.format(where=where)), encoding="utf-8")
    return load_manifest(tmp_path / "manifest.yaml")


def read(tmp_path, where="format: xlsx\n    file: court.xlsx", **sheet):
    workbook(tmp_path / "court.xlsx", **sheet)
    result = read_manifest(manifest(tmp_path, where))
    return result.reports[0], result.frames()


def test_a_sheet_reads_typed_cells_and_rejects_an_identifier_that_lost_digits(tmp_path):
    report, frames = read(tmp_path)
    assert (report.rows_read, report.accepted, report.rejected) == (5, 3, 2)
    assert report.rows_read == report.accepted + report.rejected and not report.error
    rejects = frames["rejects"].set_index("line")
    assert sorted(rejects.index) == [5, 6]  # sheet rows: header on 1, the empty row 4 skipped
    lost = rejects.loc[5]
    assert lost["file"] == f"{tmp_path / 'court.xlsx'}[失信名单]" and lost["column"] == "证件号码"
    assert "18-digit" in lost["reason"] and "15 significant digits" in lost["reason"]
    assert "1.10101199001011e+17" in lost["raw"]
    assert rejects.loc[6]["column"] == "发布日期" and "impossible date" in rejects.loc[6]["reason"]
    mentions = frames["mentions"].set_index("record_id")
    assert list(mentions.index) == ["1", "2", "5"]  # a number cell 5.0 is record 5
    assert mentions.loc["1", "identifiers"] == ID_A and mentions.loc["2", "kind"] == "enterprise"
    assert mentions["line"].tolist() == [2, 3, 7]
    assert frames["lists"].set_index("record_id")["date"].to_dict() == {
        "1": "2020-03-01", "2": "2020-03-02", "5": "2020-03-05"}


def test_a_sheet_gives_the_mentions_the_same_rows_give_as_csv(tmp_path):
    _, sheet = read(tmp_path)
    (tmp_path / "court.csv").write_text("\n".join([",".join(HEADER), *CSV_ROWS]) + "\n", encoding="utf-8")
    csv = read_manifest(manifest(tmp_path, "file: court.csv")).frames()
    same = [c for c in sheet["mentions"].columns if c not in ("file", "line")]
    assert sheet["mentions"][same].equals(csv["mentions"][same])
    assert sheet["lists"].equals(csv["lists"])
    assert csv["rejects"]["reason"].tolist() == sheet["rejects"]["reason"].tolist()[1:]


def test_the_sheet_is_chosen_by_name_with_its_header_row(tmp_path):
    title = [["营口市失信被执行人名单（2020年3月）"]]
    report, frames = read(tmp_path, "format: xlsx\n    file: court.xlsx\n    sheet: 名单\n    header_row: 2",
                          title="名单", above=title, sheets=["说明"])
    assert report.accepted == 3 and frames["mentions"]["file"].iloc[0].endswith("court.xlsx[名单]")
    assert frames["mentions"]["line"].tolist() == [3, 4, 8]
    report, _ = read(tmp_path, "format: xlsx\n    file: court.xlsx\n    sheet: 附表", sheets=["说明"])
    assert "no sheet '附表'" in report.error and "说明" in report.error and report.rows_read == 0


def test_a_sheet_without_a_column_the_manifest_reads_fails_its_source(tmp_path):
    report, frames = read(tmp_path, rows=[row[:5] for row in ROWS if row], header=HEADER[:5])
    assert "missing column(s) ['发布日期']" in report.error and "court.xlsx[失信名单]" in report.error
    assert report.rows_read == report.rejected == 5 and frames["mentions"].empty


def test_a_file_that_is_no_workbook_fails_its_source(tmp_path):
    (tmp_path / "court.xlsx").write_text("记录号,名称\n1,李娜\n", encoding="utf-8")
    report = read_manifest(manifest(tmp_path, "format: xlsx\n    file: court.xlsx")).reports[0]
    assert "cannot read" in report.error and "as XLSX" in report.error and report.rows_read == 0


@pytest.mark.parametrize("value, text", [
    (110101199001011237, "110101199001011237"),  # a whole number written exactly by a program
    (12.5, "12.5"), (3.0, "3"), (True, "true"), (None, ""),
    (datetime(2020, 3, 3, 9, 30), "2020-03-03 09:30:00"), (datetime(2020, 3, 3), "2020-03-03"),
])
def test_cell_text(value, text):
    assert cell_text(value, spreadsheet=True) == text


def test_a_timestamp_in_a_date_column_gives_its_day():
    assert cell_text(datetime(2020, 3, 3, 9, 30), as_date=True) == "2020-03-03"


@pytest.mark.parametrize("value", [110101199001011000, 1.10101199001011e17, 9.2e15])
def test_a_number_past_fifteen_digits_is_refused(value):
    with pytest.raises(CellError, match="digits"):
        cell_text(value, spreadsheet=True)


def test_a_database_integer_is_exact_even_with_trailing_zeros():
    assert cell_text(110101199001011000) == "110101199001011000"


@pytest.mark.parametrize("where, message", [
    ("format: sql\n    url: postgresql://reader:s3cret@db/city\n    table: court", "password in clear"),
    ("format: sql\n    url: postgresql://db/city?password=s3cret\n    table: court", "password in clear"),
    ("format: sql\n    url: postgresql://db/city", "exactly one of `table` or `query`"),
    ("format: sql\n    url: postgresql://db/city\n    table: court\n    query: SELECT 1", "exactly one"),
    ("format: sql\n    url: postgresql://db/city\n    query: DELETE FROM court", "begins with SELECT or WITH"),
    ("format: sql\n    url: postgresql://db/city\n    table: court; drop table x", "a name or schema.name"),
    ("format: sql\n    file: court.csv\n    url: postgresql://db/city\n    table: court", "['file'] do not go"),
    ("format: xlsx", "needs its `file`"),
    ("file: court.csv\n    sheet: 名单", "['sheet'] do not go with `format: csv`"),
    ("format: xlsx\n    file: court.xlsx\n    encoding: gb18030", "['encoding'] do not go with `format: xlsx`"),
])
def test_the_manifest_refuses_what_a_format_does_not_take(tmp_path, where, message):
    with pytest.raises(ManifestError, match="source 'court'") as err:
        manifest(tmp_path, where)
    assert message in str(err.value)


@pytest.mark.parametrize("url", ["postgresql://reader:${CITY_DB_PASSWORD}@db/city", "${CITY_DB_URL}",
                                 "sqlite:///city.db", "postgresql://reader@/city?host=/run/postgresql"])
def test_a_url_names_its_password_by_environment_variable(tmp_path, url):
    source = manifest(tmp_path, f"format: sql\n    url: '{url}'\n    table: public.court").sources[0]
    assert source.url == url and source.table == "public.court"


def test_the_url_takes_its_variables_from_the_environment(monkeypatch):
    monkeypatch.setenv("CG_DB_PASSWORD", "s3cret")
    assert expand("postgresql://reader:${CG_DB_PASSWORD}@db/city") == "postgresql://reader:s3cret@db/city"
    monkeypatch.delenv("CG_DB_PASSWORD")
    with pytest.raises(SqlSourceError, match="CG_DB_PASSWORD"):
        expand("postgresql://reader:${CG_DB_PASSWORD}@db/city")
