"""Make valid identifiers of every generation (the check arithmetic lives in linkage.identifiers)."""
from __future__ import annotations

import random
from datetime import date

from creditgraph.linkage.identifiers import (USCC_ALPHABET, org_code_check_char, regno_check_digit, ric_check_char,
                                 uscc_check_char)

DIGITS = "0123456789"
# Codes issued since 2015 carry organisation codes 'MA' + 6 characters of the USCC alphabet.
_NEW_ORG_CHARS = USCC_ALPHABET


def org_code(rng: random.Random, founded: date) -> str:
    body = ("MA" + "".join(rng.choices(_NEW_ORG_CHARS, k=6)) if founded.year >= 2015
            else "".join(rng.choices(DIGITS, k=8)))
    return body + org_code_check_char(body)


def uscc(prefix2: str, division: str, org9: str) -> str:
    body = prefix2 + division + org9
    return body + uscc_check_char(body)


def regno(rng: random.Random, division: str) -> str:
    body = division + "".join(rng.choices(DIGITS, k=8))
    return body + regno_check_digit(body)


def old_tax_no(division: str, org9: str) -> str:
    return division + org9


def ric(area: str, born: date, seq: int) -> str:
    body = f"{area}{born:%Y%m%d}{seq:03d}"
    return body + ric_check_char(body)


def ric15(id18: str) -> str:
    """The legacy form: no century, no check character."""
    return id18[:6] + id18[8:17]


def mask_with_year(id18: str) -> str:
    """'2108021980****3018': the other public mask, keeping the birth year."""
    return id18[:10] + "****" + id18[-4:]


def dashed_org_code(org9: str) -> str:
    return org9[:8] + "-" + org9[8]
