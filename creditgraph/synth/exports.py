"""The department exports: for each, its file, encoding, columns and a generator of rows.

A row generator yields `Row`s: the values (without the record id), the parties it names as
(role, entity id) - the roles are the party keys of data/manifest.yaml - the world relations it
shows (indices into World.rels) and the list records it carries.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable, Iterator

from creditgraph.loaders.removals import term_end
from creditgraph.synth.idgen import old_tax_no
from creditgraph.synth.noise import Garbler, fmt_date
from creditgraph.synth.world import World


@dataclass(slots=True)
class Row:
    values: list[str]
    parties: list[tuple[str, str]]
    rels: list[int] = field(default_factory=list)
    lists: list[tuple[str, str, str]] = field(default_factory=list)
    ends: tuple[str, str] | None = None   # a removal's row: the (source, record id) it ends


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


# --- a listing's life --------------------------------------------------------------------------
# Terms and removals are drawn from a stream of their own (a hash of the record), so they leave
# every other draw of an export, and so the city's noise, as it was. Nothing is removed after
# the day the departments exported.
EXPORTED = date(2026, 11, 30)
COURT_TERM = 0.4          # listings with a term (SPC 2017: 2 years), the others until performed
COURT_EXTENDED = 0.25     # of those, extended by a year (3 years)
COURT_REMOVED = 0.25      # listings removed early: performed, or the basis revoked
COURT_REVOKED = 0.2
TAX_REPAIRED = 0.35       # major tax violations repaired (taxes, late fees and fines paid)
REMOVAL_REASONS = {"performed": "履行完毕", "revoked": "撤销失信决定"}


def _draw(*key) -> float:
    """A uniform number in [0, 1) fixed by `key`."""
    digest = hashlib.sha256("|".join(map(str, key)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def _date_text(d: date, *key) -> str:
    """A date in one of the formats real exports mix, chosen by `key`."""
    return fmt_date(d, int(_draw(*key, "format") * 4) if _draw(*key, "other") < 0.3 else 0)


def _removed(published: date, *key) -> date | None:
    """The day a listing published on `published` is removed, if it is before the export."""
    day = published + timedelta(days=60 + int(_draw(*key, "when") * 900))
    return day if day <= EXPORTED else None


def _record_id(source: str, n: int) -> str:
    """The record id generate.write_export gives the n-th row of `source` (from 1)."""
    return f"{next(e.prefix for e in EXPORTS if e.source == source)}{n:08d}"


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
    repairs = w.removals.setdefault("credit_repair", [])
    for n, (ix, grade, year, major) in enumerate(w.tax, 1):
        key = ("tax", n, grade, year)
        f = w.firms[ix]
        taxno = old_tax_no(f.div_code, f.org) if g.hit(g.r.tax_old_number, "old_tax_number") else g.firm_id(f)
        rep, fin = w.persons[f.legal_rep], w.persons[f.finance] if f.finance >= 0 else None
        rep_name = "" if g.hit(g.r.id_missing, "name_missing") else g.person_name(rep)
        fin_name = "" if fin is None or g.hit(g.r.id_missing, "name_missing") else g.person_name(fin)
        # Tax registration files the finance officer with an identity number (the form asks for it);
        # the legal representative only by name, to be linked through the firm.
        fin_id = g.person_id(fin) if fin_name else ""
        # the grade of a year is published in April of the next
        published = date(year + 1, 4, 1) + timedelta(days=int(_draw(*key, "published") * 30))
        values = [taxno, g.firm_name(f), rep_name, fin_name, fin_id, grade, str(year), "是" if major else "否",
                  _date_text(published, *key)]
        # the first major violation is repaired in every city, so the credit-repair list has a row
        repaired = major and (not repairs or _draw(*key, "repaired") < TAX_REPAIRED) and _removed(published, *key)
        if repaired:
            repairs.append((("tax", _record_id("tax", n)),
                            [_record_id("tax", n), values[1], _date_text(repaired, *key, "repair")]))
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
    removals = w.removals.setdefault("court_removals", [])
    serial = 0
    for kind, ix, cases in w.court:
        for _ in range(cases):
            serial += 1
            court = g.rng.choice(courts)
            year = g.rng.randint(2016, 2024)
            case_no = f"（{year}）{court['code']}执{g.rng.randint(1, 9999)}号"
            published = date(year, 1, 1) + timedelta(days=g.rng.randrange(365))
            row = _court_row(w, g, kind, ix, court["name"], case_no, published)
            key = ("court", serial, case_no)
            row.values.append(_court_term(published, key))
            yield row
            removal = _court_removal(row, published, key, first=not removals)
            if removal:
                removals.append((("court_dishonest", _record_id("court_dishonest", serial)), removal))


def _court_term(published: date, key: tuple) -> str:
    """The listing's end date (截止日期), or empty: in the list until performed."""
    if _draw(*key, "term") >= COURT_TERM:
        return ""
    years = 3 if _draw(*key, "extended") < COURT_EXTENDED else 2
    return _date_text(date.fromisoformat(term_end(published.isoformat(), f"{years}y")), *key)


def _court_removal(row: Row, published: date, key: tuple, first: bool) -> list | None:
    """A row of the court's removal list (移出名单): the case and the subject's identifier as the
    listing shows them (a listing without one is never removed by this list). The first
    removable listing is removed in every city, so the list has a row."""
    name, identifier, case_no = row.values[0], row.values[2], row.values[5]
    removed = (first or _draw(*key, "removed") < COURT_REMOVED) and _removed(published, *key)
    if not removed or not identifier:
        return None
    reason = "revoked" if _draw(*key, "revoked") < COURT_REVOKED else "performed"
    return [case_no, name, identifier, _date_text(removed, *key, "removal"), REMOVAL_REASONS[reason]]


def removal_rows(source: str):
    """The rows of a removal export, drawn while its listings' export was written (which comes
    first in EXPORTS)."""
    def rows(w: World, g: Garbler) -> Iterator[Row]:
        for ends, values in w.removals.get(source, []):
            yield Row(values, [], ends=ends)
    return rows


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
            "是否重大税收违法", "发布日期"), tax_rows, name_col="纳税人名称"),
    Export("court_dishonest", "court_dishonest.csv", "utf-8", "FY",
           ("被执行人名称", "被执行人类型", "证件号码", "法定代表人或负责人姓名", "执行法院", "案号", "发布日期",
            "截止日期"), court_rows, name_col="被执行人名称", date_col="发布日期"),
    Export("court_removals", "court_removals.csv", "utf-8", "YC",
           ("案号", "被执行人名称", "证件号码", "移出日期", "移出原因"), removal_rows("court_removals"),
           clean=True),
    Export("credit_repair", "credit_repair.csv", "utf-8-sig", "XF",
           ("原记录号", "纳税人名称", "修复日期"), removal_rows("credit_repair"), clean=True),
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
