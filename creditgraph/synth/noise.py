"""How a department garbles what it exports: names, identifiers, dates, ratios.

One `Garbler` per export, with its own random stream and rates (rates.Noise), counting what it
did so tests and the run can show the noise actually occurred.
"""
from __future__ import annotations

import random
from collections import Counter
from datetime import date
from functools import lru_cache

import opencc

from creditgraph.synth import idgen
from creditgraph.linkage.identifiers import mask_ric
from creditgraph.synth.rates import Noise
from creditgraph.synth.vocab import Vocab
from creditgraph.synth.world import Firm, Person, compose

_S2T = opencc.OpenCC("s2t")
# Half-width ASCII -> full-width forms (U+FF01..U+FF5E).
_FULLWIDTH = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}


@lru_cache(maxsize=1 << 16)
def traditional(text: str) -> str:
    return _S2T.convert(text)


def fullwidth(text: str) -> str:
    return text.translate(_FULLWIDTH)


def fmt_date(d: date, style: int) -> str:
    if style == 1:
        return f"{d.year}/{d.month}/{d.day}"
    if style == 2:
        return f"{d:%Y%m%d}"
    if style == 3:
        return f"{d.year}年{d.month}月{d.day}日"
    return d.isoformat()


class Garbler:
    def __init__(self, rates: Noise, vocab: Vocab, seed: int):
        self.r = rates
        self.vocab = vocab
        self.rng = random.Random(seed)
        self.counts: Counter = Counter()
        self._short = {d["name"]: d["short"][0] for d in vocab.divisions.values()}
        self._long = {s: d["name"] for d in vocab.divisions.values() for s in d["short"]}

    def hit(self, rate: float, what: str) -> bool:
        if self.rng.random() < rate:
            self.counts[what] += 1
            return True
        return False

    # enterprise names ------------------------------------------------------------------------
    def firm_name(self, f: Firm) -> str:
        r, rng = self.r, self.rng
        div, bracket = self._division(f.div, f.bracket)
        form = f.form_written
        if f.form and self.hit(r.form_variant, "form_variant"):
            form = rng.choice([v for v in self.vocab.form_variants[f.form] if v != form] or [form])
        trade = self._homophone(f.trade, r.homophone, "homophone")
        name = compose(div, trade, f.industry, form, f.suffix, bracket, self.vocab)
        return self._surface(name, r.traditional, r.space, "")

    def _division(self, div: str, bracket: bool) -> tuple[str, bool]:
        r, u = self.r, self.rng.random()
        if not div:
            return div, bracket
        if u < r.division_drop:
            self.counts["division_drop"] += 1
            return "", False
        u -= r.division_drop
        if u < r.division_short:   # 营口市 <-> 营口: the other written form
            self.counts["division_short"] += 1
            return self._short.get(div) or self._long.get(div, div), bracket
        u -= r.division_short
        if u < r.division_bracket and not bracket:
            self.counts["division_bracket"] += 1
            return div, True
        return div, bracket

    def _homophone(self, text: str, rate: float, what: str) -> str:
        if not self.hit(rate, what):
            return text
        spots = [i for i, c in enumerate(text) if c in self.vocab.homophones]
        if not spots:
            return text
        i = self.rng.choice(spots)
        return text[:i] + self.rng.choice(self.vocab.homophones[text[i]]) + text[i + 1:]

    def _surface(self, name: str, trad: float, space: float, prefix: str) -> str:
        rng = self.rng
        if self.hit(space, prefix + "space") and len(name) > 2:
            i = rng.randrange(1, len(name) - 1)
            name = name[:i] + " " + name[i:]
        if self.hit(trad, prefix + "traditional"):
            name = traditional(name)
        if "(" in name and self.hit(self.r.fullwidth, prefix + "fullwidth"):
            name = fullwidth(name)
        return name

    # person names ----------------------------------------------------------------------------
    def person_name(self, p: Person) -> str:
        r = self.r
        name = p.name
        if p.minority and self.hit(r.dot_variant, "dot_variant"):
            name = name.replace("·", self.rng.choice(self.vocab.middle_dots[1:]))
        elif len(name) >= 2 and not p.minority:
            name = name[0] + self._homophone(name[1:], r.person_homophone, "person_homophone")
            if len(name) == 2 and self.hit(r.person_space, "person_space"):
                name = name[0] + " " + name[1]
        if self.hit(r.person_traditional, "person_traditional"):
            name = traditional(name)
        return name

    # identifiers -----------------------------------------------------------------------------
    def firm_id(self, f: Firm, org_rate: float | None = None, dashed: float = 0.0, regno: bool = True) -> str:
        """The USCC; or the organisation code (at `org_rate`, dashed at `dashed`) or the old
        registration number (if `regno`) as older systems still hold them."""
        r, rng = self.r, self.rng
        if self.hit(r.id_missing, "id_missing"):
            return ""
        value = f.uscc
        if self.hit(r.uscc_as_org_code if org_rate is None else org_rate, "org_code_for_uscc"):
            value = idgen.dashed_org_code(f.org) if rng.random() < dashed else f.org
        elif regno and f.regno and self.hit(r.uscc_as_regno, "regno_for_uscc"):
            value = f.regno
        return self._garble_id(value)

    def person_id(self, p: Person, ric15_rate: float | None = None, keyed: bool = False) -> str:
        r = self.r
        if self.hit(r.id_missing_keyed if keyed else r.id_missing, "id_missing"):
            return ""
        value = p.id18
        if p.born.year < 2000 and self.hit(r.ric15 if ric15_rate is None else ric15_rate, "ric15"):
            value = idgen.ric15(value)
        return self._garble_id(value)

    def masked_id(self, p: Person) -> str:
        if self.hit(self.r.court_mask_year, "mask_year"):
            return idgen.mask_with_year(p.id18)
        self.counts["mask"] += 1
        return mask_ric(p.id18)

    def _garble_id(self, value: str) -> str:
        r, rng = self.r, self.rng
        spots = [i for i, c in enumerate(value) if c.isdigit()]
        # A digit for another digit always breaks these checks (no weight is 0 mod 11 or 31).
        if spots and self.hit(r.id_typo, "id_typo"):
            i = rng.choice(spots)
            value = value[:i] + rng.choice([d for d in "0123456789" if d != value[i]]) + value[i + 1:]
        if any(c.isalpha() for c in value) and self.hit(r.id_lowercase, "id_lowercase"):
            value = value.lower()
        if self.hit(r.id_fullwidth, "id_fullwidth"):
            value = fullwidth(value)
        return value

    # values ----------------------------------------------------------------------------------
    def date(self, d: date) -> str:
        style = 0 if self.rng.random() >= self.r.date_other_format else self.rng.randint(1, 3)
        return fmt_date(d, style)

    def ratio(self, ratio: float) -> str:
        style = self.rng.randrange(3)
        pct = ratio * 100
        if style == 0:
            return f"{pct:.2f}".rstrip("0").rstrip(".") + "%"
        if style == 1:
            return f"{ratio:.4f}".rstrip("0").rstrip(".")
        return f"{pct:.2f}%"
