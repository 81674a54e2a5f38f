"""Database sources (`format: sql`) against the real PostgreSQL that scripts/test starts
(scripts/postgres-local; CREDITGRAPH_TEST_PG_URL). Each test makes a database of its own and
drops it after. The last test resolves one city kept in CSV, XLSX and PostgreSQL at once and
checks it gives what the same data gives as CSV alone."""
from __future__ import annotations

import csv
import json
import os
import textwrap
import uuid
from datetime import date, datetime

import pandas as pd
import pytest
import sqlalchemy as sa
from openpyxl import Workbook
from stdnum.cn import ric, uscc
from typer.testing import CliRunner

from creditgraph.base.settings import get_settings
from creditgraph.cli import app
from creditgraph.loaders import sql as sql_source
from creditgraph.loaders.manifest import load_manifest
from creditgraph.loaders.reader import read_manifest

PG_URL = os.environ.get("CREDITGRAPH_TEST_PG_URL", "")
PASSWORD_VAR = "CG_TEST_PG_PASSWORD"


@pytest.fixture(scope="module")
def pg_server() -> sa.URL:
    if not PG_URL:
        pytest.skip("no CREDITGRAPH_TEST_PG_URL: scripts/test starts PostgreSQL (scripts/postgres-local)")
    url = sa.make_url(PG_URL)
    if url.host not in ("127.0.0.1", "localhost", "::1"):
        pytest.skip(f"refusing to create and drop databases on a non-local server {url.host}")
    return url


@pytest.fixture()
def pg(pg_server, monkeypatch):
    """A fresh database; the manifests name its password by environment variable."""
    name = f"cg_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = pg_server.set(database=name)
    monkeypatch.setenv(PASSWORD_VAR, url.password)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.dispose()


def manifest_url(engine, **query) -> str:
    """The database's URL as a manifest holds it: plain `postgresql://`, password by variable."""
    url = engine.url.set(drivername="postgresql", password="PASSWORD", query=query)
    return url.render_as_string(hide_password=False).replace("PASSWORD", "${%s}" % PASSWORD_VAR)


COURT = """
dataset: test
sources:
  - name: court
    department: courts
    format: sql
    url: '{url}'
    {what}
    record_id: 记录号
    parties:
      subject:
        kind_from: {{column: 类型, map: {{自然人: person, 法人或其他组织: enterprise}}}}
        fields: {{name: 名称, identifiers: [证件号码]}}
    lists:
      - {{party: subject, list: dishonest_debtor, case_no: 案号, date: {{column: 发布日期, type: date}}}}
"""
COURT_TABLE = ('CREATE TABLE court ("记录号" bigint PRIMARY KEY, "名称" text, "类型" text, "证件号码" {id_type},'
               ' "案号" text, "发布日期" timestamp)')
ID_A = "11010119900101123" + ric.calc_check_digit("11010119900101123")
USCC_A = "91210800MA0QXXXX1" + uscc.calc_check_digit("91210800MA0QXXXX1")
COURT_ROWS = [  # inserted out of record-id order: a table is read in its record ids' order
    (3, "营口鑫达贸易有限公司", "法人或其他组织", USCC_A, "(2020)辽0802执3号", datetime(2020, 3, 3, 9, 30)),
    (1, "李娜", "自然人", ID_A, "(2020)辽0802执1号", datetime(2020, 3, 1)),
    (2, None, "自然人", None, "(2020)辽0802执2号", datetime(2020, 3, 2)),  # no name: rejected
    (4, "王芳", "外国人", None, "(2020)辽0802执4号", None),  # a kind not in the map: rejected
    (5, "赵军", "自然人", None, "(2020)辽0802执5号", datetime(2020, 3, 5)),
]


def court_table(engine, rows=COURT_ROWS, id_type="text"):
    with engine.begin() as conn:
        conn.exec_driver_sql(COURT_TABLE.format(id_type=id_type))
        conn.execute(sa.text('INSERT INTO court VALUES (:a, :b, :c, :d, :e, :f)'),
                     [dict(zip("abcdef", row)) for row in rows])


