"""Normalise and parse enterprise and person names.

An enterprise name is division + trade name (字号) + industry + organisation form, with an
optional branch qualifier (`营口市鑫达贸易有限公司鲅鱼圈分公司`). Exports drop, shorten or
bracket the division, vary the form, mix traditional characters, full-width brackets and
stray spaces; `key` is what stays equal across that noise. The vocabularies live in
linkage/data/*.yaml.
"""
from __future__ import annotations

import re
import unicodedata
from importlib.resources import files
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import opencc
import yaml
from pypinyin import lazy_pinyin

_DATA = Path(__file__).parent / "data"
_T2S = opencc.OpenCC("t2s")
_SPACES = re.compile(r"\s+")
# NFKC folds （）［］｛｝; the CJK brackets it leaves alone are unified here.
_BRACKETS = str.maketrans({"【": "(", "】": ")", "〔": "(", "〕": ")", "[": "(", "]": ")",
                           "{": "(", "}": ")", "〖": "(", "〗": ")", "「": "(", "」": ")"})
_BRACKETED = re.compile(r"\(([^()]*)\)")


def _load(name: str):
    with open(_DATA / name, encoding="utf-8") as f:
        return yaml.safe_load(f)


_RULES = _load("name_rules.yaml")


class _Simplified(dict):
    """Code point -> simplified character, filled the first time str.translate meets one."""

    def __init__(self, keep: str):
        super().__init__({ord(c): c for c in keep})

    def __missing__(self, code: int) -> str:
        self[code] = simplified = _T2S.convert(chr(code))
        return simplified


_SIMPLIFIED = _Simplified(_RULES["keep_in_names"])


def to_simplified(s: str) -> str:
    """Traditional -> simplified character by character, never by phrase. OpenCC's phrase table
    reads the surname 沈 with 靜 as the word 沉静, and a phrase only fires on traditional text, so
    the two scripts of one name would part; alone, each character has one simplified form."""
    return s.translate(_SIMPLIFIED)


def clean_text(s: str | None) -> str:
    """NFKC, whitespace removed, traditional -> simplified, brackets as ASCII (), upper-case
    Latin letters (exports mix `abc` and `ＡＢＣ`)."""
    if not s:
        return ""
    s = _SPACES.sub("", unicodedata.normalize("NFKC", s)).translate(_BRACKETS)
    return to_simplified(s).upper()


def _alternation(words) -> str:
    """Regex alternation, longest first: Python takes the first alternative that matches."""
    return "|".join(map(re.escape, sorted(set(words), key=len, reverse=True)))


# --- divisions -----------------------------------------------------------------------------
# The gazetteer is the national table of administrative divisions (GB/T 2260) that python-stdnum
# keeps for the birthplaces of identity numbers (stdnum/cn/loc.dat): every province, prefecture
# and county with its code and its former names, maintained upstream as the code lists change.
# A hand list knew the cities its author thought of, while firms register everywhere: a 四川省
# firm's name kept its province and no longer matched its own short name (issue 10).
# linkage/data/divisions.yaml only adds how names are written (short forms, placeholders).

@dataclass(frozen=True, slots=True)
class _Place:
    canon: str   # the short form where there is one ('营口'), else the name
    code: str    # six digits of GB/T 2260
    depth: int   # province 0, prefecture 1, county 2: the deeper of two is the more specific
    short: bool  # this surface is the short form


_DIV_RULES = _load("divisions.yaml")
_LOC_LINE = re.compile(r'(\d+) (?:province|county)="([^"]*)"')  # '21 province="辽宁省"', '  0800 county="营口市"'
_VALIDITY = re.compile(r"(?:\[(\d*)-(\d*)\])?(.+)")
_NATIONALITY_END = re.compile(f"(?:{_alternation(_DIV_RULES['nationalities'])})族?$")


def _gb2260():
    """(code, clean name, in use) for every division of the table, former names included
    ('[1983-2013]东陵区,[2014-]浑南区'). Read line by line: stdnum.numdb's general parser takes
    0.7 s over this file, at every start of the process."""
    prov = ""
    for line in files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8").splitlines():
        if not (m := _LOC_LINE.fullmatch(line.strip())):
            continue
        code, names = m.groups()
        prov = code if len(code) == 2 else prov
        for part in names.split(","):
            _, until, name = _VALIDITY.fullmatch(part).groups()
            yield (code + "0000" if len(code) == 2 else prov + code), clean_text(name), not until


def _short_form(name: str) -> str | None:
    """'营口市' -> '营口', '延边朝鲜族自治州' -> '延边'; None when the stem is one character."""
    suffix = next((x for x in _DIV_RULES["suffixes"] if name.endswith(x) and len(name) - len(x) >= 2), None)
    if suffix is None:
        return None
    short = name[:-len(suffix)]
    if "自治" in name or "族" in name:
        while (m := _NATIONALITY_END.search(short)) and m.start() >= 2:
            short = short[:m.start()]
    return short


