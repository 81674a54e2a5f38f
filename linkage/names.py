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


# --- vocabularies --------------------------------------------------------------------------

def _division_tables():
    entries = _load("divisions.yaml")
    by_code = {e["code"]: e for e in entries}
    canon, depth = {}, {}
    for e in entries:
        short = e.get("short") or [e["name"]]
        depth[short[0]] = _depth(e, by_code)
        for variant in [e["name"], *short]:
            canon[clean_text(variant)] = short[0]
    return canon, depth


def _depth(entry: dict, by_code: dict) -> int:
    """Province 0, city 1, district 2: the deeper of two divisions is the more specific."""
    n = 0
    while entry.get("parent") in by_code:
        entry, n = by_code[entry["parent"]], n + 1
    return n


_DIVISION, _DEPTH = _division_tables()
HOME_DIVISION: str = _RULES["home_division"]
_FORM = {clean_text(v): canon for canon, vs in _load("org_forms.yaml").items() for v in vs}
_INDUSTRIES = frozenset(clean_text(w) for w in _load("industries.yaml"))

_LEADING_DIV = re.compile(f"(?:{_alternation(_DIVISION)})")
_TRAILING_DIV = re.compile(f"(?:{_alternation(_DIVISION)})$")
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
        tail = _TRAILING_DIV.search(pre)
        cut = tail.start() if tail and tail.start() >= 2 else len(pre)
    return pre[:cut], _branch_label(pre[cut:])


def _branch_label(q: str) -> str:
    q = q.strip("()")
    return _DIVISION.get(q, q)


def _bracketed_division(s: str) -> tuple[str, str | None]:
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


def _division_of(text: str) -> str | None:
    """The most specific division when text is nothing but divisions ('辽宁营口')."""
    rest, div = _strip_leading_divisions(text, min_rest=0)
    return div if not rest else None


def _strip_leading_divisions(s: str, min_rest: int = 2) -> tuple[str, str | None]:
    """'辽宁营口鑫达' -> ('鑫达', '营口'); a division is kept if too little would remain."""
    div = None
    while m := _LEADING_DIV.match(s):
        if len(s) - m.end() < min_rest:
            break
        s, div = s[m.end():], _DIVISION[m.group(0)]
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


def _deeper(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return b if _DEPTH.get(b, 0) > _DEPTH.get(a, 0) else a


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