def read_court(tmp_path, engine, what="table: court", **query):
    text = textwrap.dedent(COURT.format(url=manifest_url(engine, **query), what=what))
    (tmp_path / "manifest.yaml").write_text(text, encoding="utf-8")
    result = read_manifest(load_manifest(tmp_path / "manifest.yaml"))
    return result.reports[0], result.frames()


def test_a_table_loads_with_counts_that_add_up(tmp_path, pg):
    court_table(pg)
    report, frames = read_court(tmp_path, pg)
    assert not report.error and report.exported
    assert (report.rows_read, report.accepted, report.rejected) == (5, 3, 2)
    mentions = frames["mentions"]
    assert mentions["record_id"].tolist() == ["1", "3", "5"] and mentions["line"].tolist() == [1, 3, 5]
    assert mentions.set_index("record_id").loc["3", "identifiers"] == USCC_A
    label = mentions["file"].iloc[0]
    assert label.endswith("table court") and ":***@127.0.0.1" in label and pg.url.password not in label
    # a timestamp in a date column is its day
    assert frames["lists"]["date"].tolist() == ["2020-03-01", "2020-03-03", "2020-03-05"]
    rejects = frames["rejects"].set_index("line")
    assert rejects.loc[2, "reason"] == "empty name for party 'subject'" and rejects.loc[2, "raw"].startswith("2,")
    assert rejects.loc[4, "column"] == "类型" and rejects.loc[4, "file"] == label


def test_a_query_runs_as_given(tmp_path, pg):
    court_table(pg)
    query = ("query: SELECT * FROM court WHERE \"名称\" LIKE '%公司' OR \"证件号码\" = '" + ID_A
             + "' ORDER BY \"记录号\" DESC")
    report, frames = read_court(tmp_path, pg, query)
    assert (report.rows_read, report.accepted, report.rejected) == (2, 2, 0) and not report.error
    assert frames["mentions"]["record_id"].tolist() == ["3", "1"] and frames["mentions"]["line"].tolist() == [1, 2]
    assert frames["mentions"]["file"].iloc[0].endswith("query of court")


def test_a_query_that_writes_is_refused_and_changes_nothing(tmp_path, pg):
    court_table(pg)
    with pg.begin() as conn:  # a SELECT can still write, through a function
        conn.exec_driver_sql("CREATE FUNCTION purge() RETURNS int LANGUAGE sql AS 'DELETE FROM court; SELECT 1'")
    report, _ = read_court(tmp_path, pg, "query: SELECT purge() AS n, * FROM court")
    assert "read-only transaction" in report.error and report.rows_read == 0
    with pg.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM court").scalar() == len(COURT_ROWS)


def test_a_wrong_or_missing_password_fails_the_source_without_showing_it(tmp_path, pg, monkeypatch):
    court_table(pg)
    monkeypatch.setenv(PASSWORD_VAR, "not-the-password")
    report, _ = read_court(tmp_path, pg)
    assert "password authentication failed" in report.error and "not-the-password" not in report.error
    monkeypatch.delenv(PASSWORD_VAR)
    report, _ = read_court(tmp_path, pg)
    assert PASSWORD_VAR in report.error and "not set" in report.error
    monkeypatch.setenv(PASSWORD_VAR, pg.url.password)
    report, _ = read_court(tmp_path, pg, "table: public.courts")
    assert "no table public.courts" in report.error


def test_an_identifier_in_a_floating_point_column_lost_digits_and_is_rejected(tmp_path, pg):
    rows = [(1, "李娜", "自然人", float(ID_A), "(2020)辽0802执1号", None),
            (2, "王芳", "自然人", 110101199001011000.0, "(2020)辽0802执2号", None)]
    court_table(pg, rows, id_type="double precision")
    report, frames = read_court(tmp_path, pg)
    assert (report.rows_read, report.accepted, report.rejected) == (2, 0, 2)
    assert set(frames["rejects"]["column"]) == {"证件号码"}
    assert all("18-digit number stored as a floating-point" in r for r in frames["rejects"]["reason"])


def test_an_identifier_in_a_numeric_column_is_exact(tmp_path, pg):
    rows = [(1, "李娜", "自然人", int("110101199001011000"), "(2020)辽0802执1号", None)]
    court_table(pg, rows, id_type="numeric(18)")
    report, frames = read_court(tmp_path, pg)
    assert report.accepted == 1 and frames["mentions"]["identifiers"].tolist() == ["110101199001011000"]


