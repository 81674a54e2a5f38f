"""Identity numbers: the one keyed hash and the one display mask used everywhere.

The graph and every CSV but the vaults (`identity_vault.csv`, `rejects_vault.csv`) hold a
person's number only as `id_hash(number)` (to join on) and `mask(number)` (to show). The resolve
stage, the graph loader and the API all call these, so a number typed into the API finds the
entity resolve wrote, and every face shows a person's number the same way.

Why only the last four (docs/api.md, "Persons' data"): a number is area code + birth date +
sequence + check. The public-list mask (`210802********3018`) hides only the birth date, and
that year's dates leave ~33 valid numbers, a few seconds of guessing. With area and birth date
both hidden, ~13 million valid numbers end in any given four characters.
"""
from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import unicodedata

from creditgraph.base.settings import Settings, id_key
from creditgraph.base.text import normalize_raw

ID_HASH_CHARS = 32


def id_hash(id18: str, key: bytes | None = None, settings: Settings | None = None) -> str:
    """HMAC-SHA256 of the 18-character identity number, hex, first 32 characters.

    `id18` is the canonical number (`linkage.identifiers.classify(raw).value` for type
    `id18`: legacy 15-digit numbers upgraded, `x` upper-cased); NFKC, case and separators are
    normalised again here, so the raw value of a clean number hashes the same.
    The key is `creditgraph.base.settings.id_key()` (CREDITGRAPH_ID_KEY or DATA/secret.key).
    """
    value = normalize_raw(id18)
    secret = key if key is not None else id_key(settings)
    return hmac.new(secret, value.encode("utf-8"), hashlib.sha256).hexdigest()[:ID_HASH_CHARS]


SHOWN = 4  # the last four: the three sequence digits and the check character
MASK_WIDTH = 18


def mask(number: str) -> str:
    """The display mask: `**************3018`, the last four of the 18-character number only.

    Any shape comes in: a number in clear (18 characters, or legacy 15 digits: its three
    sequence digits, the check it lacks as `*`), a public-list mask (`2108021980****3018`,
    `210802********3018`: its area and year are dropped too), or anything else (all `*`)."""
    v = normalize_raw(number)
    if len(v) == 15 and v.isdigit():  # legacy: area, YYMMDD, sequence, no check character
        tail = v[-3:] + "*"
    else:
        tail = v[-SHOWN:] if len(v) == MASK_WIDTH else ""
    return "".join(c if c.isdigit() or c == "X" else "*" for c in tail).rjust(MASK_WIDTH, "*")


# An identity number in free text: 18 characters (the last may be X) or legacy 15 digits, not
# inside a longer run of letters or digits; full-width digits too. Province codes start 1-8, so
# an all-digit USCC of market regulation (9...) is left alone.
# Typed numbers come apart too (210802-19750315-3018, 210 802 1975...): one separator (a space,
# hyphen, dash, dot, slash or zero-width character) may stand between any two digits.
_SEP = r"[\s\-\u2010-\u2015\u2212\uff0d.．/\u200b-\u200d\u2060\ufeff]?"
_NUMBER_RE = re.compile(rf"(?<![0-9A-Za-z０-９Ａ-Ｚａ-ｚ])[1-8１-８](?:(?:{_SEP}\d){{16}}{_SEP}[\dXxＸｘ]|(?:{_SEP}\d){{14}})"
                        r"(?![0-9A-Za-z０-９Ａ-Ｚａ-ｚ])")
_NOT_DIGIT = re.compile(r"[^0-9Xx０-９Ｘｘ]")
_EARLIEST_BIRTH_YEAR = 1880


def _has_birth_date(number: str) -> bool:
    """A real birth date where an identity number has one (YYYYMMDD, or legacy YYMMDD of 19..)."""
    v = unicodedata.normalize("NFKC", number)
    digits = v[6:14] if len(v) == 18 else "19" + v[6:12]
    try:
        born = datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return False
    return _EARLIEST_BIRTH_YEAR <= born.year and born <= datetime.date.today()


def scrub(text: str) -> str:
    """`text` with every identity number in it (a real birth date in place) shown by `mask`."""
    def repl(m: re.Match) -> str:
        number = _NOT_DIGIT.sub("", m.group(0))
        return mask(number) if _has_birth_date(number) else m.group(0)
    return _NUMBER_RE.sub(repl, text)


def scrub_any(value):
    """scrub() through nested dicts, lists and strings."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: scrub_any(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_any(v) for v in value]
    return value