def _division_table() -> dict[str, tuple[_Place, ...]]:
    """Written form -> the places it names. Full names, in use or former, all read as divisions
    (an old firm's name keeps the city it was registered in: 旅大市, 大连 before 1981); short forms
    only of divisions in use: a former division's short form is just a word by now."""
    table: dict[str, dict[_Place, None]] = {}
    skip = set(_DIV_RULES["placeholders"])
    for code, name, current in _gb2260():
        short = _short_form(name)
        if name in skip or short is None:  # placeholders; 县 郊区 城区 东区 沙县: too little to tell
            continue
        depth = 0 if code.endswith("0000") else 1 if code.endswith("00") else 2
        table.setdefault(name, {})[_Place(short, code, depth, False)] = None
        if current:
            table.setdefault(short, {})[_Place(short, code, depth, True)] = None
    return {k: tuple(sorted(v, key=lambda p: (p.depth, p.code))) for k, v in table.items()}


_DIVISION = _division_table()
_DIVISION_LENGTHS = tuple(sorted({len(k) for k in _DIVISION}, reverse=True))
# Written forms by their first two characters, longest first: most names start with none.
_DIVISION_HEADS: dict[str, tuple[int, ...]] = {}
for _k in sorted(_DIVISION, key=len, reverse=True):
    _DIVISION_HEADS[_k[:2]] = (*_DIVISION_HEADS.get(_k[:2], ()), len(_k))
_WORDS_AFTER = tuple(_DIV_RULES["words_after"])
_WORD_HEADS = frozenset(w[:2] for w in _WORDS_AFTER)
HOME_DIVISION: str = _RULES["home_division"]
_HOME_CODE = next(p.code for p in _DIVISION[HOME_DIVISION] if p.depth == 1)


def _takes(p: _Place, after: _Place | None) -> bool:
    """Whether a written division is read as one. Full names and the short forms of provinces and
    prefectures are how names carry divisions. A county's short form (朝阳, 长安, 东城, 城关) is as
    often a trade name: it is read only for the home city's own counties (local exports shorten
    盖州市 to 盖州) or right after its province or prefecture (四川绵阳涪城). Measured on the
    default profile's 100k city (25,129 distinct firm names): read so, every name parses as with
    the old hand list; reading every county's short form cuts 永福 (永福县, Guangxi) off
    营口市永福商会, leaving the core 商会 that other firms share (BENCHMARKS.md, issue 10)."""
    if not p.short or p.depth < 2 or p.code[:4] == _HOME_CODE[:4]:
        return True
    return after is not None and p.code.startswith(_code_prefix(after))


def _code_prefix(p: _Place) -> str:
    return p.code[:2 + 2 * p.depth]


def _read_after(written: str, after: _Place | None) -> _Place | None:
    """The place `written` names here, if read as one; within the division just read first
    ('北京朝阳': 朝阳区, not 朝阳市)."""
    places = [p for p in _DIVISION[written] if _takes(p, after)]
    inside = [p for p in places if after and p.code.startswith(_code_prefix(after))]
    return (inside or places or [None])[0]


# What each written form names at the start of a name: computed once, the parser's common case.
_READ_ALONE = {w: _read_after(w, None) for w in _DIVISION}


def _division_at(s: str, after: _Place | None = None) -> tuple[int, _Place] | None:
    """The longest division s starts with (length, place), read as `_takes` allows."""
    for n in _DIVISION_HEADS.get(s[:2], ()):
        w = s[:n]
        if len(w) < n or w not in _DIVISION:
            continue
        if s[n - 1:n + 1] in _WORD_HEADS and any(s.startswith(x, n - 1) for x in _WORDS_AFTER):
            continue
        place = _READ_ALONE[w] if after is None else _read_after(w, after)
        if place is not None:
            return n, place
    return None


def _trailing_division(s: str) -> int | None:
    """Where a division that ends s starts."""
    for n in _DIVISION_LENGTHS:
        if n < len(s) and _READ_ALONE.get(s[-n:]):
            return len(s) - n
    return None


# --- vocabularies --------------------------------------------------------------------------

_FORM = {clean_text(v): canon for canon, vs in _load("org_forms.yaml").items() for v in vs}
_INDUSTRIES = frozenset(clean_text(w) for w in _load("industries.yaml"))

_FORM_ANY = re.compile(_alternation(_FORM))
_BRANCH = re.compile(f"(.*?)({_alternation(_RULES['branch_suffixes'])})$")
_DOTS = re.compile(f"\\s*[{re.escape(_RULES['name_dots'])}]+\\s*")


# --- enterprise names ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class EnterpriseName:
    raw: str
    clean: str
    division: str | None  # canonical short division name ('营口'), None when absent
    trade: str            # 字号
    industry: str         # '' when none found
    form: str             # canonical organisation form, '' when none
    branch: str | None    # branch qualifier ('' unnamed), None when not a branch
    core: str             # trade + industry
    trade_pinyin: str     # toneless, so 鑫/新/欣 collide
    key: str              # division|core|form|branch; equal keys = same normalised name


