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


# A ratio column's unit, declared in the manifest: the same bare `1` is a 1% stake in a percent
# column and the whole firm in a fraction column, and no value can tell which.
RATIO_RANGE = {"percent": 100.0, "fraction": 1.0}


def parse_ratio(text: str, unit: str) -> float:
    """A share as a fraction of 1. A bare number is read in the column's `unit` (`percent`:
    `35` -> 0.35; `fraction`: `0.35` -> 0.35); a value with a `%` sign (`35%`, `35.00%`) is a
    percentage whatever the unit. Outside 0-100% (in the unit it was read in) is an error."""
    if unit not in RATIO_RANGE:
        raise ValueError(f"ratio unit {unit!r}: use one of {sorted(RATIO_RANGE)}")
    value = unicodedata.normalize("NFKC", text).strip()
    read_as = "percent" if value.endswith("%") else unit
    number = parse_number(value.removesuffix("%"))
    top = RATIO_RANGE[read_as]
    if not 0 <= number <= top:
        raise FieldError(f"ratio {text!r} out of range 0-{top:g} for a {read_as} value")
    return round(number / top, 6)


# An amount column's unit, declared in the manifest: departments write 500 meaning 500万元 as
# often as 5000000 meaning 元. Stored in yuan.
AMOUNT_UNITS = {"元": 1, "万元": 10_000, "亿元": 100_000_000}
_AMOUNT_SUFFIX = re.compile(r"(元|万元?|亿元?)$")


def parse_amount(text: str, unit: str) -> float:
    """An amount in yuan. A bare number is read in the column's `unit` (`万元`: `500` -> 5000000);
    a value written with its own unit (`3亿元`, `500万`, `800元`) is read in that unit. Negative
    is an error."""
    if unit not in AMOUNT_UNITS:
        raise ValueError(f"amount unit {unit!r}: use one of {sorted(AMOUNT_UNITS)}")
    value = unicodedata.normalize("NFKC", text).strip()
    suffix = _AMOUNT_SUFFIX.search(value)
    if suffix:
        written = suffix[1] if suffix[1].endswith("元") else suffix[1] + "元"
        value, unit = value[:suffix.start()], written
    number = parse_number(value)
    if number < 0:
        raise FieldError(f"negative amount {text!r}")
    return round(number * AMOUNT_UNITS[unit], 2)


_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


def parse_text(text: str) -> str:
    """Trimmed; a line break inside a quoted field (typed in a spreadsheet cell) becomes a space."""
    return _LINE_BREAKS.sub(" ", text).strip()


PARSERS = {"date": parse_date, "number": parse_number, "text": parse_text}


def parse_value(text: str, type_: str, unit: str | None = None):
    """A field's value by its manifest type; a ratio or an amount is read in its declared unit."""
    if type_ == "ratio":
        return parse_ratio(text, unit)
    return parse_amount(text, unit) if type_ == "amount" else PARSERS[type_](text)
