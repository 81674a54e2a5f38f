"""Classify and check the identifiers found in department exports.

Generations handled (see /work/shared/domain.md): the unified social credit code (USCC,
GB 32100), the organisation code (GB 11714), the old 15-digit registration number
(MOD 11,10), the old 15-character tax number (division + organisation code), the resident
identity number (GB 11643, 18 digits, legacy 15) and masked identity numbers.

python-stdnum's check-digit arithmetic (ISO 7064 MOD 11-2, MOD 11,10, the USCC MOD 31-3) is
right but goes through its generic clean() on every call, about 40 us a number: at millions of
mentions that was the slowest step of a resolve. The three sums are therefore written out here,
and tests/unit/test_identifiers.py checks them against stdnum's on many numbers. Its two
validators are NOT used for the verdict, on purpose:
- stdnum.cn.uscc.validate requires positions 1-8 to be digits, so it rejects real codes
  issued by other departments (A..., N..., Y...).
- stdnum.cn.ric.validate (2.2) also rejects numbers whose area code it thinks was not in
  force in the birth year (e.g. Liaoning 210802 for someone born 1972). The area code is
  where the number was issued, often years after birth, so such numbers are real.
"""
from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass
from functools import lru_cache

from creditgraph.base.text import normalize_raw


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_SET = frozenset(USCC_ALPHABET)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_EARLIEST_BIRTH = datetime.date(1880, 1, 1)
_TODAY = datetime.date.today()

_ORG_RE = re.compile(r"[0-9A-Z]{8}[0-9X]")
_MASKED_RE = re.compile(r"[0-9X*]+")


# The types the classifier recognises; any other type is a scheme a manifest declared.
BUILTIN_TYPES = frozenset({"uscc", "org_code", "reg_no", "tax_no", "id18", "id_masked", "unknown"})
# A value of a declared scheme, as the reader writes it: `customs_code:2108960123`.
_DECLARED = re.compile(r"([a-z][a-z0-9_]*):(.*)", re.S)


@dataclass(frozen=True, slots=True)
class Identifier:
    type: str      # one of BUILTIN_TYPES, or a scheme declared in the manifest (e.g. customs_code)
    value: str     # normalised (see normalize_raw); legacy 15-digit identity numbers upgraded
    valid: bool    # checksum holds (id_masked: its visible parts are well formed)
    org_code: str | None  # organisation code carried (uscc[8:17], tax_no[6:15], org code); valid only
    raw: str
    note: str = ""


# --- check characters --------------------------------------------------------------------

_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_RIC_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))