def _split_branch(s: str) -> tuple[str, str | None]:
    """'X有限公司鲅鱼圈分公司' -> ('X有限公司', '鲅鱼圈'); the parent's form ends the base."""
    m = _BRANCH.fullmatch(s)
    if not m or len(m.group(1)) < 2:
        return s, None
    pre = m.group(1)
    forms = list(_FORM_ANY.finditer(pre))
    if forms:
        cut = forms[-1].end()
    else:  # no parent form: only a division name at the end can be the qualifier
        tail = _trailing_division(pre)
        cut = tail if tail is not None and tail >= 2 else len(pre)
    return pre[:cut], _branch_label(pre[cut:])


def _branch_label(q: str) -> str:
    q = q.strip("()")
    return _DIVISION[q][0].canon if q in _DIVISION else q


def _bracketed_division(s: str) -> tuple[str, _Place | None]:
    """Take a bracketed division ('鑫达贸易(营口)') out of the name."""
    if "(" not in s:
        return s, None
    found = None

    def take(m: re.Match) -> str:
        nonlocal found
        div = _division_of(m.group(1))
        if div is None or found is not None:
            return m.group(0)
        found = div
        return ""

    return _BRACKETED.sub(take, s), found


def _division_of(text: str) -> _Place | None:
    """The most specific division when text is nothing but divisions ('辽宁营口')."""
    rest, div = _strip_leading_divisions(text, min_rest=0)
    return div if not rest else None


def _strip_leading_divisions(s: str, min_rest: int = 2) -> tuple[str, _Place | None]:
    """'辽宁营口鑫达' -> ('鑫达', 营口); a division is kept if too little would remain, or only an
    industry word: in '朝阳商贸' 朝阳 is the trade name."""
    div = None
    while hit := _division_at(s, div):
        rest = s[hit[0]:]
        if len(rest) < min_rest or (min_rest and rest in _INDUSTRIES):
            break
        s, div = rest, hit[1]
    return s, div


def _lengths(words) -> tuple[int, ...]:
    return tuple(sorted({len(w) for w in words}, reverse=True))


# Suffix lookups, longest first: a few set probes instead of a scan of every word.
_FORM_LENGTHS, _INDUSTRY_LENGTHS = _lengths(_FORM), _lengths(_INDUSTRIES)


def _split_form(s: str) -> tuple[str, str]:
    for n in _FORM_LENGTHS:
        if len(s) > n and s[-n:] in _FORM:
            return s[:-n], _FORM[s[-n:]]
    return s, ""


def _split_industry(core: str) -> tuple[str, str]:
    """Longest industry word at the end; the trade name must keep at least 2 characters.
    Bracketed text that is not a division ('(中国)') stays with the trade name."""
    plain, extra = core, ""
    if "(" in core:
        extra = "".join(f"({g})" for g in _BRACKETED.findall(core))
        plain = _BRACKETED.sub("", core)
    for n in _INDUSTRY_LENGTHS:
        if len(plain) - n >= 2 and plain[-n:] in _INDUSTRIES:
            return plain[:-n] + extra, plain[-n:]
    return core, ""


def _deeper(a: _Place | None, b: _Place | None) -> str | None:
    if a is None or b is None:
        return (a or b).canon if a or b else None
    return (b if b.depth > a.depth else a).canon


@lru_cache(maxsize=1 << 18)
def parse_enterprise_name(raw: str) -> EnterpriseName:
    clean = clean_text(raw)
    base, branch = _split_branch(clean)
    base, bracket_div = _bracketed_division(base)
    rest, form = _split_form(base)
    rest, lead_div = _strip_leading_divisions(rest)
    division = _deeper(lead_div, bracket_div)
    trade, industry = _split_industry(rest)
    core = trade + industry
    key = "|".join((division or HOME_DIVISION, core, form,
                    "" if branch is None else ">" + branch))
    return EnterpriseName(raw, clean, division, trade, industry, form, branch, core,
                          pinyin_key(trade), key)


# --- person names --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PersonName:
    raw: str
    clean: str   # NFKC, whitespace removed, t2s by character, middle dots unified to '·'
    pinyin: str  # toneless, dots dropped


def normalize_person_name(raw: str | None) -> PersonName:
    raw = raw or ""
    s = _DOTS.sub("·", unicodedata.normalize("NFKC", raw)).strip("·")
    clean = to_simplified(_SPACES.sub("", s)).upper()
    return PersonName(raw, clean, person_pinyin(clean))


def person_pinyin(clean: str) -> str:
    """A clean person name's sound: toneless pinyin, the middle dots of transliterations dropped."""
    return pinyin_key(clean.replace("·", ""))


# --- pinyin --------------------------------------------------------------------------------

@lru_cache(maxsize=1 << 16)
def _char_pinyin(c: str) -> str:
    return lazy_pinyin(c)[0].lower()


@lru_cache(maxsize=1 << 20)
def pinyin_key(s: str) -> str:
    """Toneless pinyin, joined without spaces.

    Character by character on purpose: a character always gives the same syllable, so a
    homophone typo (鑫/新/欣) collides wherever it stands, whereas pypinyin's phrase readings
    would change a heteronym (行, 长, 重) with its neighbours. It is also ~20x faster.
    """
    return "".join(map(_char_pinyin, s))
