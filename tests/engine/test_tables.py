"""The standard tables as a user meets them: finding an industry by a word or a code, the names and
levels of regions in a list of choices, and the tables read from their files (comments skipped, the
version following the content)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from app.engine.tables import STANDARDS_DIR, Industry, load_tables, region_prefix
from tests.helpers import ascii_locale

TABLES = load_tables()


@pytest.mark.parametrize(("text", "found"), [
    ("计算机整机", ["C3911"]),
    ("  计算机整机制造 ", ["C3911"]),  # an exact name: that industry alone
    ("其他农业", ["A0190"]),  # the group 其他农业 (A019) is named like its only class: the class alone
    ("other agriculture", ["A0190"]),  # English, any case
    ("A019", ["A0190"]),
    ("（3d）打印", ["M7517"]),  # 三维（3D）打印技术推广服务: Latin letters in a Chinese name, any case
])
def test_an_industry_is_found_by_its_name_or_code(text: str, found: list[str]) -> None:
    assert TABLES.find_industries(text) == found


def test_a_word_finds_classes_first_then_groups_then_divisions() -> None:
    found = TABLES.find_industries("computers")
    assert found[:3] == ["C3911", "C3914", "C3919"] and found[-3:] == ["C391", "O812", "C39"]
    assert [len(code) for code in found] == sorted((len(code) for code in found), reverse=True)
    assert TABLES.find_industries("f526") == [*(f"F526{n}" for n in range(1, 8)), "F526"]  # a code, any case


def test_a_search_is_cut_at_its_limit_and_a_blank_one_finds_nothing() -> None:
    assert len(TABLES.find_industries("制造")) == 30
    assert TABLES.find_industries("制造", limit=3) == TABLES.find_industries("制造")[:3]
    assert TABLES.find_industries("   ") == []


@pytest.mark.parametrize(("text", "resolved"), [
    ("C3911", ("C3911", [])),
    ("c3911 计算机整机制造", ("C3911", [])),  # a code with its name, as the form shows it
    ("计算机整机制造", ("C3911", [])),  # a name that finds one industry
    ("C9999", (None, [])),  # no such code, and no name holds it
    ("growing of cotton", ("A0131", [])),  # an exact English name, though another name holds it too
])
def test_an_entered_industry_resolves_to_its_code(text: str, resolved: tuple) -> None:
    assert TABLES.resolve_industry(text) == resolved


def test_an_ambiguous_word_offers_the_candidates() -> None:
    code, candidates = TABLES.resolve_industry("计算机")
    assert code is None and candidates[:3] == ["C3911", "C3912", "C3913"]


def test_industry_labels_lead_with_the_code() -> None:
    assert TABLES.industry_label("C3911", "zh") == "C3911 计算机整机制造"
    assert TABLES.industry_label("C3911", "en") == "C3911 Manufacture of complete computers"
    assert TABLES.industry_label("C", "en") == "C Manufacturing"


def test_an_industry_without_an_english_name_borrows_its_nearest_ancestors() -> None:
    unnamed = dataclasses.replace(TABLES.industries["C3911"], name_en="")
    tables = dataclasses.replace(TABLES, industries={**TABLES.industries, "C3911": unnamed})
    assert isinstance(unnamed, Industry)
    assert tables.industry_label("C3911", "en") == "C3911 计算机整机制造 (Manufacture of computers)"
    assert tables.industry_label("C3911", "zh") == "C3911 计算机整机制造"


# GB/T 4754-2017 classes and where the 2011 SME standard and the 规上/限上 lines place them.
SECTOR_PLACES = [
    ("A0111", "agriculture", None),  # no 规上 line for agriculture
    ("C3911", "industry", "industry"),
    ("G5311", "other", "services_transport_it_environment"),  # railway: outside transport's size group
    ("G5411", "transport", "services_transport_it_environment"),
    ("G5910", "transport", "services_transport_it_environment"),  # 装卸搬运 (591): not warehousing
    ("G5920", "warehousing", "services_transport_it_environment"),
    ("G6010", "postal", "services_transport_it_environment"),
    ("I6511", "software_it", "services_transport_it_environment"),
    ("K7010", "real_estate_development", "real_estate_development"),
    ("K7020", "property_management", "services_business_tech_education_property"),
    ("K7090", "other", "services_business_tech_education_property"),
    ("J6621", "other", None),  # banking: no size group of its own, no 规上 line
]


def test_an_industry_takes_the_most_specific_size_group_and_statistical_line() -> None:
    """The longest matching prefix wins and a group's exclusions leave it; tables read afresh, since
    both lookups are kept per code once made."""
    tables = load_tables.__wrapped__()
    placed = [(code, tables.size_group_for(code).id, getattr(tables.line_for(code), "id", None))
              for code, _, _ in SECTOR_PLACES]
    assert placed == SECTOR_PLACES


def test_where_an_industry_is_placed_does_not_depend_on_the_order_of_the_groups_in_the_file() -> None:
    tables = load_tables.__wrapped__()
    shuffled = dataclasses.replace(tables, size_groups=tuple(reversed(tables.size_groups)),
                                   statistical_lines=tuple(reversed(tables.statistical_lines)),
                                   _size_group_of={}, _line_of={})
    placed = [(code, shuffled.size_group_for(code).id, getattr(shuffled.line_for(code), "id", None))
              for code, _, _ in SECTOR_PLACES]
    assert placed == SECTOR_PLACES


@pytest.mark.parametrize(("code", "zh", "en", "level"), [
    ("110000", "北京市", "Beijing", "province"),
    ("110100", "北京市市辖区", "Beijing (districts)", "city"),  # a municipality's districts, as a city
    ("500200", "重庆市所辖县", "Chongqing (counties)", "city"),
    ("110101", "东城区", "Dongcheng District", "county"),
    ("320583", "昆山市", "Kunshan", "county"),
])
def test_a_region_in_a_list_of_choices(code: str, zh: str, en: str, level: str) -> None:
    assert (TABLES.region_label(code, "zh"), TABLES.region_label(code, "en"), TABLES.region_level(code)) == (zh, en, level)


@pytest.mark.parametrize(("code", "zh", "en"), [
    ("440305", "广东省深圳市南山区", "Nanshan District, Shenzhen, Guangdong"),
    ("110101", "北京市东城区", "Dongcheng District, Beijing"),  # the 市辖区 level is not named
    ("500229", "重庆市城口县", "Chengkou County, Chongqing"),
    ("110100", "北京市", "Beijing"),
    ("220200", "吉林省吉林市", "Jilin"),  # the city is named like its province: once in English
    ("999999", "999999", "999999"),  # not in the table: the code itself
])
def test_a_region_full_name(code: str, zh: str, en: str) -> None:
    tables = load_tables.__wrapped__()  # names are memoised per table: compose them afresh
    assert (tables.region_name(code, "zh"), tables.region_name(code, "en")) == (zh, en)
    assert (tables.region_name(code, "zh"), tables.region_name(code, "en")) == (zh, en)


@pytest.mark.parametrize(("code", "prefix"), [("440000", "44"), ("440300", "4403"), ("440305", "440305"),
                                              ("000000", ""), ("100000", "")])
def test_the_codes_under_a_region_share_its_prefix(code: str, prefix: str) -> None:
    assert region_prefix(code) == prefix
    assert all(child.startswith(prefix) for child in TABLES.region_children.get(code, ()))


def test_labels_of_values_and_fields_fall_back_to_the_id() -> None:
    assert TABLES.value_label("car_dealer", "en") == "Car dealer"
    assert TABLES.value_label("semiconductors_ic", "zh") == "半导体与集成电路"  # a cluster
    assert TABLES.value_label("no_such_value", "en") == "no_such_value"
    assert TABLES.label("fields", "employees", "en") == "Employees"
    assert TABLES.label("clusters", "semiconductors_ic", "en") == "Semiconductors and integrated circuits"
    assert TABLES.label("activities", "no_such_value", "zh") == "no_such_value"
    assert TABLES.label("clusters", "no_such_cluster", "en") == "no_such_cluster"
    assert TABLES.label("no_such_kind", "some_value", "zh") == "some_value"


def copy_of_standards(directory: Path) -> Path:
    shutil.copytree(STANDARDS_DIR, directory, ignore=shutil.ignore_patterns("tools", "*.md"))
    return directory


def test_tables_read_the_same_whatever_the_machines_locale() -> None:
    with ascii_locale():
        tables = load_tables.__wrapped__(STANDARDS_DIR)  # read afresh, not the copy read at start
    assert tables.region_name("320583", "zh") == "江苏省苏州市昆山市" and tables.version == TABLES.version
    assert tables.label("size_class", "micro", "zh") == "微型企业"


def test_tables_read_from_another_directory_skip_comments_and_change_version(tmp_path: Path) -> None:
    same = load_tables(copy_of_standards(tmp_path / "same"))
    assert (same.regions, same.region_ancestors, same.region_children) == (
        TABLES.regions, TABLES.region_ancestors, TABLES.region_children)
    assert (same.industries, same.size_groups, same.statistical_lines, same.clusters, same.vocabulary) == (
        TABLES.industries, TABLES.size_groups, TABLES.statistical_lines, TABLES.clusters, TABLES.vocabulary)
    assert same.retired_regions == TABLES.retired_regions and same.version == TABLES.version
    regions = copy_of_standards(tmp_path / "changed") / "regions.csv"
    regions.write_text(regions.read_text(encoding="utf-8").replace("昆山市,Kunshan,", "昆山市,Kunshan City,")
                       + "# a comment at the end\n", encoding="utf-8")
    changed = load_tables(regions.parent)
    assert changed.region_name("320583", "en") == "Kunshan City, Suzhou, Jiangsu"
    assert changed.version != TABLES.version and "# a comment at the end" not in changed.regions
    assert changed.region_ancestors["320583"] == frozenset({"320583", "320500", "320000"})
