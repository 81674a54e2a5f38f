"""The true world of the synthetic city: persons, firms, who owns and runs what, who guarantees
whom and who is on which list. Exports (exports.py) are noisy views of it.

Every relation lives once in `World.rels`; exports point at it by index so the truth lists only
relations some export actually shows.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from creditgraph.synth import idgen
from creditgraph.synth.rates import Shape
from creditgraph.synth.vocab import Vocab

EPOCH = date(1950, 1, 1)
CAPITALS = (10, 30, 50, 100, 200, 300, 500, 800, 1000, 2000, 3000, 5000, 10000)
CAPITAL_P = (6, 8, 14, 18, 12, 10, 12, 4, 8, 3, 2, 2, 1)
AMOUNTS = (50, 100, 200, 300, 500, 800, 1000, 2000, 3000, 5000)


@dataclass(slots=True)
class Person:
    pid: str
    name: str
    id18: str
    born: date
    minority: bool


@dataclass(slots=True)
class Firm:
    eid: str
    div: str            # division as the registered name writes it ('营口市', '营口', '' ...)
    trade: str
    industry: str
    form: str           # canonical form key (org_forms.yaml), or '' for other registrars
    form_written: str   # the variant in the registered name, or the unit suffix (协会 ...)
    suffix: str         # branches: '鲅鱼圈分公司'
    bracket: bool       # registered as 鑫达贸易(营口)有限公司
    name: str
    uscc: str
    org: str
    regno: str
    div_code: str
    founded: date
    capital: int
    address: str
    phone: str
    legal_rep: int
    finance: int = -1
    parent: int = -1
    registry: bool = True   # in the market regulation export
    local: bool = True
    holders: list = field(default_factory=list)   # (kind 'P'|'E', index, ratio, rel)
    execs: list = field(default_factory=list)     # (person, role, rel)
    rel_lr: int = -1
    rel_fin: int = -1
    rel_branch: int = -1


@dataclass
class World:
    persons: list[Person] = field(default_factory=list)
    firms: list[Firm] = field(default_factory=list)
    rels: list[tuple] = field(default_factory=list)     # (from_id, to_id, type, ratio, role, amount)
    guarantees: list[tuple] = field(default_factory=list)  # (kind, guarantor, borrower, amount, bank, date, rel)
    employment: list[tuple] = field(default_factory=list)  # (person, firm, rel)
    court: list[tuple] = field(default_factory=list)       # (kind, index, cases)
    tax: list[tuple] = field(default_factory=list)         # (firm, grade, year, major)
    customs: list[tuple] = field(default_factory=list)     # (firm, level, date)
    arrears: list[tuple] = field(default_factory=list)     # (firm, amount, months)
    cycles: list[list[int]] = field(default_factory=list)  # planted guarantee cycles (firm indices)
    removals: dict = field(default_factory=dict)  # removal export -> its rows, drawn with their listings (exports.py)

    def rel(self, from_id: str, to_id: str, type_: str, ratio=None, role=None, amount=None) -> int:
        self.rels.append((from_id, to_id, type_, ratio, role, amount))
        return len(self.rels) - 1


def build(vocab: Vocab, shape: Shape, enterprises: int, persons: int, seed: int) -> World:
    rng, nrng = random.Random(seed), np.random.default_rng(seed)
    world = World()
    make_persons(world, vocab, persons, rng, nrng)
    active = _active_draws(shape, persons, nrng)
    make_firms(world, vocab, shape, enterprises, rng, nrng, active)
    make_ownership(world, shape, rng, active)
    make_guarantees(world, shape, rng, active, vocab.banks)
    make_employment(world, shape, nrng)
    make_lists(world, shape, rng)
    return world


# --- persons ---------------------------------------------------------------------------------

def _weights(n: int, exponent: float = 0.9) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** exponent
    return w / w.sum()


def make_persons(world: World, vocab: Vocab, n: int, rng: random.Random, nrng) -> None:
    areas = list(vocab.id_areas)
    area_p = np.array(list(vocab.id_areas.values()), float)
    area_ix = nrng.choice(len(areas), n, p=area_p / area_p.sum())
    days = nrng.integers(0, (date(2000, 12, 31) - EPOCH).days + 1, n)
    surnames = list(vocab.surnames)
    sur_ix = nrng.choice(len(surnames), n, p=_weights(len(surnames), vocab.person_names["surname_exponent"]))
    seen: set[str] = set()
    for i in range(n):
        born = EPOCH + timedelta(days=int(days[i]))
        name, minority = _person_name(vocab, rng, surnames[sur_ix[i]])
        id18 = _unique_ric(areas[area_ix[i]], born, rng, seen)
        world.persons.append(Person(f"P{i + 1:07d}", name, id18, born, minority))


def _person_name(vocab: Vocab, rng: random.Random, surname: str) -> tuple[str, bool]:
    u, share = rng.random(), vocab.person_names
    if u < share["minority"]:
        return rng.choice(vocab.minority_names), True
    if u < share["common"]:  # default city: one in ten carries one of the very common names
        return rng.choice(vocab.common_names), False
    if u < share["compound"]:
        surname = rng.choice(vocab.compound_surnames)
    given = vocab.given_chars
    k = 1 if rng.random() < share["single_given"] else 2
    return surname + "".join(rng.choice(given) for _ in range(k)), False


def _unique_ric(area: str, born: date, rng: random.Random, seen: set) -> str:
    while True:
        id18 = idgen.ric(area, born, rng.randrange(1000))
        if id18 not in seen:
            seen.add(id18)
            return id18


def _active_draws(shape: Shape, n_persons: int, nrng):
    """A sampler of business-active persons: a heavy tail runs many firms."""
    n_active = max(2, int(n_persons * shape.active_persons))
    pool = nrng.permutation(n_persons)[:n_active]
    w = nrng.pareto(1.6, n_active) + 1.0
    p = w / w.sum()
    return lambda size: pool[nrng.choice(n_active, size, p=p)]


# --- firms -----------------------------------------------------------------------------------

def make_firms(world, vocab, shape, n, rng, nrng, active) -> None:
    n_other = round(n * shape.other_registrar)
    n_out = round(n * shape.out_of_city)
    n_branch = round(n * shape.with_branches * 1.5)
    n_main = max(1, n - n_other - n_out - n_branch)
    maker = FirmMaker(world, vocab, shape, rng, nrng, n)
    reps = active(n)
    for i in range(n_main):
        maker.main(int(reps[i]))
    for i in range(n_main, n_main + n_other):
        maker.other_registrar(int(reps[i]))
    for i in range(n_main + n_other, n_main + n_other + n_out):
        maker.out_of_city(int(reps[i]))
    # Branches go to a few parents (1-2 each); a shop (店) has none.
    parents = [i for i in range(n_main) if world.firms[i].form != "店"]
    parents = rng.sample(parents, max(1, min(len(parents), round(n_branch / 1.5))))
    for i in range(n_main + n_other + n_out, n):
        maker.branch(int(reps[i]), rng.choice(parents))


class FirmMaker:
    """Draws one firm at a time; keeps the names unique and remembers phones per legal rep."""

    def __init__(self, world, vocab, shape, rng, nrng, n_firms):
        self.world, self.vocab, self.shape, self.rng = world, vocab, shape, rng
        self.names: set[str] = set()
        self.orgs: set[str] = set()
        self.phones: dict[int, str] = {}
        self.trades: list[tuple[str, str]] = []   # (trade, industry) of local firms
        forms = vocab.forms
        self.form_keys = list(forms)
        self.form_w = [forms[k]["weight"] for k in self.form_keys]
        self.divs = vocab.name_divisions
        self.div_w = [d["weight"] for d in self.divs]
        self.caps = nrng.choice(CAPITALS, n_firms, p=np.array(CAPITAL_P) / sum(CAPITAL_P))

    # names ---------------------------------------------------------------------------------
    def _trade(self, industry: str) -> str:
        r = self.rng
        u = r.random()
        if u < self.shape.popular_trade:
            return r.choice(self.vocab.popular_trades)
        if u < self.shape.popular_trade + self.shape.same_trade_other_industry and self.trades:
            trade, other = r.choice(self.trades)
            if other != industry:
                return trade
        return "".join(r.choices(self.vocab.trade_chars, k=2))

    def _industry(self, form: str) -> str:
        allowed = self.vocab.forms[form].get("industries")
        return self.rng.choice(allowed or self.vocab.industries)

    def _claim(self, name: str) -> bool:
        if name in self.names:
            return False
        self.names.add(name)
        return True

    # identifiers, dates, contacts -----------------------------------------------------------
    def _founded(self) -> date:
        # More firms founded recently: year skewed toward the 2010s-2020s.
        year = 1992 + int(32 * self.rng.random() ** 0.6)
        return date(year, 1, 1) + timedelta(days=self.rng.randrange(365))

    def _org(self, founded: date) -> str:
        while True:
            org = idgen.org_code(self.rng, founded)
            if org not in self.orgs:
                self.orgs.add(org)
                return org

    def _address(self, code: str) -> str:
        r = self.rng
        if r.random() < self.shape.shared_address:
            return r.choice(self.vocab.shared_addresses)
        districts, home = self.vocab.districts, self.vocab.city
        district = districts.get(code) or r.choice(list(districts.values()))
        city = "" if district.endswith("市") else home["name"]
        street = r.choice(self.vocab.streets[district])
        room = f"{r.randint(1, 30)}-{r.randint(1, 20)}{r.randint(1, 3):02d}室" if r.random() < 0.3 else ""
        return f"{home['province']}{city}{district}{street}{r.randint(1, 300)}号{room}"

    def _phone(self, rep: int) -> str:
        r = self.rng
        if rep in self.phones and r.random() < self.shape.shared_phone:
            return self.phones[rep]
        phone = (f"{self.vocab.city['phone_area']}-{r.randint(2, 8)}{r.randrange(10**6):06d}" if r.random() < 0.6
                 else f"1{r.choice('3589')}{r.randrange(10**9):09d}")
        self.phones.setdefault(rep, phone)
        return phone

    def _add(self, firm: Firm) -> Firm:
        world = self.world
        world.firms.append(firm)
        firm.rel_lr = world.rel(world.persons[firm.legal_rep].pid, firm.eid, "LEGAL_REP_OF")
        return firm

    def _eid(self) -> str:
        return f"E{len(self.world.firms) + 1:07d}"

    # kinds of firm --------------------------------------------------------------------------
    def main(self, rep: int) -> Firm:
        r = self.rng
        while True:
            form = r.choices(self.form_keys, self.form_w)[0]
            industry = self._industry(form)
            trade = self._trade(industry)
            dv = r.choices(self.divs, self.div_w)[0]
            written = dv["name"]
            if written.endswith("市") and r.random() < 0.4:
                written = self.vocab.division_by_name(written)["short"][0]
            variants = self.vocab.form_variants[form]
            form_written = variants[-1] if form == "合伙企业" and r.random() < 0.7 else r.choice(variants[:2])
            bracket = r.random() < 0.03
            name = compose(written, trade, industry, form_written, "", bracket, self.vocab)
            if self._claim(name):
                break
        self.trades.append((trade, industry))
        founded = self._founded()
        code = r.choice(dv["codes"])
        org = self._org(founded)
        firm = Firm(self._eid(), written, trade, industry, form, form_written, "", bracket, name,
                    idgen.uscc(self.vocab.uscc_type[form], code, org), org,
                    idgen.regno(r, code) if founded.year < 2015 else "", code, founded,
                    int(self.caps[len(self.world.firms)]), self._address(code), self._phone(rep), rep)
        return self._add(firm)

    def other_registrar(self, rep: int) -> Firm:
        r = self.rng
        kinds = self.vocab.other_registrars
        kind = r.choices(kinds, [k["weight"] for k in kinds])[0]
        while True:
            trade = "".join(r.choices(self.vocab.trade_chars, k=2))
            unit = r.choice(kind["suffix"])
            name = compose(self.vocab.city["name"], trade, "", unit, "", False, self.vocab)
            if self._claim(name):
                break
        founded = self._founded()
        code = r.choice(self.vocab.city["registrar_codes"])
        org = self._org(founded)
        firm = Firm(self._eid(), self.vocab.city["name"], trade, "", "", unit, "", False, name,
                    idgen.uscc(kind["prefix"], code, org), org, "", code, founded,
                    int(self.caps[len(self.world.firms)]), self._address(code), self._phone(rep), rep,
                    registry=False)
        return self._add(firm)

    def out_of_city(self, rep: int) -> Firm:
        """Another city's firm with a local firm's trade and industry: 大连鑫达贸易 vs 营口鑫达贸易."""
        r = self.rng
        while True:
            trade, industry = r.choice(self.trades)
            dv = r.choice(self.vocab.other_divisions)
            name = compose(dv["name"], trade, industry, "有限公司", "", False, self.vocab)
            if self._claim(name):
                break
        founded = self._founded()
        code = dv["codes"][0]
        org = self._org(founded)
        firm = Firm(self._eid(), dv["name"], trade, industry, "有限公司", "有限公司", "", False, name,
                    idgen.uscc("91", code, org), org, "", code, founded,
                    int(self.caps[len(self.world.firms)]), f"{dv['name']}{self.vocab.city['other_city_street']}{r.randint(1, 300)}号",
                    self._phone(rep), rep, registry=False, local=False)
        return self._add(firm)

    def branch(self, rep: int, parent_ix: int) -> Firm | None:
        r = self.rng
        parent = self.world.firms[parent_ix]
        for _ in range(len(self.vocab.branch_places)):
            place = r.choice(self.vocab.branch_places)
            suffix = place + "分公司"
            if self._claim(parent.name + suffix):
                break
        else:
            return None
        if r.random() < 0.3:
            rep = parent.legal_rep  # the parent's legal rep also heads the branch
        founded = max(parent.founded, self._founded())
        code = self.vocab.branch_codes[place]
        org = self._org(founded)
        firm = Firm(self._eid(), parent.div, parent.trade, parent.industry, parent.form,
                    parent.form_written, suffix, parent.bracket, parent.name + suffix,
                    idgen.uscc("91", code, org), org, idgen.regno(r, code) if founded.year < 2015 else "",
                    code, founded, 0, self._address(code), self._phone(rep), rep, parent=parent_ix)
        self._add(firm)
        firm.rel_branch = self.world.rel(firm.eid, parent.eid, "BRANCH_OF")
        return firm


def compose(div: str, trade: str, industry: str, form: str, suffix: str, bracket: bool, vocab: Vocab) -> str:
    """Division + trade + industry + form (+ branch suffix); bracketed: 鑫达贸易(营口)有限公司."""
    if bracket and div:
        short = vocab.division_by_name(div)["short"][0]
        return f"{trade}{industry}({short}){form}{suffix}"
    return f"{div}{trade}{industry}{form}{suffix}"


# --- ownership and management ----------------------------------------------------------------

def make_ownership(world: World, shape: Shape, rng: random.Random, active) -> None:
    firms = world.firms
    holders_ok = [i for i, f in enumerate(firms) if f.parent < 0]
    draws = active(len(firms) * 8)
    for i, firm in enumerate(firms):
        if firm.parent >= 0 or not firm.registry:
            continue
        people = _distinct(firm.legal_rep, draws[i * 8:(i + 1) * 8])
        _holders(world, firm, i, people, holders_ok, shape, rng)
        _execs(world, firm, people, shape, rng)
    for i, firm in enumerate(firms):   # other registrars and other cities: a finance officer only
        if firm.parent < 0 and firm.finance < 0:
            firm.finance = int(draws[i * 8 + 7])
            firm.rel_fin = world.rel(world.persons[firm.finance].pid, firm.eid, "EXECUTIVE_OF", role="财务负责人")


def _distinct(first: int, draws) -> list[int]:
    out = [first]
    for p in draws:
        if int(p) not in out:
            out.append(int(p))
    return out


def _holders(world, firm, i, people, holders_ok, shape, rng) -> None:
    k = rng.choices(range(1, len(shape.holders_k) + 1), shape.holders_k)[0]
    total = 1.0 if rng.random() > shape.partial_total else rng.uniform(0.6, 0.99)
    cuts = sorted(rng.random() for _ in range(k - 1))
    shares = [b - a for a, b in zip([0.0, *cuts], [*cuts, 1.0])]
    persons = iter(people if rng.random() < shape.legal_rep_holds else people[1:])
    used = set()
    for share in shares:
        ratio = int(share * total * 10000) / 10000   # floor: the sum stays within 1
        if ratio <= 0:
            continue
        holder = _holder_firm(world, i, holders_ok, rng) if rng.random() < shape.holder_enterprise else None
        if holder is not None and holder not in used:
            used.add(holder)
            h = world.firms[holder]
            rel = world.rel(h.eid, firm.eid, "SHAREHOLDER_OF", ratio=ratio)
            firm.holders.append(("E", holder, ratio, rel))
            continue
        p = next(persons, None)
        if p is None:
            break
        rel = world.rel(world.persons[p].pid, firm.eid, "SHAREHOLDER_OF", ratio=ratio)
        firm.holders.append(("P", p, ratio, rel))


def _holder_firm(world, i, holders_ok, rng) -> int | None:
    """An earlier firm (chains of ownership without cycles), or any non-branch unit."""
    if i > 0 and rng.random() < 0.8:
        j = rng.randrange(i)
        return j if world.firms[j].parent < 0 else None
    j = rng.choice(holders_ok)
    return j if j != i else None


def _execs(world, firm, people, shape, rng) -> None:
    rep, others = people[0], iter(people[1:])
    roles = []
    if firm.form in ("股份有限公司", "集团有限公司"):
        roles = [("董事长", rep), ("董事", next(others, None)), ("董事", next(others, None)),
                 ("监事", next(others, None)), ("经理", rep if rng.random() < 0.4 else next(others, None))]
    else:
        roles = [("监事", next(others, None))]
        if rng.random() < shape.manager_listed:
            roles.append(("经理", rep if rng.random() < 0.5 else next(others, None)))
    for role, p in roles:
        if p is not None:
            firm.execs.append((p, role, world.rel(world.persons[p].pid, firm.eid, "EXECUTIVE_OF", role=role)))
    fin = next(others, None)
    if fin is not None:
        firm.finance = fin
        firm.rel_fin = world.rel(world.persons[fin].pid, firm.eid, "EXECUTIVE_OF", role="财务负责人")
        if rng.random() < shape.finance_listed:   # registries seldom list the finance officer
            firm.execs.append((fin, "财务负责人", firm.rel_fin))


# --- guarantees, employment, lists -----------------------------------------------------------

def make_guarantees(world: World, shape: Shape, rng: random.Random, active, banks: list[str]) -> None:
    firms = world.firms
    main = [i for i, f in enumerate(firms) if f.parent < 0]
    pairs: set[tuple] = set()

    def add(kind: str, g: int, b: int) -> None:
        if (kind, g, b) in pairs or (kind == "E" and g == b):
            return
        pairs.add((kind, g, b))
        gid = world.persons[g].pid if kind == "P" else firms[g].eid
        amount = rng.choice(AMOUNTS)
        rel = world.rel(gid, firms[b].eid, "GUARANTEES", amount=amount)
        signed = date(2015, 1, 1) + timedelta(days=rng.randrange(3650))
        world.guarantees.append((kind, g, b, amount, rng.choice(banks), signed, rel))

    n_cycles = max(2, round(len(main) * shape.cycles_per_1000 / 1000))
    for _ in range(n_cycles):
        cycle = rng.sample(main, rng.randint(2, min(5, len(main))))
        world.cycles.append(cycle)
        for a, b in zip(cycle, cycle[1:] + cycle[:1]):
            add("E", a, b)
    borrowers = [i for i in main if firms[i].local and rng.random() < shape.guaranteed]
    persons = active(len(borrowers))
    for b, p in zip(borrowers, persons):
        if rng.random() < shape.guarantor_person:
            add("P", firms[b].legal_rep if rng.random() < 0.6 else int(p), b)
        else:
            add("E", rng.choice(main), b)


def make_employment(world: World, shape: Shape, nrng) -> None:
    firms = world.firms
    local = np.array([i for i, f in enumerate(firms) if f.local])
    w = np.array([max(firms[i].capital, 10) for i in local], float) ** 0.5
    who = np.flatnonzero(nrng.random(len(world.persons)) < shape.employed)
    where = local[nrng.choice(len(local), len(who), p=w / w.sum())]
    for p, f in zip(who.tolist(), where.tolist()):
        world.employment.append((p, f, world.rel(world.persons[p].pid, firms[f].eid, "EMPLOYED_BY")))


def make_lists(world: World, shape: Shape, rng: random.Random) -> None:
    firms = world.firms
    main = [i for i, f in enumerate(firms) if f.parent < 0]
    local_main = [i for i in main if firms[i].local]

    def cases() -> int:
        n = 1
        while rng.random() < shape.court_repeat:
            n += 1
        return n

    listed = [i for i in main if rng.random() < shape.court_enterprise]
    world.court += [("E", i, cases()) for i in listed]
    n_people = round(len(world.persons) * shape.court_person)
    reps = list(dict.fromkeys(firms[i].legal_rep for i in listed))
    chosen = reps[: int(n_people * shape.court_person_legal_rep)]
    chosen += rng.sample(range(len(world.persons)), min(len(world.persons), n_people - len(chosen)))
    world.court += [("P", p, cases()) for p in dict.fromkeys(chosen)]
    grades, grade_w = zip(*shape.tax_grades)
    for i in local_main:
        if rng.random() < shape.taxed:
            major = rng.random() < shape.major_tax_violation
            grade = "D" if major else rng.choices(grades, grade_w)[0]
            world.tax.append((i, grade, rng.randint(2021, 2025), major))  # the latest grade is in force
    levels, level_w = zip(*shape.customs_levels)
    for i in local_main:
        if firms[i].registry and rng.random() < shape.customs:
            world.customs.append((i, rng.choices(levels, level_w)[0],
                                  date(2014, 1, 1) + timedelta(days=rng.randrange(3650))))
    for i in local_main:
        if rng.random() < shape.arrears:
            months = rng.randint(1, 36)
            world.arrears.append((i, round(months * rng.uniform(0.2, 8.0), 2), months))
