"""Parsing of typed field values as departments write them. Each parser raises FieldError."""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache

_DATE_SEP = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


class FieldError(ValueError):
    pass


@lru_cache(maxsize=65536)
def parse_date(text: str) -> str:
    """`2008-03-01`, `2008/3/1`, `20080301`, `2008年3月1日` (also full-width) -> ISO date."""
    value = unicodedata.normalize("NFKC", text).strip()
    m = _DATE_SEP.match(value) or _DATE_COMPACT.match(value)
    if not m:
        raise FieldError(f"not a date: {text!r} (expected e.g. 2008-03-01, 2008/3/1, 20080301, 2008年3月1日)")
    try:
        return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError as e:
        raise FieldError(f"impossible date {text!r}: {e}") from None


def parse_number(text: str) -> float:
    value = unicodedata.normalize("NFKC", text).strip().replace(",", "")
    try:
        return float(value)
    except ValueError:
        raise FieldError(f"not a number: {text!r}") from None


def parse_ratio(text: str) -> float:
    """`35%`, `35.00%`, `0.35` -> 0.35; a bare number above 1 is read as a percentage."""
    value = unicodedata.normalize("NFKC", text).strip()
    percent = value.endswith("%")
    number = parse_number(value.rstrip("%"))
    ratio = number / 100 if percent or number > 1 else number
    if not 0 <= ratio <= 1:
        raise FieldError(f"ratio out of range 0-100%: {text!r}")
    return round(ratio, 6)


_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


def parse_text(text: str) -> str:
    """Trimmed; a line break inside a quoted field (typed in a spreadsheet cell) becomes a space."""
    return _LINE_BREAKS.sub(" ", text).strip()


PARSERS = {"date": parse_date, "number": parse_number, "ratio": parse_ratio, "text": parse_text}