def test_rows_stream_through_a_server_side_cursor(tmp_path, pg, monkeypatch):
    court_table(pg)
    monkeypatch.setattr(sql_source, "CHUNK", 2)
    text = textwrap.dedent(COURT.format(url=manifest_url(pg, application_name="cg_stream"), what="table: court"))
    (tmp_path / "manifest.yaml").write_text(text, encoding="utf-8")
    _, _, rows = sql_source.sql_rows(load_manifest(tmp_path / "manifest.yaml").sources[0])
    assert [next(rows)[0] for _ in range(3)] == [1, 2, 3]
    with pg.connect() as conn:
        seen = conn.exec_driver_sql("SELECT query FROM pg_stat_activity WHERE application_name = 'cg_stream'").scalar()
    assert seen.startswith("FETCH FORWARD 2 FROM")  # two rows at a time, not the table at once
    assert len(list(rows)) == 2


# -- one city in three formats -----------------------------------------------------------------

def _ric(body: str) -> str:
    return body + ric.calc_check_digit(body)


def _uscc(body: str) -> str:
    return body + uscc.calc_check_digit(body)


FIRMS = [(_uscc(f"91210800MA0Q{n:04d}X"), name) for n, name in enumerate(
    ["营口鑫达贸易有限公司", "营口华盛建材有限公司", "营口新华物流有限公司", "营口港湾食品有限公司"], 1)]
REPS = [(_ric(f"21080219{70 + n}0101{n:02d}1"), name) for n, name in enumerate(["张伟", "李娜", "王芳", "赵军"], 1)]
REGISTRY = {"header": ["记录号", "企业名称", "统一社会信用代码", "法定代表人", "法人证件号码", "成立日期"],
            "rows": [[f"R{i}", firm, code, rep, rep_id, f"2015-0{i}-1{i}"]
                     for i, ((code, firm), (rep_id, rep)) in enumerate(zip(FIRMS, REPS), 1)]
            + [["R9", "营口海天渔业有限公司", "", "孙强", "", "2019-02-30"]]}  # impossible date: rejected
COURT_CITY = {"header": ["记录号", "被执行人名称", "类型", "证件号码", "案号", "发布日期"],
              "rows": [[1, "营口鑫达贸易有限公司", "法人或其他组织", FIRMS[0][0], "(2021)辽0802执1号", date(2021, 5, 6)],
                       [2, "营口新华物流有限公司", "法人或其他组织", FIRMS[2][0], "(2021)辽0802执2号", date(2021, 6, 7)],
                       [3, "李娜", "自然人", REPS[1][0], "(2021)辽0802执3号", date(2021, 7, 8)],
                       [4, "", "自然人", REPS[3][0], "(2021)辽0802执4号", date(2021, 8, 9)]]}  # no name
TAX = {"header": ["记录号", "纳税人名称", "纳税人识别号", "信用等级", "评价日期"],
       "rows": [[1, "营口鑫达贸易有限公司", FIRMS[0][0], "C", date(2022, 4, 1)],
                [2, "营口华盛建材有限公司", FIRMS[1][0], "A", date(2022, 4, 1)],
                [3, "营口港湾食品有限公司", FIRMS[3][0], "B", date(2022, 4, 1)],
                [4, None, FIRMS[2][0], "D", date(2022, 4, 1)]]}  # no name

CITY = """
dataset: three-formats
sources:
  - name: registry
    department: market_regulation
    {registry}
    record_id: 记录号
    parties:
      subject: {{kind: enterprise, fields: {{name: 企业名称, identifiers: [统一社会信用代码],
                                          founded: {{column: 成立日期, type: date}}}}}}
      legal_rep: {{kind: person, optional: true, fields: {{name: 法定代表人, identifiers: [法人证件号码]}}}}
    relations:
      - {{type: LEGAL_REP_OF, from: legal_rep, to: subject}}
  - name: court
    department: courts
    {court}
    record_id: 记录号
    parties:
      subject:
        kind_from: {{column: 类型, map: {{自然人: person, 法人或其他组织: enterprise}}}}
        fields: {{name: 被执行人名称, identifiers: [证件号码]}}
    lists:
      - {{party: subject, list: dishonest_debtor, case_no: 案号, date: {{column: 发布日期, type: date}}}}
  - name: tax
    department: tax
    {tax}
    record_id: 记录号
    parties:
      subject: {{kind: enterprise, fields: {{name: 纳税人名称, identifiers: [纳税人识别号]}}}}
    lists:
      - {{party: subject, list: tax_grade, grade: 信用等级, date: {{column: 评价日期, type: date}}}}
"""


