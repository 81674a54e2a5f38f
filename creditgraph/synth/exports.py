"""The department exports: for each, its file, encoding, columns and a generator of rows.

A row generator yields `Row`s: the values (without the record id), the parties it names as
(role, entity id) - the roles are the party keys of data/manifest.yaml - the world relations it
shows (indices into World.rels) and the list records it carries.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable, Iterator

from creditgraph.synth.idgen import old_tax_no
from creditgraph.synth.noise import Garbler
from creditgraph.synth.world import World


@dataclass(slots=True)
class Row:
    values: list[str]
    parties: list[tuple[str, str]]
    rels: list[int] = field(default_factory=list)
    lists: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Export:
    source: str           # manifest source name
    file: str             # under exports/
    encoding: str         # how it is written
    prefix: str           # record ids: prefix + 8 digits
    columns: tuple        # after 记录号
    rows: Callable[[World, Garbler], Iterator[Row]]
    clean: bool = False   # the registry: noise x registry_factor, no broken rows
    name_col: str = ""    # a required name a broken row may blank
    date_col: str = ""    # a date a broken row may make impossible


RECORD_ID = "记录号"


# --- market regulation -----------------------------------------------------------------------

def registry_rows(w: World, g: Garbler) -> Iterator[Row]:
    for f in w.firms:
        if not f.registry:
            continue
        rep = w.persons[f.legal_rep]
        values = [g.firm_id(f, org_rate=0.0, regno=False), f.regno, g.firm_name(f), g.person_name(rep),
                  g.person_id(rep, keyed=True), str(f.capital) if f.capital else "", g.date(f.founded), f.address, f.phone]
        yield Row(values, [("subject", f.eid), ("legal_rep", rep.pid)], [f.rel_lr])


def shareholder_rows(w: World, g: Garbler) -> Iterator[Row]:
    for f in w.firms:
        for kind, ix, ratio, rel in f.holders:
            if kind == "P":
                p = w.persons[ix]
                holder = ["自然人股东", g.person_name(p), g.person_id(p, keyed=True)]
                hid = p.pid
            else:
                h = w.firms[ix]
                holder = ["企业法人", g.firm_name(h), g.firm_id(h)]
                hid = h.eid
            values = [g.firm_name(f), g.firm_id(f), *holder, g.ratio(ratio)]
            yield Row(values, [("subject", f.eid), ("shareholder", hid)], [rel])


def personnel_rows(w: World, g: Garbler) -> Iterator[Row]:
    for f in w.firms:
        for ix, role, rel in f.execs:
            p = w.persons[ix]
            values = [g.firm_name(f), g.firm_id(f), g.person_name(p), g.person_id(p, keyed=True), role]
            yield Row(values, [("subject", f.eid), ("executive", p.pid)], [rel])


def branch_rows(w: World, g: Garbler) -> Iterator[Row]:
    for f in w.firms:
        if f.parent >= 0:
            parent = w.firms[f.parent]
            values = [g.firm_name(f), g.firm_id(f), g.firm_name(parent), g.firm_id(parent)]
            yield Row(values, [("subject", f.eid), ("parent", parent.eid)], [f.rel_branch])


# --- tax ---------------------------------------------------------------------------------------

def tax_rows(w: World, g: Garbler) -> Iterator[Row]:
    for ix, grade, year, major in w.tax:
        f = w.firms[ix]
        taxno = old_tax_no(f.div_code, f.org) if g.hit(g.r.tax_old_number, "old_tax_number") else g.firm_id(f)
        rep, fin = w.persons[f.legal_rep], w.persons[f.finance] if f.finance >= 0 else None
        rep_name = "" if g.hit(g.r.id_missing, "name_missing") else g.person_name(rep)
        fin_name = "" if fin is None or g.hit(g.r.id_missing, "name_missing") else g.person_name(fin)
        # Tax registration files the finance officer with an identity number (the form asks for it);
        # the legal representative only by name, to be linked through the firm.
        fin_id = g.person_id(fin) if fin_name else ""
        values = [taxno, g.firm_name(f), rep_name, fin_name, fin_id, grade, str(year), "是" if major else "否"]
        parties, rels = [("subject", f.eid)], []
        if rep_name:
            parties.append(("legal_rep", rep.pid))
            rels.append(f.rel_lr)
        if fin_name:
            parties.append(("finance_officer", fin.pid))
            rels.append(f.rel_fin)
        lists = [(f.eid, "tax_grade", grade)]
        lists += [(f.eid, "tax_grade_a", "")] if grade == "A" else []
        lists += [(f.eid, "major_tax_violation", "")] if major else []
        yield Row(values, parties, rels, lists)


# --- courts ------------------------------------------------------------------------------------

def court_rows(w: World, g: Garbler) -> Iterator[Row]:
    courts = g.vocab.courts
    serial = 0
    for kind, ix, cases in w.court:
        for _ in range(cases):
            serial += 1
            court = g.rng.choice(courts)
            year = g.rng.randint(2016, 2024)
            case_no = f"（{year}）{court['code']}执{g.rng.randint(1, 9999)}号"
            published = date(year, 1, 1) + timedelta(days=g.rng.randrange(365))
            yield _court_row(w, g, kind, ix, court["name"], case_no, published)


def _court_row(w, g, kind, ix, court, case_no, published) -> Row:
    if kind == "P":
        p = w.persons[ix]
        values = [g.person_name(p), "自然人", g.masked_id(p), "", court, case_no, g.date(published)]
        return Row(values, [("subject", p.pid)], [], [(p.pid, "dishonest_debtor", "")])
    f = w.firms[ix]
    rep = w.persons[f.legal_rep]
    rep_name = "" if g.hit(g.r.id_missing, "name_missing") else g.person_name(rep)
    values = [g.firm_name(f), "法人或其他组织", g.firm_id(f, g.r.court_org_code, dashed=0.7), rep_name,
              court, case_no, g.date(published)]
    parties = [("subject", f.eid)] + ([("legal_rep", rep.pid)] if rep_name else [])
    return Row(values, parties, [f.rel_lr] if rep_name else [], [(f.eid, "dishonest_debtor", "")])


# --- human resources and social security -------------------------------------------------------

def social_unit_rows(w: World, g: Garbler) -> Iterator[Row]:
    for ix, amount, months in w.arrears:
        f = w.firms[ix]
        values = [g.firm_name(f), g.firm_id(f, g.r.social_org_code), f"{amount:.2f}", str(months)]
        yield Row(values, [("subject", f.eid)], [], [(f.eid, "social_security_arrears", "")])


def social_insured_rows(w: World, g: Garbler) -> Iterator[Row]:
    for ix, fx, rel in w.employment:
        p, f = w.persons[ix], w.firms[fx]
        values = [g.person_name(p), g.person_id(p, ric15_rate=g.r.ric15 * 4, keyed=True), g.firm_name(f),
                  g.firm_id(f, g.r.social_org_code)]
        yield Row(values, [("subject", p.pid), ("employer", f.eid)], [rel])


# --- customs, banks ----------------------------------------------------------------------------

def customs_rows(w: World, g: Garbler) -> Iterator[Row]:
    for ix, level, day in w.customs:
        f = w.firms[ix]
        lists = [(f.eid, "customs_level", level)]
        lists += [(f.eid, "customs_dishonest", "")] if level == "失信企业" else []
        lists += [(f.eid, "customs_advanced", "")] if level == "高级认证企业" else []
        yield Row([g.firm_name(f), g.firm_id(f), level, g.date(day)], [("subject", f.eid)], [], lists)


def guarantee_rows(w: World, g: Garbler) -> Iterator[Row]:
    for kind, gx, bx, amount, bank, signed, rel in w.guarantees:
        b = w.firms[bx]
        if kind == "P":
            p = w.persons[gx]
            guarantor, gid = [g.person_name(p), "自然人", g.person_id(p, keyed=True)], p.pid
        else:
            h = w.firms[gx]
            guarantor, gid = [g.firm_name(h), "企业", g.firm_id(h)], h.eid
        values = [g.firm_name(b), g.firm_id(b), *guarantor, str(amount), bank, g.date(signed)]
        yield Row(values, [("subject", b.eid), ("guarantor", gid)], [rel])


EXPORTS = (
    Export("registry", "registry.csv", "utf-8-sig", "SC",
           ("统一社会信用代码", "注册号", "企业名称", "法定代表人", "法定代表人证件号码", "注册资本(万元)",
            "成立日期", "住所", "联系电话"), registry_rows, clean=True),
    Export("shareholders", "shareholders.csv", "utf-8", "GD",
           ("企业名称", "统一社会信用代码", "股东类型", "股东名称", "股东证件号码", "持股比例"),
           shareholder_rows, name_col="企业名称"),
    Export("personnel", "personnel.csv", "utf-8", "RY",
           ("企业名称", "统一社会信用代码", "姓名", "证件号码", "职务"), personnel_rows, name_col="企业名称"),
    Export("branches", "branches.csv", "utf-8-sig", "FZ",
           ("分支机构名称", "分支机构统一社会信用代码", "隶属企业名称", "隶属企业统一社会信用代码"),
           branch_rows, name_col="分支机构名称"),
    Export("tax", "tax.csv", "gb18030", "SW",
           ("纳税人识别号", "纳税人名称", "法定代表人姓名", "财务负责人姓名", "财务负责人证件号码", "信用等级", "评价年度",
            "是否重大税收违法"), tax_rows, name_col="纳税人名称"),
    Export("court_dishonest", "court_dishonest.csv", "utf-8", "FY",
           ("被执行人名称", "被执行人类型", "证件号码", "法定代表人或负责人姓名", "执行法院", "案号", "发布日期"),
           court_rows, name_col="被执行人名称", date_col="发布日期"),
    Export("social_units", "social_units.csv", "gb18030", "SB",
           ("单位名称", "单位代码", "欠费金额", "欠费月数"), social_unit_rows, name_col="单位名称"),
    Export("social_insured", "social_insured.csv", "gb18030", "CB",
           ("姓名", "身份证号", "参保单位名称", "参保单位代码"), social_insured_rows, name_col="姓名"),
    Export("customs", "customs.csv", "utf-8-sig", "HG",
           ("企业名称", "统一社会信用代码", "海关信用等级", "认定日期"), customs_rows,
           name_col="企业名称", date_col="认定日期"),
    Export("guarantees", "guarantees.csv", "utf-8", "DB",
           ("借款人名称", "借款人代码", "担保人名称", "担保人类型", "担保人证件号码", "担保金额(万元)", "贷款机构",
            "签订日期"), guarantee_rows, name_col="借款人名称", date_col="签订日期"),
)
