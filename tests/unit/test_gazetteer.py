"""The enterprise-name parser's division gazetteer: the national table (GB/T 2260, from
python-stdnum), not a hand list of the default city's region (issue 10). Fixtures are names a
营口 export holds: firms of the city, and firms registered in other provinces."""
from __future__ import annotations

import pytest

from creditgraph.linkage.names import parse_enterprise_name


@pytest.mark.parametrize("written", [
    "四川省瑜屹食品有限公司", "四川瑜屹食品有限公司", "瑜屹食品(四川)有限公司", "绵阳市瑜屹食品有限公司",
    "四川省绵阳市涪城区瑜屹食品有限公司", "瑜屹食品有限公司",
])
def test_a_firm_of_another_province_keeps_its_name_whatever_division_is_written(written):
    # The defect: the hand list knew no 四川, so 四川省瑜屹食品 and 瑜屹食品 were two names. The
    # name comparison reads `core`; the division is a field of its own (compared apart).
    e = parse_enterprise_name(written)
    assert (e.trade, e.industry, e.core, e.form) == ("瑜屹", "食品", "瑜屹食品", "有限公司")


def test_province_written_in_full_or_short_gives_one_key():
    assert parse_enterprise_name("四川省瑜屹食品有限公司").key == parse_enterprise_name("四川瑜屹食品有限公司").key \
        == "四川|瑜屹食品|有限公司|"


@pytest.mark.parametrize("written, division", [
    ("四川省绵阳市涪城区瑜屹食品有限公司", "涪城"),     # the deepest, by the code's structure
    ("瑜屹食品(四川绵阳)有限公司", "绵阳"),
    ("四川瑜屹食品(绵阳)有限公司", "绵阳"),
    ("延边朝鲜族自治州鑫达贸易有限公司", "延边"),       # nationalities leave the short form
    ("延边鑫达贸易有限公司", "延边"),
    ("新疆维吾尔自治区鑫达贸易有限公司", "新疆"),
    ("黔东南苗族侗族自治州鑫达贸易有限公司", "黔东南"),
    ("內蒙古鑫達貿易有限公司", "内蒙古"),                # traditional characters
    ("香港特別行政區鑫达贸易有限公司", "香港"),
    ("上海市浦东新区鑫达贸易有限公司", "浦东"),
    ("旅大市鑫达贸易有限公司", "旅大"),                 # a former city (大连 before 1981), in full
    ("盖州鑫达贸易有限公司", "盖州"),                   # the home city's counties, short
    ("鲅鱼圈鑫达贸易有限公司", "鲅鱼圈"),
    ("陕西省西安市长安区鑫达贸易有限公司", "长安"),
    ("陕西西安长安鑫达贸易有限公司", "长安"),           # a county's short form after its city
    ("北京朝阳鑫达贸易有限公司", "朝阳"),
])
def test_divisions_of_the_whole_country(written, division):
    e = parse_enterprise_name(written)
    assert (e.division, e.core) == (division, "鑫达贸易" if "瑜屹" not in written else "瑜屹食品")


@pytest.mark.parametrize("written, trade", [
    ("朝阳商贸有限公司", "朝阳"),          # 朝阳市 (Liaoning), but only an industry word would remain
    ("长安鑫达贸易有限公司", "长安鑫达"),  # 长安区 is a county of 西安, not of 营口: a trade name here
    ("东城鑫达贸易有限公司", "东城鑫达"),
    ("城关鑫达贸易有限公司", "城关鑫达"),
    ("营口长安鑫达贸易有限公司", "长安鑫达"),  # not after 营口 either: 长安 is no county of it
    ("城区鑫达贸易有限公司", "城区鑫达"),   # 城区: a placeholder-like name, one character of stem
    ("市辖区鑫达贸易有限公司", "市辖区鑫达"),
])
def test_trade_names_that_spell_a_division_stay_trade_names(written, trade):
    e = parse_enterprise_name(written)
    assert e.trade == trade
    assert e.division in (None, "营口")


def test_a_market_firm_is_not_cut_after_a_city_ending_in_shi():
    e = parse_enterprise_name("东方市场服务有限公司")   # 东方市 is a county-level city of Hainan
    assert (e.division, e.trade) == (None, "东方市场服务")


def test_a_bare_division_is_a_name():
    assert parse_enterprise_name("四川").trade == "四川"
    assert parse_enterprise_name("四川").division is None