def _text(value) -> str:
    return "" if value is None else value.isoformat() if isinstance(value, date) else str(value)


def write_csv(path, table):
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([table["header"], *[[_text(v) for v in row] for row in table["rows"]]])


def write_xlsx(path, table):
    book = Workbook()
    for row in [table["header"], *table["rows"]]:
        book.active.append(row)
    book.save(path)


def write_table(engine, name, table):
    columns = [sa.Column(table["header"][0], sa.Integer, primary_key=True),
               *[sa.Column(h, sa.Date if h.endswith("日期") else sa.Text) for h in table["header"][1:]]]
    tab = sa.Table(name, sa.MetaData(), *columns)
    with engine.begin() as conn:
        tab.create(conn)
        conn.execute(tab.insert(), [dict(zip(table["header"], row)) for row in table["rows"]])


def resolve(tmp_path, name: str, **where) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    (tmp_path / f"{name}.yaml").write_text(textwrap.dedent(CITY.format(**where)), encoding="utf-8")
    out = tmp_path / f"out-{name}"
    result = CliRunner().invoke(app, ["resolve", "--manifest", str(tmp_path / f"{name}.yaml"), "--out", str(out)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    report = json.loads((out / "run_report.json").read_text(encoding="utf-8"))
    return (pd.read_csv(out / "mentions.csv", dtype=str), pd.read_csv(out / "entities.csv", dtype=str), report)


def clusters(mentions: pd.DataFrame) -> set[frozenset]:
    return {frozenset(group) for _, group in mentions.groupby("entity_id")["mention_id"]}


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CREDITGRAPH_DATA", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_city_in_csv_xlsx_and_postgresql_resolves_as_in_csv_alone(tmp_path, pg, data_dir):
    for name, table in (("registry", REGISTRY), ("court", COURT_CITY), ("tax", TAX)):
        write_csv(tmp_path / f"{name}.csv", table)
    write_xlsx(tmp_path / "court.xlsx", COURT_CITY)
    write_table(pg, "tax", TAX)
    as_csv = resolve(tmp_path, "csv", **{n: f"file: {n}.csv" for n in ("registry", "court", "tax")})
    mixed = resolve(tmp_path, "mixed", registry="file: registry.csv", court="format: xlsx\n    file: court.xlsx",
                    tax=f"format: sql\n    url: '{manifest_url(pg)}'\n    table: tax")

    counts = {s["source"]: (s["rows_read"], s["accepted"], s["rejected"]) for s in mixed[2]["sources"]}
    assert counts == {"registry": (5, 4, 1), "court": (4, 3, 1), "tax": (4, 3, 1)}
    assert all(read == accepted + rejected for read, accepted, rejected in counts.values())
    assert mixed[2]["rows"]["adds_up"] and not mixed[2]["failed_sources"]
    assert counts == {s["source"]: (s["rows_read"], s["accepted"], s["rejected"]) for s in as_csv[2]["sources"]}

    columns = ["mention_id", "source", "record_id", "role", "name", "score"]
    assert mixed[0][columns].sort_values("mention_id").reset_index(drop=True).equals(
        as_csv[0][columns].sort_values("mention_id").reset_index(drop=True))
    assert clusters(mixed[0]) == clusters(as_csv[0])
    # the dishonest firm's court record, its tax grade and its registration are one entity
    firm = mixed[0].set_index("mention_id").loc[["registry:R1:subject", "court:1:subject", "tax:1:subject"]]
    assert firm["entity_id"].nunique() == 1
    entities = ["kind", "name", "identifier"]
    assert sorted(map(tuple, mixed[1][entities].fillna("").values)) == sorted(
        map(tuple, as_csv[1][entities].fillna("").values))
