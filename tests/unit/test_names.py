"""Enterprise and person name normalisation (linkage/names.py)."""
from pathlib import Path

import opencc
import pytest
import yaml

from creditgraph.linkage import names
from creditgraph.linkage.names import (
    HOME_DIVISION, EnterpriseName, PersonName, clean_text, normalize_person_name,
    parse_enterprise_name, pinyin_key,
)
from creditgraph.synth.vocab import load_vocab

SAME_FIRM = [
    "营口市鑫达贸易有限公司",
    "营口鑫达贸易有限公司",            # division shortened
    "鑫达贸易有限公司",                # division dropped (home city)
    "鑫达贸易(营口)有限公司",          # division bracketed
    "鑫达贸易（营口）有限公司",        # full-width brackets
    "鑫达贸易【营口】有限公司",
    "鑫达贸易有限公司(营口市)",
    "辽宁营口鑫达贸易有限公司",        # province + city
    "辽宁省营口市鑫达贸易有限公司",
    "營口鑫達貿易有限責任公司",        # traditional, 有限责任公司
    "营口 鑫达 贸易 有限公司",         # inserted spaces
    "营口鑫达贸易有限责任公司",
    " 营 口 市 鑫 达 贸 易 有 限 公 司 ",
]


def test_parse_full_name():
    e = parse_enterprise_name("营口市鑫达贸易有限公司")
    assert e == EnterpriseName(
        raw="营口市鑫达贸易有限公司", clean="营口市鑫达贸易有限公司", division="营口",
        trade="鑫达", industry="贸易", form="有限公司", branch=None, core="鑫达贸易",
        trade_pinyin="xinda", key="营口|鑫达贸易|有限公司|")


@pytest.mark.parametrize("raw", SAME_FIRM)
def test_variants_share_the_key(raw):
    e = parse_enterprise_name(raw)
    assert e.key == "营口|鑫达贸易|有限公司|"
    assert (e.trade, e.industry, e.form, e.branch) == ("鑫达", "贸易", "有限公司", None)


def test_dropped_division_is_none_but_keyed_under_home():
    e = parse_enterprise_name("鑫达贸易有限公司")
    assert e.division is None and HOME_DIVISION == "营口"
    assert e.key.startswith("营口|")


def test_other_city_differs():
    # an out-of-city firm copying a local trade name is another firm
    assert parse_enterprise_name("大连鑫达贸易有限公司").key != parse_enterprise_name(
        "营口鑫达贸易有限公司").key


def test_industry_tells_firms_apart():
    a, b = parse_enterprise_name("营口鑫达贸易"), parse_enterprise_name("营口鑫达物流")
    assert (a.industry, b.industry) == ("贸易", "物流")
    assert a.trade == b.trade == "鑫达" and a.key != b.key
    assert parse_enterprise_name("营口鑫达国际贸易有限公司").industry == "国际贸易"  # longest


def test_branch():
    parent = parse_enterprise_name("营口鑫达贸易有限公司")
    branch = parse_enterprise_name("营口鑫达贸易有限公司鲅鱼圈分公司")
    assert (branch.branch, branch.form, branch.core) == ("鲅鱼圈", "有限公司", "鑫达贸易")
    assert parent.branch is None and branch.key != parent.key
    assert branch.key == "营口|鑫达贸易|有限公司|>鲅鱼圈"
    assert parse_enterprise_name("营口鑫达贸易有限公司鲅鱼圈区分公司").key == branch.key
    assert parse_enterprise_name("營口鑫達貿易有限責任公司鮁魚圈分公司").key == branch.key
    unnamed = parse_enterprise_name("营口鑫达贸易有限公司分公司")
    assert unnamed.branch == "" and unnamed.key not in (parent.key, branch.key)


@pytest.mark.parametrize("raw, branch, form", [
    ("营口鑫达贸易有限公司站前分店", "站前", "有限公司"),
    ("营口鑫达机械有限公司第一分厂", "第一", "有限公司"),
    ("鑫达贸易股份有限公司营口营业部", "营口", "股份有限公司"),
    ("鑫达饭店站前分店", "站前", "店"),
])
def test_branch_kinds(raw, branch, form):
    e = parse_enterprise_name(raw)
    assert (e.branch, e.form) == (branch, form)


@pytest.mark.parametrize("raw, form", [
    ("营口鑫达贸易股份公司", "股份有限公司"),
    ("营口鑫达贸易股份有限公司", "股份有限公司"),
    ("营口鑫达集团有限责任公司", "集团有限公司"),
    ("营口鑫达物流", ""),
    ("鑫达农民专业合作社", "农民专业合作社"),
    ("鑫达建筑工程合伙企业（有限合伙）", "合伙企业"),
])
def test_forms(raw, form):
    assert parse_enterprise_name(raw).form == form


def test_short_remainder_stays_trade():
    e = parse_enterprise_name("营口港物流有限公司")   # '港' alone is no trade name
    assert (e.trade, e.industry, e.division) == ("港物流", "", "营口")


def test_division_not_stripped_from_a_bare_name():
    e = parse_enterprise_name("大连有限公司")
    assert (e.trade, e.division) == ("大连", None)


def test_most_specific_division():
    e = parse_enterprise_name("营口市鲅鱼圈区鑫达贸易有限公司")
    assert e.division == "鲅鱼圈"


def test_non_division_bracket_kept_in_trade():
    e = parse_enterprise_name("鑫达贸易(中国)有限公司")
    assert (e.trade, e.industry, e.division) == ("鑫达(中国)", "贸易", None)


