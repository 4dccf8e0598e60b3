"""Values as a reader sees them: amounts as Chinese reads them, ages that do not round a day away."""

from __future__ import annotations

import pytest

from app.engine.facts import fact_specs
from app.engine.formatting import field_labels, format_fact, format_number, possible_values
from app.engine.tables import load_tables

TABLES = load_tables()


@pytest.mark.parametrize(("yuan", "zh", "en"), [
    (8_000_000_000, "80亿元", "8,000,000,000 yuan"),
    (200_000_000, "2亿元", "200,000,000 yuan"),
    (250_000_000, "2.5亿元", "250,000,000 yuan"),
    (12_500_000, "1,250万元", "12,500,000 yuan"),
    (30_000, "3万元", "30,000 yuan"),
    (800, "800元", "800 yuan"),
    (123_456_789, "12,345.6789万元", "123,456,789 yuan"),  # exact to the yuan
    (100_000_000, "1亿元", "100,000,000 yuan"),
    (100_005_000, "10,000.5万元", "100,005,000 yuan"),  # 亿 only for whole 万
    (10_000, "1万元", "10,000 yuan"),
    (9_999, "9,999元", "9,999 yuan"),
    (1_234.5, "1,234.5元", "1,234.5 yuan"),
    (1e15, "10,000,000亿元", "1,000,000,000,000,000 yuan"),  # the most a profile may state
    (12_345.67, "1.2346万元", "12,345.67 yuan"),  # 万元 to the yuan
    (0.567, "0.57元", "0.57 yuan"),  # 元 to the fen
])
def test_money_reads_as_chinese_writes_it(yuan: float, zh: str, en: str) -> None:
    assert format_number(yuan, "yuan", "zh") == zh
    assert format_number(yuan, "yuan", "en") == en


@pytest.mark.parametrize(("value", "unit", "zh", "en"), [
    (0.035, "ratio", "3.5%", "3.5%"), (0.1, "ratio", "10%", "10%"), (1 / 3, "ratio", "33.33%", "33.33%"),
    (1_234, "persons", "1,234人", "1,234 people"), (1_500, "count", "1,500", "1,500"), (2.5, None, "2.5", "2.5"),
])
def test_shares_headcounts_and_counts_read_in_their_units(value: float, unit: str | None, zh: str, en: str) -> None:
    assert (format_number(value, unit, "zh"), format_number(value, unit, "en")) == (zh, en)


@pytest.mark.parametrize(("years", "zh", "en"), [
    (10.0, "10年", "10 years"),
    (1.0, "1年", "1 year"),
    (10 + 1 / 365, "10年零1天", "10 years and 1 day"),
    (10.26, "10年3个月", "10 years 3 months"),
    (10 + 11.5 / 12, "10年11个月", "10 years 11 months"),
    (1.5, "1年6个月", "1 year 6 months"),
    (10 + 1 / 12 + 0.001, "10年1个月", "10 years 1 month"),
    (10 + 1.5 / 365, "10年零2天", "10 years and 2 days"),
    (2.0, "2年", "2 years"),
])
def test_an_age_past_its_anniversary_does_not_read_as_the_anniversary(years: float, zh: str, en: str) -> None:
    assert format_number(years, "years", "zh") == zh
    assert format_number(years, "years", "en") == en


@pytest.mark.parametrize(("open_classes", "zh", "en"), [
    ({"small", "micro"}, "微型企业或小型企业", "Micro or Small"),
    ({"medium", "small", "micro"}, "微型企业、小型企业或中型企业", "Micro, Small or Medium"),  # smallest first
    ({"large", "medium", "small", "micro"}, "未知", "unknown"),  # every class open: nothing is known
])
def test_the_size_classes_a_profile_leaves_open_read_as_a_choice(open_classes: set[str], zh: str, en: str) -> None:
    size_class = fact_specs(TABLES)["size_class"]
    assert possible_values(size_class, frozenset(open_classes), "zh", TABLES) == zh
    assert possible_values(size_class, frozenset(open_classes), "en", TABLES) == en


def test_missing_fields_are_named_by_their_labels() -> None:
    assert field_labels(["employees", "annual_revenue"], "zh", TABLES) == "从业人员数、营业收入"
    assert field_labels(["employees", "annual_revenue"], "en", TABLES) == "Employees, Annual revenue"
    assert (field_labels([], "zh", TABLES), field_labels([], "en", TABLES)) == ("无", "none")


@pytest.mark.parametrize(("fact", "value", "zh", "en"), [
    ("employees", 80, "80人", "80 people"),
    ("above_quota", True, "是", "yes"),
    ("above_quota", False, "否", "no"),
    ("entity_type", "individual_business", "个体工商户", "Individual business"),
    ("size_class", frozenset({"micro", "small"}), "微型企业或小型企业", "Micro or Small"),
    ("certifications", ["high_tech_enterprise", "little_giant"], "高新技术企业、专精特新“小巨人”企业",
     "High-tech enterprise, \"Little giant\" enterprise"),
    ("certifications", [], "无", "none"),
    ("clusters", ["semiconductors_ic"], "半导体与集成电路", "Semiconductors and integrated circuits"),
    ("region", "320583", "江苏省苏州市昆山市", "Kunshan, Suzhou, Jiangsu"),
    ("industry", "C3911", "C3911 计算机整机制造", "C3911 Manufacture of complete computers"),
    ("entity_type", None, "未知", "unknown"),
    ("listing_status", "preparing", "筹备上市", "Preparing to list"),
    ("industry_group", "software_it", "软件和信息技术服务业", "Software and IT services"),
])
def test_a_fact_reads_as_its_label_in_each_language(fact: str, value: object, zh: str, en: str) -> None:
    spec = fact_specs(TABLES)[fact]  # built here: a module constant would be computed before the code under test
    assert (format_fact(spec, value, "zh", TABLES), format_fact(spec, value, "en", TABLES)) == (zh, en)
