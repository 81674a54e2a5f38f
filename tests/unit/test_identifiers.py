"""Identifier classification and check characters (linkage/identifiers.py)."""
import datetime

import pytest
from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc

from creditgraph.linkage.identifiers import (
    Identifier, classify, masked_compatible, mask_ric, normalize_raw, org_code_check_char,
    regno_check_digit, ric_area, ric_birth_date, ric_check_char, ric_gender, upgrade_ric15,
    uscc_check_char,
)

# --- independent reference implementations, straight from the standards' text ------------
# (so the module is not only tested against itself or against python-stdnum)

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def ref_uscc_check(body17):
    weights = [pow(3, i, 31) for i in range(17)]
    total = sum(ALPHABET.index(c) * w for c, w in zip(body17, weights))
    return ALPHABET[(31 - total % 31) % 31]


def ref_org_check(body8):
    values = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")}
    total = sum(values[c] * w for c, w in zip(body8, (3, 7, 9, 10, 5, 8, 4, 2)))
    c = 11 - total % 11
    return {10: "X", 11: "0"}.get(c, str(c))


def ref_mod_11_10(body14):
    p = 10
    for d in body14:
        s = (p + int(d)) % 10 or 10
        p = 2 * s % 11
    return str((11 - p) % 10)


def ref_ric_check(body17):
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(d) * w for d, w in zip(body17, weights)) % 11]


# --- real numbers from python-stdnum's own tests (tests/test_cn_uscc.doctest, a sample) ---

STDNUM_USCC = """
121200004013590816 91110000600037341L 91110000710926094P 91120224064012553U 911522010783710635
91152201078371135X 9115220107837757XE 9115220107837941X1 9115220107839138X8 91310115MA1K3BTP2B
9131012056010553X5 91340600MA2PBM9HXD 91340600MA2PBNE723 91340603MA2UJXXCXF 91420684MA4927PJ7B
9144030071526726XG 9144060573144633XL 91620105L015101280 91620105MA71T4YW8Q 91620105MA73NBBLXE
92340602MA2PBMEM24 92340603MA2PBQ16XJ 92340621MA2PBKRXXG 92340621MA2UK3PJXE 92340604MA2UK2B104
""".split()

# tests/test_cn_ric.doctest: numbers stdnum accepts
STDNUM_RIC_OK = ["360426199101010071", "44011320141005001x", "412723199010050012",
                 "110102199101010078", "120110198012010073", "120110199212010072"]
# ... and checksum-valid numbers stdnum turns down only for their area code (trap 2)
STDNUM_RIC_AREA = ["990426199112010074", "110111198012010078", "110201199312010077"]


@pytest.mark.parametrize("code", STDNUM_USCC)
def test_stdnum_uscc_numbers_are_valid(code):
    ident = classify(code)
    assert (ident.type, ident.valid, ident.value) == ("uscc", True, code)
    assert ident.org_code == code[8:17]
    assert uscc_check_char(code[:17]) == ref_uscc_check(code[:17]) == code[17]
    # a real code's organisation-code part carries its own GB 11714 check
    assert org_code_check_char(code[8:16]) == ref_org_check(code[8:16]) == code[16]


@pytest.mark.parametrize("number", STDNUM_RIC_OK + STDNUM_RIC_AREA)
def test_stdnum_ric_numbers_are_valid(number):
    ident = classify(number)
    assert (ident.type, ident.valid, ident.value) == ("id18", True, number.upper())
    assert ident.org_code is None


def test_stdnum_ric_invalid_examples():
    assert classify("36042619910102009X") == Identifier(
        "id18", "36042619910102009X", False, None, "36042619910102009X", "checksum failed")
    bad_date = classify("360426199113010079")  # MOD 11-2 holds, month 13
    assert (bad_date.type, bad_date.valid) == ("id18", False)
    assert classify("T60426199101010078").valid is False
    uscc_bad = classify("91110000600037341N")
    assert (uscc_bad.type, uscc_bad.valid, uscc_bad.org_code) == ("uscc", False, None)
    assert classify("9111000060003IOZSV").valid is False  # I O S V Z are not in the set


# --- trap 1: stdnum.cn.uscc wants digits in positions 1-8 -------------------------------

@pytest.mark.parametrize("code", [
    "N2210802MA0QK3T53N",   # agriculture: rural collective economic organisation
    "Y1210800MA0XB7L26L",   # other registering department
    "A1100000MA01W6JR03",   # military reform and staffing office
    "5121080050001234XG",   # civil affairs
    "12210800001234562U",   # staffing office
])
def test_uscc_from_any_department(code):
    assert ref_uscc_check(code[:17]) == code[17]
    ident = classify(code)
    assert (ident.type, ident.valid, ident.org_code) == ("uscc", True, code[8:17])


