"""Typed cell values (a spreadsheet's, a database's) as the text a CSV export holds, so that every
format goes through the same field parsers and gives the same mentions."""
from __future__ import annotations

import csv
import io
import math
from datetime import date, datetime, time
from decimal import Decimal

from pydantic import BaseModel

from creditgraph.loaders.manifest import FieldSpec

# A spreadsheet keeps a number to 15 significant digits: an 18-digit identity number or USCC typed
# as a number comes back with its last digits zero (Excel) or rounded (a float written by a program).
SPREADSHEET_DIGITS = 15
EXACT_FLOAT = 10 ** SPREADSHEET_DIGITS  # every whole number below this survives a double


class CellError(ValueError):
    pass


def cell_text(value, *, as_date: bool = False, spreadsheet: bool = False) -> str:
    """The cell's value as text. `as_date`: a timestamp in a date column gives its day;
    `spreadsheet`: a whole number past 15 digits that ends in zeros there lost its digits."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):  # before int: a bool is an int
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if as_date or value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, int):
        return _int_text(value, spreadsheet)
    return str(value)


def _int_text(value: int, spreadsheet: bool) -> str:
    digits = str(abs(value))
    if spreadsheet and len(digits) > SPREADSHEET_DIGITS and not digits[SPREADSHEET_DIGITS:].strip("0"):
        raise CellError(f"a {len(digits)}-digit number ({value}) in a number cell, which keeps "
                        f"{SPREADSHEET_DIGITS} significant digits: its last {len(digits) - SPREADSHEET_DIGITS} "
                        "were probably lost; format the column as text and export again")
    return str(value)


def _float_text(value: float) -> str:
    if not math.isfinite(value):
        raise CellError(f"not a finite number: {value}")
    if not value.is_integer():
        return repr(value)
    if abs(value) < EXACT_FLOAT:
        return str(int(value))
    digits = len(str(int(abs(value))))
    raise CellError(f"a {digits}-digit number stored as a floating-point number ({value:.15g}), which "
                    f"keeps {SPREADSHEET_DIGITS} significant digits: its last digits were lost; "
                    "store the column as text and export again")


def field_specs(node):
    """Every FieldSpec in a source spec, wherever the manifest puts one."""
    if isinstance(node, FieldSpec):
        yield node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from field_specs(getattr(node, name))
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from field_specs(item)
    elif isinstance(node, dict):
        for item in node.values():
            yield from field_specs(item)


def date_columns(source) -> set[str]:
    return {s.column for s in field_specs(source) if s.type == "date" and s.column}


def row_texts(header: list[str], values, read: set[str], dates: set[str], spreadsheet: bool):
    """(texts, problem): the row's values as text, and (column, reason) for the first value in a
    column the manifest reads that cannot be trusted (else None). A column nobody reads never
    rejects a row."""
    texts, problem = [], None
    for i, value in enumerate(values):
        column = header[i] if i < len(header) else ""
        try:
            texts.append(cell_text(value, as_date=column in dates, spreadsheet=spreadsheet))
        except CellError as e:
            texts.append(_shown(value))
            if problem is None and column in read:
                problem = (column, str(e))
    return texts, problem


def _shown(value) -> str:
    return f"{value:.15g}" if isinstance(value, float) else str(value)


def raw_line(texts: list[str]) -> str:
    """The row as a CSV line, for the rejects' `raw`."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(texts)
    return out.getvalue()