def test_homophones_share_trade_pinyin():
    names = ["营口鑫达贸易有限公司", "营口新达贸易有限公司", "营口欣达贸易有限公司"]
    parsed = [parse_enterprise_name(n) for n in names]
    assert {p.trade_pinyin for p in parsed} == {"xinda"}
    assert len({p.key for p in parsed}) == 3       # the key stays exact
    assert pinyin_key("华") == pinyin_key("花") == "hua"


def test_clean_text():
    assert clean_text("營口 鑫達（中國）ＡＢＣ") == "营口鑫达(中国)ABC"
    assert clean_text(None) == "" and clean_text("") == ""


def test_parse_never_fails_on_odd_input():
    for raw in ["", "有限公司", "(营口)", "分公司", "a", "（）", "营口"]:
        assert isinstance(parse_enterprise_name(raw), EnterpriseName)


@pytest.mark.parametrize("raw", ["阿不都·热合曼", "阿不都•热合曼", "阿不都・热合曼", "阿不都･热合曼",
                                 "阿不都‧热合曼", "阿不都 · 热合曼", "阿不都.热合曼", "阿不都·熱合曼"])
def test_minority_names_share_clean(raw):
    p = normalize_person_name(raw)
    # per-character readings: 都 reads 'dou' here, the same in every variant
    assert p.clean == "阿不都·热合曼" and p.pinyin == "abudoureheman"


def test_person_names():
    assert normalize_person_name("張 偉") == PersonName("張 偉", "张伟", "zhangwei")
    assert normalize_person_name(None) == PersonName("", "", "")
    assert normalize_person_name("ｊｏｈｎ smith").clean == "JOHNSMITH"


# -- traditional -> simplified, character by character -----------------------------------------

SURNAMES = yaml.safe_load((Path(names.__file__).parent / "data" / "surnames.yaml").read_text(encoding="utf-8"))
VOCAB = load_vocab()
_S2T = opencc.OpenCC("s2t")
# Given-name characters and what each must become: the synthetic city's (simplified, so each
# stays itself), and the traps: 乾 stays 乾 (OpenCC's character table says 干), 靜 is 静 even
# after the surname 沈 (OpenCC's phrase table reads 沈靜 as 沉静), 後 -> 后, 於 -> 于, 發 -> 发.
NAME_CHARS = {**{c: c for c in VOCAB.given_chars}, "乾": "乾", "靜": "静", "後": "后", "於": "于", "發": "发"}


@pytest.mark.parametrize("raw,clean", [("沈靜", "沈静"), ("沈静", "沈静"), ("乾隆", "乾隆"), ("王乾", "王乾"),
                                       ("瀋陽", "沈阳"), ("後羿", "后羿"), ("於琳", "于琳"), ("甯浩", "甯浩")])
def test_person_names_convert_character_by_character(raw, clean):
    assert normalize_person_name(raw).clean == clean


def test_no_common_surname_or_given_name_character_changes_meaning():
    """Every surname of linkage/data/surnames.yaml before every given-name character of the
    synthetic city (and the traps above), both in traditional: each maps to its simplified form."""
    assert len(SURNAMES) >= 100
    want = {}
    for simplified, traditional in SURNAMES.items():
        for char, expected in NAME_CHARS.items():
            want[traditional + _S2T.convert(char)] = want[simplified + expected] = simplified + expected
    got = {raw: normalize_person_name(raw).clean for raw in want}
    assert len(want) > 10_000 and got == want


def test_the_synthetic_city_surnames_are_in_the_list():
    assert set(VOCAB.surnames) | set(VOCAB.compound_surnames) <= set(SURNAMES)


@pytest.mark.parametrize("traditional,simplified", [("營口沈靜貿易有限公司", "营口沈静贸易有限公司"),
                                                    ("營口乾元貿易有限公司", "营口乾元贸易有限公司"),
                                                    ("營口乾坤科技有限公司", "营口乾坤科技有限公司")])
def test_a_trade_name_reads_the_same_in_both_scripts(traditional, simplified):
    """Enterprise names run the same risk: 沈靜 in a trade name would become 沉静 in traditional only."""
    assert parse_enterprise_name(traditional).key == parse_enterprise_name(simplified).key
    assert parse_enterprise_name(traditional).trade == simplified[2:4]


def test_traditional_names_ask_opencc_once_per_character_not_once_per_name(monkeypatch):
    """The conversion is cached per character (a converter asked per name ran at ~1k names/s; the
    speed itself is benchmarks/name_parsing.py's figure, not a test's)."""
    asked = []

    class Counting:
        def convert(self, text):
            asked.append(text)
            return opencc.OpenCC("t2s").convert(text)

    monkeypatch.setattr(names, "_T2S", Counting())
    monkeypatch.setattr(names, "_SIMPLIFIED", names._Simplified(""))
    raws = [a + b + c for a in "王李張劉陳楊黃趙吳周" for b in "偉芳娜敏靜麗強磊軍洋" for c in "勇艷傑娟濤明超霞平剛"]
    converted = [names.to_simplified(raw) for raw in raws * 2]
    assert len(raws) == 1000 and converted[0] == "王伟勇" and converted[1000] == converted[0]
    assert sorted(asked) == sorted(set("".join(raws)))  # 30 characters, each asked once


def test_pinyin_key_cached_and_consistent():
    assert pinyin_key("鑫达") == "xinda"
    assert pinyin_key("银行") == pinyin_key("银") + pinyin_key("行")   # no phrase readings
    hits = pinyin_key.cache_info().hits
    assert pinyin_key("鑫达") == "xinda"               # asked again: answered from the cache
    assert pinyin_key.cache_info().hits == hits + 1