def test_trap1_stdnum_rejects_letter_departments_we_accept():
    for code in ("N2210802MA0QK3T53N", "Y1210800MA0XB7L26L", "A1100000MA01W6JR03"):
        assert not stdnum_uscc.is_valid(code)
        assert classify(code).valid


# --- trap 2: stdnum.cn.ric rejects anachronistic area codes ------------------------------

@pytest.mark.parametrize("number", ["210802197201013017", "210702197203151231",
                                    "211402197203151236"])
def test_trap2_liaoning_1972_numbers(number):
    assert ref_ric_check(number[:17]) == number[17]
    assert not stdnum_ric.is_valid(number)   # area code "not yet valid" in 1972
    ident = classify(number)
    assert (ident.type, ident.valid) == ("id18", True)
    assert ric_birth_date(number).year == 1972


# --- check characters ----------------------------------------------------------------------

def test_org_code_check_gb11714():
    assert org_code_check_char("D2143569") == "X"   # sum 199, 199 mod 11 = 1, 11 - 1 = 10
    for raw in ("D2143569-X", "d2143569-x", "D2143569X", "Ｄ２１４３５６９－Ｘ"):
        ident = classify(raw)
        assert (ident.type, ident.value, ident.valid, ident.org_code) == (
            "org_code", "D2143569X", True, "D2143569X")
    bad = classify("D2143569-1")
    assert (bad.type, bad.valid, bad.org_code) == ("org_code", False, None)


@pytest.mark.parametrize("body", ["00000000", "12345678", "MA0QK3T5", "ZZZZZZZZ", "A0000001"])
def test_org_code_check_matches_reference(body):
    assert org_code_check_char(body) == ref_org_check(body)


@pytest.mark.parametrize("body", ["21080000001234", "11000041017140", "99999999999999",
                                  "00000000000000", "37020000012345"])
def test_regno_mod_11_10_matches_reference(body):
    assert regno_check_digit(body) == ref_mod_11_10(body)


def test_stdnum_mod_11_10_examples():
    # python-stdnum's iso7064.mod_11_10 doctest numbers
    assert regno_check_digit("79462") == "3"
    assert regno_check_digit("00200667308") == "5"


@pytest.mark.parametrize("body", ["21080219720101301", "36042619910101007", "44011320141005001"])
def test_ric_check_matches_reference(body):
    assert ric_check_char(body) == ref_ric_check(body)


# --- 15-character values -------------------------------------------------------------------

def test_reg_no():
    ident = classify("210800000012349")
    assert (ident.type, ident.valid, ident.org_code, ident.note) == ("reg_no", True, None, "")
    bad = classify("210800000012348")
    assert (bad.type, bad.valid) == ("reg_no", False)


def test_tax_no_carries_org_code():
    ident = classify("210802D2143569X")
    assert (ident.type, ident.valid, ident.org_code) == ("tax_no", True, "D2143569X")
    assert classify("210802-D2143569-X").value == "210802D2143569X"
    bad = classify("210802D21435691")
    assert (bad.type, bad.valid, bad.org_code) == ("tax_no", False, None)


def test_legacy_id15_upgraded():
    assert upgrade_ric15("210802650301301") == "210802196503013018"
    ident = classify("210802650301301")
    assert ident == Identifier("id18", "210802196503013018", True, None, "210802650301301",
                               "upgraded from 15 digits")
    assert ric_birth_date("210802650301301") == datetime.date(1965, 3, 1)


def test_15_digit_ambiguity_order():
    # reg_no check and a plausible legacy date both hold: registry reading by default,
    # the identity number when the caller says the party is a person; the note says so
    both = "210802650301001"
    default = classify(both)
    assert (default.type, default.valid) == ("reg_no", True)
    assert "legacy identity number" in default.note
    person = classify(both, kind="person")
    assert (person.type, person.value, person.valid) == ("id18", "21080219650301001X", True)
    assert "reg_no" in person.note
    # reg_no before tax_no
    assert classify("210800004012340").type == "reg_no"
    assert "tax_no" in classify("210800004012340").note
    # tax_no before the legacy identity number
    tax = classify("210802720101301")
    assert tax.type == "tax_no" and "legacy identity number" in tax.note


# --- identity number helpers ---------------------------------------------------------------

