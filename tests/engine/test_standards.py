"""The standard tables in app/engine/standards load and hold what domain.md and contract.md say."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import yaml

STANDARDS = Path(__file__).resolve().parents[2] / "app" / "engine" / "standards"

# contract.md
ACTIVITIES = [
    "manufacturing_export", "ecommerce_platform", "trade_service_provider", "overseas_warehouse",
    "own_domestic_online_store", "domestic_direct_store", "san_tong_products", "commodity_market_operator",
    "business_district_operator", "service_trade", "importer", "trade_fair_exhibitor", "car_dealer",
    "voucher_programme", "catering", "night_economy_zone", "township_commerce_centre", "logistics_delivery",
    "rural_ecommerce", "digital_commerce", "retail", "industrial_park_tenant",
]
CERTIFICATIONS = [
    "high_tech_enterprise", "tech_sme", "innovative_sme", "specialised_sme", "little_giant", "single_champion",
]
PROFILE_FIELDS = [
    "name", "credit_code", "region_code", "industry_code", "entity_type", "founded_on", "employees",
    "annual_revenue", "main_business_revenue", "total_assets", "rd_expense", "rd_staff", "export_revenue",
    "import_value", "invention_patents", "valuation", "listing_status", "certifications", "clusters", "activities",
]
DERIVED_FACTS = [
    "region", "industry", "company_age_years", "size_class", "industry_group", "above_designated_size",
    "above_quota", "designated_size_line", "rd_intensity", "rd_staff_share", "export_share",
    "main_business_share", "domestic_revenue",
]
SIZE_GROUPS = [
    "agriculture", "industry", "construction", "wholesale", "retail", "transport", "warehousing", "postal",
    "accommodation", "catering", "information_transmission", "software_it", "real_estate_development",
    "property_management", "leasing_business_services", "other",
]
# domain.md §14
CLUSTER_IDS = [
    "network_communications", "semiconductors_ic", "uhd_video_display", "smart_terminals", "smart_sensors",
    "software_information_services", "digital_creative", "modern_fashion", "machine_tools", "intelligent_robots",
    "laser_additive_manufacturing", "precision_instruments", "new_energy", "safety_energy_saving_environmental",
    "intelligent_connected_vehicles", "new_materials", "high_end_medical_devices", "biomedicine", "health",
    "marine_industry", "synthetic_biology", "blockchain", "cell_gene", "aerospace", "brain_science",
    "deep_earth_deep_sea", "optical_communication_computing", "quantum_information",
]
WAN = 10_000  # 1万元 in yuan


def read_csv(name: str) -> list[dict[str, str]]:
    with (STANDARDS / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


def read_yaml(name: str):
    return yaml.safe_load((STANDARDS / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def regions() -> dict[str, dict[str, str]]:
    rows = read_csv("regions.csv")
    codes = [row["code"] for row in rows]
    assert len(codes) == len(set(codes)), "region codes must be unique"
    return {row["code"]: row for row in rows}


@pytest.fixture(scope="module")
def industries() -> dict[str, dict[str, str]]:
    rows = read_csv("industries.csv")
    codes = [row["code"] for row in rows]
    assert len(codes) == len(set(codes)), "industry codes must be unique"
    return {row["code"]: row for row in rows}


@pytest.fixture(scope="module")
def sme() -> dict:
    return read_yaml("sme_size.yaml")


def group(sme: dict, group_id: str) -> dict:
    return next(g for g in sme["groups"] if g["id"] == group_id)


# --- regions ---------------------------------------------------------------------------------------------


def test_region_columns_and_codes(regions):
    assert set(next(iter(regions.values()))) == {"code", "name_zh", "name_en", "parent"}
    for code, row in regions.items():
        assert re.fullmatch(r"\d{6}", code), code
        assert row["name_zh"], code
        if row["name_zh"] not in ("市辖区", "县"):
            assert row["name_en"], code


def test_every_region_parent_exists_and_is_coarser(regions):
    for code, row in regions.items():
        parent = row["parent"]
        if not parent:
            assert code.endswith("0000"), f"{code} has no parent but is not a province"
            continue
        assert parent in regions, f"{code}: parent {parent} missing"
        assert parent[:2] == code[:2], code
        assert parent.endswith("00") and parent != code


def test_region_counts(regions):
    provinces = [c for c, r in regions.items() if not r["parent"]]
    assert len(provinces) == 34
    assert len(regions) > 3000


def test_shenzhen_districts(regions):
    assert regions["440300"]["name_zh"] == "深圳市" and regions["440300"]["parent"] == "440000"
    for code in range(440303, 440312):
        assert regions[str(code)]["parent"] == "440300", code
    assert regions["440305"]["name_zh"] == "南山区"
    assert regions["440305"]["name_en"] == "Nanshan District"


def test_domain_section_7_codes(regions):
    expected = {
        "440000": "广东省", "440300": "深圳市", "440303": "罗湖区", "440304": "福田区", "440305": "南山区",
        "440306": "宝安区", "440307": "龙岗区", "440308": "盐田区", "440309": "龙华区", "440310": "坪山区",
        "440311": "光明区", "320000": "江苏省", "320100": "南京市", "320200": "无锡市", "320300": "徐州市",
        "320400": "常州市", "320500": "苏州市", "320600": "南通市", "320700": "连云港市", "320800": "淮安市",
        "320900": "盐城市", "321000": "扬州市", "321100": "镇江市", "321200": "泰州市", "321300": "宿迁市",
        "320583": "昆山市", "320826": "涟水县", "360000": "江西省", "360100": "南昌市", "360200": "景德镇市",
        "360300": "萍乡市", "360400": "九江市", "360500": "新余市", "360600": "鹰潭市", "360700": "赣州市",
        "360800": "吉安市", "360900": "宜春市", "361000": "抚州市", "361100": "上饶市", "140000": "山西省",
        "140100": "太原市", "140105": "小店区", "140106": "迎泽区", "140107": "杏花岭区", "140108": "尖草坪区",
        "140109": "万柏林区", "140110": "晋源区", "140121": "清徐县", "140122": "阳曲县", "140123": "娄烦县",
        "140181": "古交市", "330000": "浙江省", "330100": "杭州市", "330112": "临安区", "310000": "上海市",
        "310100": "市辖区", "310115": "浦东新区", "310151": "崇明区",
    }
    for code, name in expected.items():
        assert regions[code]["name_zh"] == name, code


def test_english_names(regions):
    assert regions["320583"]["name_en"] == "Kunshan"
    assert regions["330112"]["name_en"] == "Lin'an District"
    assert regions["440000"]["name_en"] == "Guangdong"
    assert regions["320500"]["name_en"] == "Suzhou"


def test_municipality_districts_hang_under_shixiaqu(regions):
    for province in ("110000", "120000", "310000", "500000"):
        assert regions[province[:2] + "0100"]["parent"] == province
    assert regions["310115"]["parent"] == "310100"
    assert regions["110105"]["parent"] == "110100"
    assert regions["500229"]["parent"] == "500200"  # Chongqing's counties under 县


def test_retired_codes(regions):
    rows = read_csv("regions_retired.csv")
    retired = {row["code"]: row["successor"] for row in rows}
    assert len(retired) == len(rows)
    assert retired["330185"] == "330112"
    assert retired["320584"] == "320509"
    assert retired["310230"] == "310151"
    for code, successor in retired.items():
        assert re.fullmatch(r"\d{6}", code)
        assert code not in regions, f"{code} is retired but still current"
        assert successor in regions, f"{code}: successor {successor} is not a current code"
    assert {row["basis"] for row in rows} <= {"name", "prefecture", "manual"}


# --- industries ------------------------------------------------------------------------------------------


def test_industry_levels_and_parents(industries):
    shapes = {"section": r"[A-T]", "division": r"[A-T]\d{2}", "group": r"[A-T]\d{3}", "class": r"[A-T]\d{4}"}
    parent_level = {"division": "section", "group": "division", "class": "group"}
    for code, row in industries.items():
        assert re.fullmatch(shapes[row["level"]], code), code
        assert row["name_zh"], code
        if row["level"] == "section":
            assert row["parent"] == ""
        else:
            parent = industries[row["parent"]]
            assert parent["level"] == parent_level[row["level"]], code
            assert code.startswith(parent["code"]), code
        if row["level"] in ("section", "division"):
            assert row["name_en"], code


def test_industry_counts(industries):
    levels = [row["level"] for row in industries.values()]
    assert levels.count("section") == 20
    assert levels.count("division") == 97
    assert levels.count("group") == 473
    assert 1380 <= levels.count("class") <= 1382  # published counts differ by amendment (SOURCES.md)


def test_divisions_match_domain(industries):
    assert industries["C25"]["name_zh"] == "石油、煤炭及其他燃料加工业"
    assert industries["E50"]["name_zh"] == "建筑装饰、装修和其他建筑业"
    assert industries["C39"]["name_zh"] == "计算机、通信和其他电子设备制造业"
    sections = {"A": (1, 5), "C": (13, 43), "G": (53, 60), "I": (63, 65), "K": (70, 70), "S": (91, 96)}
    for letter, (low, high) in sections.items():
        for number in range(low, high + 1):
            assert industries[f"{letter}{number:02d}"]["parent"] == letter


@pytest.mark.parametrize(
    "code,name",
    [
        ("C3831", "电线、电缆制造"), ("C3982", "电子电路制造"), ("F5292", "互联网零售"),
        ("I6432", "互联网生活服务平台"), ("G6020", "快递服务"), ("K7010", "房地产开发经营"),
        ("K7020", "物业管理"), ("C3911", "计算机整机制造"), ("F5261", "汽车新车零售"), ("I6513", "应用软件开发"),
        ("G5910", "装卸搬运"), ("H6210", "正餐服务"),
    ],
)
def test_classes_used_by_domain_and_contract(industries, code, name):
    assert industries[code]["name_zh"] == name
    assert industries[code]["level"] == "class"


# --- SME size --------------------------------------------------------------------------------------------


def test_sme_shape(sme):
    assert sme["standard"]["id"] == "sme-2011"
    assert str(sme["standard"]["effective_from"]) == "2011-06-18"
    assert [g["id"] for g in sme["groups"]] == SIZE_GROUPS
    for g in sme["groups"]:
        assert set(g["name"]) == {"zh", "en"}
        for tier in ("large", "medium", "small"):
            assert set(g[tier]) <= {"employees", "revenue", "total_assets"}
            assert g[tier], (g["id"], tier)
        # every metric is monotone: large >= medium >= small
        for metric, bound in g["large"].items():
            assert bound >= g["medium"][metric] >= g["small"][metric], (g["id"], metric)
        if any("revenue" in g[tier] for tier in ("large", "medium", "small")):
            assert g["revenue_source"], g["id"]
    assert [g["id"] for g in sme["groups"] if not g["scope"]] == ["other"]


@pytest.mark.parametrize(
    "group_id,large,medium,small",
    [
        ("agriculture", {"revenue": 20000 * WAN}, {"revenue": 500 * WAN}, {"revenue": 50 * WAN}),
        ("industry", {"employees": 1000, "revenue": 40000 * WAN}, {"employees": 300, "revenue": 2000 * WAN},
         {"employees": 20, "revenue": 300 * WAN}),
        ("construction", {"revenue": 80000 * WAN, "total_assets": 80000 * WAN},
         {"revenue": 6000 * WAN, "total_assets": 5000 * WAN}, {"revenue": 300 * WAN, "total_assets": 300 * WAN}),
        ("wholesale", {"employees": 200, "revenue": 40000 * WAN}, {"employees": 20, "revenue": 5000 * WAN},
         {"employees": 5, "revenue": 1000 * WAN}),
        ("retail", {"employees": 300, "revenue": 20000 * WAN}, {"employees": 50, "revenue": 500 * WAN},
         {"employees": 10, "revenue": 100 * WAN}),
        ("transport", {"employees": 1000, "revenue": 30000 * WAN}, {"employees": 300, "revenue": 3000 * WAN},
         {"employees": 20, "revenue": 200 * WAN}),
        ("warehousing", {"employees": 200, "revenue": 30000 * WAN}, {"employees": 100, "revenue": 1000 * WAN},
         {"employees": 20, "revenue": 100 * WAN}),
        ("postal", {"employees": 1000, "revenue": 30000 * WAN}, {"employees": 300, "revenue": 2000 * WAN},
         {"employees": 20, "revenue": 100 * WAN}),
        ("accommodation", {"employees": 300, "revenue": 10000 * WAN}, {"employees": 100, "revenue": 2000 * WAN},
         {"employees": 10, "revenue": 100 * WAN}),
        ("catering", {"employees": 300, "revenue": 10000 * WAN}, {"employees": 100, "revenue": 2000 * WAN},
         {"employees": 10, "revenue": 100 * WAN}),
        ("information_transmission", {"employees": 2000, "revenue": 100000 * WAN},
         {"employees": 100, "revenue": 1000 * WAN}, {"employees": 10, "revenue": 100 * WAN}),
        ("software_it", {"employees": 300, "revenue": 10000 * WAN}, {"employees": 100, "revenue": 1000 * WAN},
         {"employees": 10, "revenue": 50 * WAN}),
        ("real_estate_development", {"revenue": 200000 * WAN, "total_assets": 10000 * WAN},
         {"revenue": 1000 * WAN, "total_assets": 5000 * WAN}, {"revenue": 100 * WAN, "total_assets": 2000 * WAN}),
        ("property_management", {"employees": 1000, "revenue": 5000 * WAN},
         {"employees": 300, "revenue": 1000 * WAN}, {"employees": 100, "revenue": 500 * WAN}),
        ("leasing_business_services", {"employees": 300, "total_assets": 120000 * WAN},
         {"employees": 100, "total_assets": 8000 * WAN}, {"employees": 10, "total_assets": 100 * WAN}),
        ("other", {"employees": 300}, {"employees": 100}, {"employees": 10}),
    ],
)
def test_sme_thresholds_match_domain_table(sme, group_id, large, medium, small):
    g = group(sme, group_id)
    assert (g["large"], g["medium"], g["small"]) == (large, medium, small)


def test_sme_scopes(sme, industries):
    assert group(sme, "industry")["scope"] == ["B", "C", "D"]
    assert group(sme, "transport")["exclude"] == ["G53"]
    assert group(sme, "real_estate_development")["scope"] == ["K701"]
    assert group(sme, "industry")["revenue_source"] == ["annual_revenue"]  # 300号 writes 营业收入 for every group
    assert group(sme, "construction")["revenue_source"] == ["annual_revenue"]
    assert group(sme, "retail")["revenue_source"] == ["annual_revenue"]
    for g in sme["groups"]:
        for prefix in g["scope"] + g["exclude"]:
            assert prefix in industries, (g["id"], prefix)


# --- statistical lines -----------------------------------------------------------------------------------


def test_statistical_lines(industries):
    doc = read_yaml("statistical_lines.yaml")
    assert doc["standard"]["id"] == "nbs-lines-2011"
    lines = {line["id"]: line for line in doc["lines"]}
    expected = {
        "industry": ("designated_size", ["B", "C", "D"], 2000 * WAN),
        "wholesale": ("quota", ["F51"], 2000 * WAN),
        "retail": ("quota", ["F52"], 500 * WAN),
        "accommodation": ("quota", ["H61"], 200 * WAN),
        "catering": ("quota", ["H62"], 200 * WAN),
        "construction": ("designated_size", ["E"], None),
        "real_estate_development": ("designated_size", ["K701"], None),
    }
    for line_id, (kind, scope, minimum) in expected.items():
        line = lines[line_id]
        assert (line["kind"], line["scope"], line["min_revenue"]) == (kind, scope, minimum), line_id
    service_minimums = sorted(
        line["min_revenue"] for line in lines.values() if line["id"].startswith("services_")
    )
    assert service_minimums == [500 * WAN, 1000 * WAN, 2000 * WAN]
    for line in lines.values():
        assert line["confidence"] in ("V", "M")
        assert set(line["name"]) == {"zh", "en"}
        for prefix in line["scope"] + line["exclude"]:
            assert prefix in industries, (line["id"], prefix)
    # No prefix is claimed by two lines.
    prefixes = [prefix for line in lines.values() for prefix in line["scope"]]
    assert len(prefixes) == len(set(prefixes))


# --- clusters and vocabulary -----------------------------------------------------------------------------


def test_clusters():
    doc = read_yaml("clusters.yaml")
    assert "深府〔2022〕1号" in doc["document"]["zh"]
    ids = [entry["id"] for entry in doc["clusters"]]
    assert ids == CLUSTER_IDS
    kinds = [entry["kind"] for entry in doc["clusters"]]
    assert kinds.count("cluster") == 20 and kinds.count("future_industry") == 8
    for entry in doc["clusters"]:
        assert set(entry["name"]) == {"zh", "en"}
        if entry["kind"] == "cluster":
            assert set(entry["area"]) == {"zh", "en"}


def test_vocabulary_covers_contract():
    vocabulary = read_yaml("vocabulary.yaml")
    fields = vocabulary["fields"]
    for name in PROFILE_FIELDS + DERIVED_FACTS:
        assert fields[name]["zh"] and fields[name]["en"], name
    for name in PROFILE_FIELDS:
        if "help" in fields[name]:
            assert set(fields[name]["help"]) == {"zh", "en"}
    values = vocabulary["values"]
    expected = {
        "activities": ACTIVITIES,
        "certifications": CERTIFICATIONS,
        "entity_type": ["enterprise", "individual_business"],
        "listing_status": ["unlisted", "preparing", "listed"],
        "size_class": ["micro", "small", "medium", "large"],
        "industry_group": SIZE_GROUPS,
        "status": ["eligible", "ineligible", "needs_info"],
        "criterion_status": ["met", "not_met", "unknown"],
        "benefit_kind": ["loan", "fund", "subsidy", "voucher", "status", "space", "service"],
    }
    for kind, ids in expected.items():
        assert sorted(values[kind]) == sorted(ids), kind
        for value_id in ids:
            assert set(values[kind][value_id]) == {"zh", "en"}, (kind, value_id)
    assert values["certifications"]["high_tech_enterprise"]["zh"] == "高新技术企业"
    assert values["entity_type"]["individual_business"]["zh"] == "个体工商户"


def test_sources_document_every_table():
    sources = (STANDARDS / "SOURCES.md").read_text(encoding="utf-8")
    for name in ("regions.csv", "regions_retired.csv", "industries.csv", "sme_size.yaml",
                 "statistical_lines.yaml", "clusters.yaml", "vocabulary.yaml"):
        assert name in sources, name