def uscc_check_char(body17: str) -> str:
    """GB 32100 check character (ISO 7064 MOD 31-3): weights 3^(i-1) mod 31. Unlike stdnum's
    validate() it does not care whether positions 1-8 are digits."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(body17, _USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(body8: str) -> str:
    """GB 11714 check: weights 3 7 9 10 5 8 4 2, A-Z = 10-35; 10 -> 'X', 11 -> '0'.
    Hand-written: python-stdnum has no Chinese organisation code module."""
    total = sum(int(c, 36) * w for c, w in zip(body8, _ORG_WEIGHTS))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def regno_check_digit(body14: str) -> str:
    """Old registration number check digit, ISO 7064 MOD 11,10."""
    p = 10
    for c in body14:
        p = (((p + int(c)) % 10 or 10) * 2) % 11
    return str((11 - p) % 10)


def ric_check_char(body17: str) -> str:
    """Identity number check character, ISO 7064 MOD 11-2: "10X98765432"[sum mod 11]."""
    return "10X98765432"[sum(int(c) * w for c, w in zip(body17, _RIC_WEIGHTS)) % 11]


def _org_ok(code: str) -> bool:
    return bool(_ORG_RE.fullmatch(code)) and org_code_check_char(code[:8]) == code[8]


def _uscc_alphabet_ok(v: str) -> bool:
    return len(v) == 18 and all(c in _USCC_SET for c in v)


def _uscc_ok(v: str) -> bool:
    return _uscc_alphabet_ok(v) and uscc_check_char(v[:17]) == v[17]


# --- identity numbers --------------------------------------------------------------------

def _ric_shape(v: str) -> bool:
    return len(v) == 18 and v[:17].isdigit() and (v[17].isdigit() or v[17] == "X")


def _plausible_date(d: datetime.date | None) -> bool:
    return d is not None and _EARLIEST_BIRTH <= d <= _TODAY


def _date_of(yyyymmdd: str) -> datetime.date | None:
    try:
        return datetime.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None


def _as18(number: str) -> str:
    v = normalize_raw(number)
    return upgrade_ric15(v) if len(v) == 15 and v.isdigit() else v


def upgrade_ric15(id15: str) -> str:
    """Legacy 15-digit number -> 18: insert the century '19' and append the check."""
    body = id15[:6] + "19" + id15[6:15]
    return body + ric_check_char(body)


def ric_birth_date(id18: str) -> datetime.date | None:
    """Birth date, or None when it is not a real, plausible date."""
    return _birth(_as18(id18))


def _birth(v: str) -> datetime.date | None:
    if not _ric_shape(v):
        return None
    d = _date_of(v[6:14])
    return d if _plausible_date(d) else None


def ric_area(id18: str) -> str:
    """Address code where the number was first issued (not necessarily the birth place)."""
    return _as18(id18)[:6]


def ric_gender(id18: str) -> str:
    """'M' for an odd sequence number, 'F' for even."""
    return "M" if int(_as18(id18)[16]) % 2 else "F"


def _ric_checksum_ok(v: str) -> bool:
    return _ric_shape(v) and ric_check_char(v[:17]) == v[17]


# --- masked numbers ----------------------------------------------------------------------

def mask_ric(id18: str) -> str:
    """Public-list mask: area code and last four kept, '210802********3018'. An input format
    (court lists publish it; the synthetic city writes it), not a display: creditgraph.base.privacy.mask."""
    v = _as18(id18)
    return v[:6] + "*" * (len(v) - 10) + v[-4:]


def _mask_well_formed(m: str) -> bool:
    if len(m) not in (15, 18) or not _MASKED_RE.fullmatch(m):
        return False
    # 'X' only as the check character of an 18-character number
    return "X" not in m[:-1] and (len(m) == 18 or "X" not in m)


def _mask_positions(m: str) -> list[int]:
    """Index into the 18-digit number of each character of the mask."""
    if len(m) == 15:  # legacy layout: area, YYMMDD, sequence (no century, no check)
        return list(range(6)) + list(range(8, 17))
    return list(range(len(m)))


def masked_compatible(masked: str, id18: str) -> bool:
    """True when every visible character of the mask agrees with the full number.

    Masks of 18 and 15 characters are compared position by position (a 15-character mask
    through the legacy layout); other lengths (a fixed '****' standing for more digits)
    only by their visible prefix and suffix.
    """
    m, v = normalize_raw(masked), _as18(id18)
    if len(v) != 18:
        return False
    if len(m) in (15, 18):
        return all(c == "*" or v[i] == c for c, i in zip(m, _mask_positions(m)))
    head, _, rest = m.partition("*")
    tail = rest.rsplit("*", 1)[-1] if "*" in rest else rest
    return v.startswith(head) and v.endswith(tail) and len(head) + len(tail) <= len(v)


# --- classification ----------------------------------------------------------------------

def _ident(type_: str, value: str, valid: bool, raw: str, note: str = "",
           org: str | None = None) -> Identifier:
    return Identifier(type_, value, valid, org if valid else None, raw, note)


def _classify18(v: str, raw: str) -> Identifier:
    ric_sum, uscc_sum = _ric_checksum_ok(v), _uscc_ok(v)
    born = _birth(v)
    if ric_sum and born:
        # Both checks hold on ~1 in 31 identity numbers. Call it a USCC only when it also
        # looks like one where an identity number cannot: registered by market regulation
        # ('9', which no province code starts with) and carrying a valid organisation code
        # in positions 9-17 (1 in 11 by chance).
        if uscc_sum and v[0] == "9" and _org_ok(v[8:17]):
            return _ident("uscc", v, True, raw, "also passes the identity-number check", v[8:17])
        return _ident("id18", v, True, raw, "also passes the USCC check" if uscc_sum else "")
    if uscc_sum:
        return _ident("uscc", v, True, raw, "", v[8:17])
    if ric_sum:  # digits and MOD 11-2 hold, but the date is impossible
        return _ident("id18", v, False, raw, "birth date implausible")
    if born:  # shape of an identity number with a real date: a mistyped one
        return _ident("id18", v, False, raw, "checksum failed")
    if v.isalnum():
        bad = "" if _uscc_alphabet_ok(v) else "; characters outside the USCC set"
        return _ident("uscc", v, False, raw, "checksum failed" + bad)
    return _ident("unknown", v, False, raw, "18 characters, no known shape")


def _candidates15(v: str) -> list[str]:
    """Every 15-character reading whose own check holds, in the default preference order."""
    found = []
    if v.isdigit() and regno_check_digit(v[:14]) == v[14]:
        found.append("reg_no")
    if v[:6].isdigit() and _org_ok(v[6:]):
        found.append("tax_no")
    if v.isdigit() and _plausible_date(_date_of("19" + v[6:12])):
        found.append("id15")
    return found


# Why this order: the legacy identity number's date (~1 in 28 by chance) filters about as
# well as the reg_no check (1 in 10) or the tax_no check (1 in 11), so the prior decides.
# Registry and tax numbers fill enterprise columns of pre-2015 firms, while 15-digit
# identity numbers stopped being issued in 1999; real registration sequences also start
# with zeros (month '00'), so they seldom look like a date. Checks win by default; the
# caller passes kind='person' for a person's column and the identity number comes first.
_ORDER = {"person": ("id15", "reg_no", "tax_no")}
_DEFAULT_ORDER = ("reg_no", "tax_no", "id15")
_LABEL = {"id15": "legacy identity number"}


def _classify15(v: str, raw: str, kind: str | None) -> Identifier:
    order = _ORDER.get(kind or "", _DEFAULT_ORDER)
    found = sorted(_candidates15(v), key=order.index)
    if not found:
        return _invalid15(v, raw)
    best, others = found[0], found[1:]
    note = f"ambiguous: also fits {', '.join(_LABEL.get(o, o) for o in others)}" if others else ""
    if best == "id15":
        up = "upgraded from 15 digits" + (f"; {note}" if note else "")
        return _ident("id18", upgrade_ric15(v), True, raw, up)
    return _ident(best, v, True, raw, note, v[6:] if best == "tax_no" else None)


def _invalid15(v: str, raw: str) -> Identifier:
    if v.isdigit():
        return _ident("reg_no", v, False, raw, "checksum failed (no 15-digit reading holds)")
    if v[:6].isdigit() and _ORG_RE.fullmatch(v[6:]):
        return _ident("tax_no", v, False, raw, "organisation code check failed")
    return _ident("unknown", v, False, raw, "15 characters, no known shape")


def _classify_masked(v: str, raw: str) -> Identifier:
    if not _MASKED_RE.fullmatch(v):
        return _ident("unknown", v, False, raw, "'*' in a value that is not a masked number")
    ok = _mask_well_formed(v)
    return _ident("id_masked", v, ok, raw, "" if ok else "unusual mask length")


@lru_cache(maxsize=1 << 16)
def _classify(raw: str, kind: str | None) -> Identifier | None:
    declared = _DECLARED.fullmatch(raw.strip())
    if declared:  # a scheme of its own: no check to run, the value is the identifier
        v = normalize_raw(declared[2])
        return _ident(declared[1], v, True, raw, "declared scheme") if v else None
    v = normalize_raw(raw)
    if not v:
        return None
    if not v.isascii():  # keeps isdigit()/int() to ASCII digits below
        return _ident("unknown", v, False, raw, "characters outside ASCII")
    if "*" in v:
        return _classify_masked(v, raw)
    if len(v) == 18:
        return _classify18(v, raw)
    if len(v) == 15:
        return _classify15(v, raw, kind)
    if len(v) == 9 and v.isalnum():
        ok = _org_ok(v)
        return _ident("org_code", v, ok, raw, "" if ok else "checksum failed", v)
    return _ident("unknown", v, False, raw, f"unrecognised length {len(v)}")


def classify(raw: str | None, kind: str | None = None) -> Identifier | None:
    """Classify one raw identifier value; None for empty input. Never raises.

    kind ('person' | 'enterprise' | None) only breaks the tie of an all-digit 15-character
    value that reads both as a registry number and as a legacy identity number.
    """
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return None  # pandas hands missing cells over as NaN
    try:
        return _classify(raw if isinstance(raw, str) else str(raw), kind)
    except Exception as exc:  # a classifier that raises would drop a whole row upstream
        return Identifier("unknown", "", False, None, str(raw), f"error: {exc!r}")