def test_ric_parts():
    n = "210802196503013018"
    assert ric_area(n) == "210802"
    assert ric_gender(n) == "M"              # sequence 301 is odd
    assert ric_gender("210802196503013026") == "F"
    assert ric_birth_date(n) == datetime.date(1965, 3, 1)
    assert ric_birth_date("360426199113010079") is None
    assert ric_birth_date("210802290301301X") is None


def test_mask_and_compatibility():
    n = "210802196503013018"
    assert mask_ric(n) == "210802********3018"
    assert masked_compatible("210802********3018", n)
    assert masked_compatible("2108021965****3018", n)
    assert not masked_compatible("2108021966****3018", n)
    assert not masked_compatible("210802********3017", n)
    assert masked_compatible("210802******301", n)       # 15-character mask, legacy layout
    assert not masked_compatible("210802******302", n)
    assert masked_compatible("2108****3018", n)          # fixed '****' for any digits
    assert masked_compatible("210802********3018", "210802650301301")  # legacy full number


@pytest.mark.parametrize("raw", ["2108021980****3018", "210802********3018", "210802******301",
                                 "２１０８０２＊＊＊＊＊＊＊＊３０１ｘ", "21080219800101***x"])
def test_masked_classified(raw):
    ident = classify(raw)
    assert (ident.type, ident.valid, ident.org_code) == ("id_masked", True, None)
    assert "*" in ident.value and ident.value == ident.value.upper()


def test_odd_masks():
    assert classify("2108****3018").type == "id_masked"
    assert classify("2108****3018").valid is False   # length says little; still evidence
    assert classify("张*").type == "unknown"


# --- normalisation and robustness ----------------------------------------------------------

def test_full_width_lower_case_and_separators():
    assert normalize_raw(" ４４０１１３ 2014-1005-001ｘ ") == "44011320141005001X"
    ident = classify("４４０１１３２０１４１００５００１ｘ")
    assert (ident.type, ident.value, ident.valid) == ("id18", "44011320141005001X", True)
    assert classify("9111 0000 6000 3734 1l").value == "91110000600037341L"
    assert classify("'91110000600037341L").valid            # spreadsheet text prefix
    assert classify('="91110000600037341L"').valid


@pytest.mark.parametrize("raw", [None, "", "   ", float("nan")])
def test_empty_is_none(raw):
    assert classify(raw) is None


@pytest.mark.parametrize("raw", ["abc", "1234", "91110000600037341L1", "无", "٣٣٣٣٣٣٣٣٣",
                                 "2.10802E+17", 12345, "***", "x" * 500])
def test_never_raises(raw):
    ident = classify(raw)
    assert ident is not None and ident.valid is False


def test_number_passing_both_checks():
    # identity number (Liaoning, 1972) that also passes the USCC and embedded org checks
    both = "211402197203151236"
    assert ref_uscc_check(both[:17]) == both[17] and ref_org_check(both[8:16]) == both[16]
    ident = classify(both)
    assert (ident.type, ident.valid) == ("id18", True)
    assert "USCC" in ident.note
    # market-regulation code (no province starts with 9) with a valid org code: a USCC
    code = "912110197203102266"
    assert ref_ric_check(code[:17]) == code[17] and ref_uscc_check(code[:17]) == code[17]
    ident = classify(code)
    assert (ident.type, ident.valid, ident.org_code) == ("uscc", True, "720310226")
    assert "identity-number" in ident.note


def test_mistyped_identity_number_stays_id18():
    # all digits, real date, check fails: shape decides (id18), not a broken USCC
    ident = classify("210802196503013011")
    assert (ident.type, ident.valid, ident.note) == ("id18", False, "checksum failed")


def test_hand_written_check_sums_agree_with_python_stdnum():
    """The three sums are written out for speed; python-stdnum's arithmetic is the reference."""
    import random

    from stdnum.cn import uscc as stdnum_uscc
    from stdnum.iso7064 import mod_11_2, mod_11_10

    from creditgraph.linkage.identifiers import USCC_ALPHABET, regno_check_digit, ric_check_char, uscc_check_char
    rng = random.Random(11)
    for _ in range(2000):
        digits = "".join(rng.choice("0123456789") for _ in range(17))
        assert ric_check_char(digits) == mod_11_2.calc_check_digit(digits)
        assert regno_check_digit(digits[:14]) == mod_11_10.calc_check_digit(digits[:14])
        body = "".join(rng.choice(USCC_ALPHABET) for _ in range(17))
        assert uscc_check_char(body) == stdnum_uscc.calc_check_digit(body)
