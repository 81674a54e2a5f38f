"""How many valid identity numbers (GB 11643) agree with what someone saw of one person.

A number is 6-digit area code + birth date YYYYMMDD + 3-digit sequence + the ISO 7064 MOD 11-2
check. The count runs over every county-level area code python-stdnum ships (stdnum/cn/loc.dat,
GB/T 2260, current and former), every birth date of a plausible age, every sequence, keeping the
numbers whose check holds and that agree with every character seen. The check is a weighted sum
mod 11, so the count is a convolution of three residue histograms (area, date, sequence), exact.
"""
from __future__ import annotations

import datetime
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import stdnum

WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
CHECK = "10X98765432"
AGES = (18, 80)  # the youngest and oldest plausible person in a city's credit records
LEGACY_POSITIONS = [*range(6), *range(8, 17)]  # a 15-character number in the 18-digit layout


@lru_cache
def area_codes() -> tuple[str, ...]:
    """Every 6-digit code of stdnum/cn/loc.dat (counties, and the prefecture and province codes
    some numbers carry)."""
    codes, province = [], ""
    for line in (Path(stdnum.__file__).parent / "cn" / "loc.dat").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code = line.split()[0]
        if not line.startswith(" "):
            province = code
        else:
            codes.append(province + code)
    return tuple(codes)


def birth_window(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    today = today or datetime.date.today()
    return today.replace(year=today.year - AGES[1], day=min(today.day, 28)), \
        today.replace(year=today.year - AGES[0], day=min(today.day, 28))


class Seen:
    """Characters of one person's number fixed by what was seen (position -> character)."""

    def __init__(self):
        self.fixed: dict[int, str] = {}
        self.contradiction = False

    def _fix(self, position: int, char: str) -> None:
        if self.fixed.setdefault(position, char) != char:
            self.contradiction = True

    def number(self, shown: str) -> None:
        """A shown identity number, whole or masked with '*' (18, legacy 15, or head…tail)."""
        v = unicodedata.normalize("NFKC", shown).strip().upper()
        if not re.fullmatch(r"[0-9X*]{4,}", v) or not re.search(r"[0-9X]", v):
            return
        if len(v) == 18:
            pairs = list(enumerate(v))
        elif len(v) == 15:
            pairs = list(zip(LEGACY_POSITIONS, v))
        else:
            head, tail = v.split("*")[0], v.split("*")[-1]
            pairs = list(enumerate(head)) + [(18 - len(tail) + i, c) for i, c in enumerate(tail)]
        for i, c in pairs:
            if c != "*":
                self._fix(i, c)

    def birth(self, shown: str) -> None:
        """A shown birth date, whole or cut (1975-03-15, 1975-03, 1975, 19750315)."""
        digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", shown))
        if len(digits) in (4, 6, 8):
            for i, c in enumerate(digits):
                self._fix(6 + i, c)

    def _part(self, start: int, end: int) -> tuple:
        return tuple(sorted((i, c) for i, c in self.fixed.items() if start <= i < end))

    def agrees_with(self, number: str) -> bool:
        return not self.contradiction and all(number[i] == c for i, c in self.fixed.items())

    def count(self) -> int:
        if self.contradiction:
            return 0
        areas = _histogram("area", 0, self._part(0, 6))
        dates = _histogram("date", 6, self._part(6, 14))
        sequences = _histogram("sequence", 14, self._part(14, 17))
        checks = {self.fixed[17]} if 17 in self.fixed else set(CHECK)
        return sum(areas[a] * dates[d] * sequences[s]
                   for a in range(11) for d in range(11) for s in range(11)
                   if CHECK[(a + d + s) % 11] in checks)


@lru_cache
def _parts(kind: str) -> tuple[str, ...]:
    if kind == "area":
        return area_codes()
    if kind == "date":
        first, last = birth_window()
        return tuple((first + datetime.timedelta(n)).strftime("%Y%m%d") for n in range((last - first).days + 1))
    return tuple(f"{n:03d}" for n in range(1000))


@lru_cache
def _histogram(kind: str, offset: int, fixed_items: tuple) -> list[int]:
    """Per residue mod 11 of the weighted sum, how many parts agree with the fixed characters."""
    fixed = dict(fixed_items)
    out = [0] * 11
    for part in _parts(kind):
        if all(fixed.get(offset + i, c) == c for i, c in enumerate(part)):
            out[sum(int(c) * WEIGHTS[offset + i] for i, c in enumerate(part)) % 11] += 1
    return out
