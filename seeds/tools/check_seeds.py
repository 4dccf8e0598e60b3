"""Check seeds/companies.yaml: contract shape, consistency, code validity and demo coverage.

Run from the repository root with the project's interpreter (needs PyYAML):

    .venv/bin/python seeds/tools/check_seeds.py [path]

Exits 1 and lists every problem found; prints a short coverage summary otherwise.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_credit_codes as ccodes

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "companies.yaml"

# --- the public contract (shared contract.md) ----------------------------------------------------
CONTRACT_FIELDS = [
    "name", "credit_code", "region_code", "industry_code", "entity_type", "founded_on", "employees",
    "annual_revenue", "main_business_revenue", "total_assets", "rd_expense", "rd_staff",
    "export_revenue", "import_value", "invention_patents", "valuation", "listing_status",
    "certifications", "clusters", "activities",
]  # fmt: skip
COUNTS = ["employees", "rd_staff", "invention_patents"]
MONEY = [
    "annual_revenue",
    "main_business_revenue",
    "total_assets",
    "rd_expense",
    "export_revenue",
    "import_value",
    "valuation",
]
ENTITY_TYPES = {"enterprise", "individual_business"}
LISTING = {"unlisted", "preparing", "listed"}
CERTIFICATIONS = {
    "high_tech_enterprise",
    "tech_sme",
    "innovative_sme",
    "specialised_sme",
    "little_giant",
    "single_champion",
}
ACTIVITIES = {
    "manufacturing_export", "ecommerce_platform", "trade_service_provider", "overseas_warehouse",
    "own_domestic_online_store", "domestic_direct_store", "san_tong_products",
    "commodity_market_operator", "business_district_operator", "service_trade", "importer",
    "trade_fair_exhibitor", "car_dealer", "voucher_programme", "catering", "night_economy_zone",
    "township_commerce_centre", "logistics_delivery", "rural_ecommerce", "digital_commerce",
    "retail", "industrial_park_tenant",
}  # fmt: skip
# domain.md §14: Shenzhen's 20 clusters and 8 future industries (深府〔2022〕1号).
CLUSTERS = {
    "network_communications", "semiconductors_ic", "uhd_video_display", "smart_terminals",
    "smart_sensors", "software_information_services", "digital_creative", "modern_fashion",
    "machine_tools", "intelligent_robots", "laser_additive_manufacturing", "precision_instruments",
    "new_energy", "safety_energy_saving_environmental", "intelligent_connected_vehicles",
    "new_materials", "high_end_medical_devices", "biomedicine", "health", "marine_industry",
    "synthetic_biology", "blockchain", "cell_gene", "aerospace", "brain_science",
    "deep_earth_deep_sea", "optical_communication_computing", "quantum_information",
}  # fmt: skip

# --- reference tables: only the codes the seeds may use ------------------------------------------
# GB/T 2260 county-level codes, checked against the 2023 division list in
# modood/Administrative-divisions-of-China (dist/areas.csv). Mind the recent ones: 红谷滩区 (2019),
# 平城区 (2018), 梁溪区 (2015), 姑苏区 (2012): a seed there must be founded after the change.
REGIONS = {
    "110108": "北京市海淀区", "310115": "上海市浦东新区", "441900": "东莞市",
    "330106": "杭州市西湖区", "330112": "杭州市临安区",
    "440303": "深圳市罗湖区", "440304": "深圳市福田区", "440305": "深圳市南山区",
    "440306": "深圳市宝安区", "440307": "深圳市龙岗区", "440308": "深圳市盐田区",
    "440309": "深圳市龙华区", "440310": "深圳市坪山区", "440311": "深圳市光明区",
    "320104": "南京市秦淮区", "320105": "南京市建邺区", "320115": "南京市江宁区",
    "320211": "无锡市滨湖区", "320213": "无锡市梁溪区", "320281": "江阴市",
    "320303": "徐州市云龙区", "320312": "徐州市铜山区", "320411": "常州市新北区",
    "320505": "苏州市虎丘区", "320506": "苏州市吴中区", "320507": "苏州市相城区",
    "320508": "苏州市姑苏区", "320583": "昆山市", "320585": "太仓市", "320826": "涟水县",
    "320981": "东台市", "321181": "丹阳市", "321302": "宿迁市宿城区",
    "360111": "南昌市青山湖区", "361102": "上饶市信州区", "360113": "南昌市红谷滩区", "360203": "景德镇市珠山区",
    "360302": "萍乡市安源区", "360403": "九江市浔阳区", "360502": "新余市渝水区",
    "360702": "赣州市章贡区", "360703": "赣州市南康区", "360731": "于都县", "360781": "瑞金市",
    "360802": "吉安市吉州区", "360902": "宜春市袁州区", "361128": "鄱阳县", "361130": "婺源县",
    "140105": "太原市小店区", "140106": "太原市迎泽区", "140107": "太原市杏花岭区",
    "140109": "太原市万柏林区", "140213": "大同市平城区", "140728": "平遥县",
    "140802": "运城市盐湖区", "141031": "隰县",
}  # fmt: skip
# GB/T 4754-2017 classes used by the seeds (checked against a 2017 class table).
INDUSTRIES = {
    "C1373": "水果和坚果加工", "C1771": "床上用品制造", "C2110": "木质家具制造",
    "C2223": "加工纸制造", "C2438": "珠宝首饰及有关物品制造", "C2761": "生物药品制造",
    "C2762": "基因工程药物和疫苗制造", "C2770": "卫生材料及医药用品制造",
    "C3074": "日用陶瓷制品制造", "C3421": "金属切削机床制造", "C3424": "金属切割及焊接设备制造",
    "C3491": "工业机器人制造", "C3511": "矿山机械制造", "C3514": "建筑工程用机械制造",
    "C3525": "模具制造", "C3581": "医疗诊断、监护及治疗设备制造", "C3587": "眼镜制造",
    "C3591": "环境保护专用设备制造", "C3670": "汽车零部件及配件制造", "C3737": "海洋工程装备制造",
    "C3742": "航天器及运载火箭制造", "C3831": "电线、电缆制造", "C3841": "锂离子电池制造",
    "C3854": "家用厨房电器具制造", "C3913": "计算机外围设备制造", "C3922": "通信终端设备制造",
    "C3974": "显示器件制造", "C3976": "光电子器件制造", "C3982": "电子电路制造",
    "C3983": "敏感元件及传感器制造", "C3985": "电子专用材料制造", "C3989": "其他电子元件制造",
    "C4014": "实验分析仪器制造",
    "F5121": "米、面制品及食用油批发", "F5127": "酒、饮料及茶叶批发", "F5165": "建材批发",
    "F5181": "贸易代理", "F5212": "超级市场零售", "F5213": "便利店零售", "F5261": "汽车新车零售",
    "F5262": "汽车旧车零售", "F5274": "通信设备零售", "F5292": "互联网零售",
    "G5821": "货物运输代理", "G5920": "通用仓储", "G6020": "快递服务",
    "H6121": "经济型连锁酒店", "H6210": "正餐服务", "H6220": "快餐服务", "H6233": "酒吧服务",
    "H6291": "小吃服务",
    "I6431": "互联网生产服务平台", "I6432": "互联网生活服务平台", "I6513": "应用软件开发",
    "I6520": "集成电路设计", "I6572": "动漫、游戏数字内容服务",
    "L7222": "商业综合体管理服务", "L7223": "市场管理服务",
    "M7320": "工程和技术研究和试验发展", "M7340": "医学研究和试验发展", "M7491": "工业设计服务",
}  # fmt: skip
# The regions of the policy catalogue (shared policies.md); each must hold at least one seed.
CATALOGUE_REGIONS = {
    "440300": "Shenzhen", "320000": "Jiangsu", "320100": "Nanjing", "320200": "Wuxi",
    "320300": "Xuzhou", "320500": "Suzhou", "320583": "Kunshan", "360000": "Jiangxi",
    "140000": "Shanxi", "330112": "Lin'an",
}  # fmt: skip

FOUNDED_BEFORE = date(2022, 1, 1)
DEMO_AS_OF = date(2026, 6, 30)  # the "founded within 10 years" showcase is judged on this day
GUI_SHANG_INDUSTRY = 20_000_000  # 规模以上工业: main-business revenue ≥ 2000万元
QUOTA = {"F51": 20_000_000, "F52": 5_000_000, "H61": 2_000_000, "H62": 2_000_000}  # 限额以上
KEY_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
INDUSTRY_PATTERN = re.compile(r"^[A-T]\d{2,4}$")


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys."""


def _mapping(loader: StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def within(region: str, area: str) -> bool:
    """GB/T 2260: region is area itself or below it (province xx0000, city xxxx00)."""
    if area.endswith("0000"):
        return region[:2] == area[:2]
    if area.endswith("00"):
        return region[:4] == area[:4]
    return region == area


def province(c: dict) -> str:
    return c["region_code"][:2]


def known(c: dict, *fields: str) -> bool:
    return all(f in c for f in fields)


def ratio(c: dict, num: str, den: str) -> float | None:
    if known(c, num, den) and c[den]:
        return c[num] / c[den]
    return None


def check_company(c: dict, errors: list[str]) -> None:
    key = c.get("key", "?")

    def err(msg: str) -> None:
        errors.append(f"{key}: {msg}")

    extra = set(c) - set(CONTRACT_FIELDS) - {"key"}
    if extra:
        err(f"fields outside the contract: {sorted(extra)}")
    if not isinstance(c.get("key"), str) or not KEY_PATTERN.match(c["key"]):
        err("key must be kebab-case")
    # region_code is required by the contract; name and credit_code to load idempotently
    for f in ("name", "credit_code", "region_code"):
        if f not in c:
            err(f"{f} is required in the seeds (every other field may be left unknown)")
            return
    if not (isinstance(c["name"], str) and c["name"].endswith("（演示）")):
        err("name must be a string ending in （演示）")

    region = c["region_code"]
    if not (isinstance(region, str) and region in REGIONS):
        err(f"region_code {region!r} is not in the checked GB/T 2260 table")
        return
    industry = c.get("industry_code", "")
    if "industry_code" in c and not (
        isinstance(industry, str) and INDUSTRY_PATTERN.match(industry) and industry in INDUSTRIES
    ):
        err(f"industry_code {industry!r} is not in the checked GB/T 4754-2017 table")
    entity_type = c.get("entity_type")
    if "entity_type" in c and entity_type not in ENTITY_TYPES:
        err(f"entity_type {entity_type!r}")
    listing = c.get("listing_status")
    if "listing_status" in c and listing not in LISTING:
        err(f"listing_status {listing!r}")

    founded = c.get("founded_on")
    if founded is not None and not (isinstance(founded, date) and founded < FOUNDED_BEFORE):
        err(f"founded_on must be a date before {FOUNDED_BEFORE}")

    for f in COUNTS + MONEY:
        if f in c and not (type(c[f]) is int and c[f] >= 0):
            err(f"{f} must be an integer ≥ 0 (yuan for money)")
            return
    for f, allowed in (
        ("certifications", CERTIFICATIONS),
        ("clusters", CLUSTERS),
        ("activities", ACTIVITIES),
    ):
        if f in c:
            values = c[f]
            if not isinstance(values, list) or len(set(values)) != len(values):
                err(f"{f} must be a list without repeats")
            elif bad := set(values) - allowed:
                err(f"{f} has unknown ids {sorted(bad)}")

    # credit code: valid, and the code the generator assigns (checked file-wide in main)
    code = c["credit_code"]
    if not (isinstance(code, str) and ccodes.is_valid_uscc(code)):
        err(f"credit_code {code!r} fails the GB 32100 / GB 11714 checks")
    else:
        want_type = "92" if entity_type == "individual_business" else "91"
        if code[:2] != want_type and entity_type is not None:
            err(f"credit_code starts {code[:2]}, expected {want_type} for {entity_type}")
        if code[2:8] != ccodes.registration_area(region, founded):
            err(f"credit_code area {code[2:8]} != registering authority of {region}")

    # consistency of the figures
    if known(c, "export_revenue", "annual_revenue") and c["export_revenue"] > c["annual_revenue"]:
        err("export_revenue > annual_revenue")
    if (
        known(c, "main_business_revenue", "annual_revenue")
        and c["main_business_revenue"] > c["annual_revenue"]
    ):
        err("main_business_revenue > annual_revenue")
    if known(c, "rd_staff", "employees") and c["rd_staff"] > c["employees"]:
        err("rd_staff > employees")
    # a start-up may spend more on R&D, or import more equipment, than it sells, but not without means
    if known(c, "rd_expense", "annual_revenue", "total_assets") and c["rd_expense"] > max(
        c["annual_revenue"], c["total_assets"] // 2
    ):
        err("rd_expense above both revenue and half the assets")
    if known(c, "import_value", "annual_revenue", "total_assets") and c["import_value"] > max(
        c["annual_revenue"], c["total_assets"]
    ):
        err("import_value above both revenue and assets")

    clusters = c.get("clusters", [])
    if clusters and not region.startswith("4403"):
        err("clusters are for Shenzhen firms only")
    certs = set(c.get("certifications", []))
    acts = set(c.get("activities", []))
    if entity_type == "individual_business" and (
        certs or listing not in (None, "unlisted") or c.get("valuation", 0) != 0
    ):
        err("an individual business has no certifications, listing or valuation")
    if listing == "listed" and not c.get("valuation"):
        err("a listed firm needs a valuation")
    if "little_giant" in certs and "specialised_sme" not in certs:
        err("little_giant requires specialised_sme")
    if certs & {"specialised_sme", "little_giant", "innovative_sme", "tech_sme"} and is_large(c):
        err("SME certifications on a large enterprise")
    if (
        certs & {"specialised_sme", "little_giant"}
        and known(c, "rd_expense", "annual_revenue")
        and (
            c["rd_expense"] < 1_000_000
            or c["rd_expense"] < 0.03 * c["annual_revenue"]
            or c["annual_revenue"] < 10_000_000
        )
    ):
        err("专精特新 needs R&D ≥ 1,000,000 and ≥ 3% of revenue, revenue ≥ 10,000,000")
    if "high_tech_enterprise" in certs:
        share = ratio(c, "rd_staff", "employees")
        if share is not None and share < 0.10:
            err(f"高企 with R&D staff share {share:.1%} < 10%")
        intensity = ratio(c, "rd_expense", "annual_revenue")
        if intensity is not None:
            revenue = c["annual_revenue"]
            floor = 0.05 if revenue <= 50_000_000 else 0.04 if revenue <= 200_000_000 else 0.03
            if intensity < floor:
                err(f"高企 with R&D intensity {intensity:.1%} < {floor:.0%}")
    if "tech_sme" in certs and (
        c.get("employees", 0) > 500
        or c.get("annual_revenue", 0) > 200_000_000
        or c.get("total_assets", 0) > 200_000_000
    ):
        err("科技型中小企业 needs ≤ 500 staff, revenue and assets ≤ 200,000,000")
    if "voucher_programme" in acts and "car_dealer" not in acts:
        err("voucher_programme without car_dealer")
    if "manufacturing_export" in acts:
        if not industry.startswith("C"):
            err("manufacturing_export outside manufacturing (section C)")
        if c.get("export_revenue") == 0:
            err("manufacturing_export with zero export_revenue")
    if "importer" in acts and c.get("import_value") == 0:
        err("importer with zero import_value")


def is_large(c: dict) -> bool:
    """Large under 工信部联企业〔2011〕300号, for the groups the certified seeds belong to."""
    industry = c.get("industry_code", "")
    revenue = c.get("main_business_revenue", c.get("annual_revenue"))
    if "employees" not in c or revenue is None or not industry:
        return False
    if industry[0] in "BCD":
        return c["employees"] >= 1000 and revenue >= 400_000_000
    if industry.startswith("I65"):
        return c["employees"] >= 300 and revenue >= 100_000_000
    return False


def quota_line(c: dict) -> int | None:
    return QUOTA.get(c.get("industry_code", "")[:3])


# Each showcase must be met by at least one seed, so that the demo shows every outcome.
Showcase = tuple[str, Callable[[dict], bool]]


def _in(c: dict, area: str) -> bool:
    return within(c["region_code"], area)


def _acts(c: dict) -> set[str]:
    return set(c.get("activities", []))


def _share(c: dict) -> float | None:
    return ratio(c, "export_revenue", "annual_revenue")


SHOWCASES: list[Showcase] = [
    (
        "Shenzhen unicorn candidate (unlisted, valuation ≥ 7e9, founded within 10 years)",
        lambda c: (
            _in(c, "440300")
            and c.get("listing_status") == "unlisted"
            and c.get("valuation", 0) >= 7e9
            and "founded_on" in c
            and (DEMO_AS_OF - c["founded_on"]).days < 3652
        ),
    ),
    (
        "Shenzhen firm preparing to list",
        lambda c: _in(c, "440300") and c.get("listing_status") == "preparing",
    ),
    ("Shenzhen little giant", lambda c: _in(c, "440300") and "little_giant" in c.get("certifications", [])),
    (
        "Shenzhen 专精特新 not yet little giant",
        lambda c: (
            _in(c, "440300")
            and "specialised_sme" in c.get("certifications", [])
            and "little_giant" not in c.get("certifications", [])
        ),
    ),
    (
        "Shenzhen firm without 高企 certificate",
        lambda c: (
            _in(c, "440300")
            and "certifications" in c
            and c.get("entity_type") == "enterprise"
            and "high_tech_enterprise" not in c["certifications"]
        ),
    ),
    (
        "Shenzhen individual business",
        lambda c: _in(c, "440300") and c.get("entity_type") == "individual_business",
    ),
    (
        "Shenzhen manufacturer just below the 规上 line",
        lambda c: (
            _in(c, "440300")
            and c.get("industry_code", "").startswith("C")
            and 18e6 <= c.get("main_business_revenue", -1) < GUI_SHANG_INDUSTRY
        ),
    ),
    (
        "Shenzhen manufacturer at or just above the 规上 line",
        lambda c: (
            _in(c, "440300")
            and c.get("industry_code", "").startswith("C")
            and GUI_SHANG_INDUSTRY <= c.get("main_business_revenue", -1) <= 22e6
        ),
    ),
    ("Jiangsu firm with no exports", lambda c: _in(c, "320000") and c.get("export_revenue") == 0),
    (
        "Jiangsu exporter with a 5-15% export share",
        lambda c: _in(c, "320000") and 0.05 <= (_share(c) or 0) <= 0.15,
    ),
    (
        "Jiangsu exporter with a ~60% export share",
        lambda c: _in(c, "320000") and 0.55 <= (_share(c) or 0) <= 0.65,
    ),
    (
        "commodity market operator in Wuxi or Suzhou",
        lambda c: (_in(c, "320200") or _in(c, "320500")) and "commodity_market_operator" in _acts(c),
    ),
    ("importer in Kunshan", lambda c: _in(c, "320583") and "importer" in _acts(c)),
    (
        "overseas-warehouse operator in Jiangsu",
        lambda c: _in(c, "320000") and "overseas_warehouse" in _acts(c),
    ),
    (
        "retailer in a Jiangsu consumption-centre city",
        lambda c: any(_in(c, a) for a in ("320100", "320200", "320300", "320500")) and "retail" in _acts(c),
    ),
    (
        "business district operator in Jiangsu",
        lambda c: _in(c, "320000") and "business_district_operator" in _acts(c),
    ),
    ("e-commerce platform in Jiangsu", lambda c: _in(c, "320000") and "ecommerce_platform" in _acts(c)),
    ("service-trade firm in Nanjing", lambda c: _in(c, "320100") and "service_trade" in _acts(c)),
    ("service-trade firm in Suzhou", lambda c: _in(c, "320500") and "service_trade" in _acts(c)),
    ("trade-fair exhibitor in Jiangsu", lambda c: _in(c, "320000") and "trade_fair_exhibitor" in _acts(c)),
    (
        "Jiangxi commerce firm just below its 限额以上 line",
        lambda c: (
            _in(c, "360000")
            and (line := quota_line(c)) is not None
            and 0.9 * line <= c.get("main_business_revenue", c.get("annual_revenue", -1)) < line
        ),
    ),
    (
        "Jiangxi commerce firm at or just above its 限额以上 line",
        lambda c: (
            _in(c, "360000")
            and (line := quota_line(c)) is not None
            and line <= c.get("main_business_revenue", -1) <= 1.3 * line
        ),
    ),
    (
        "Jiangxi township commerce centre",
        lambda c: _in(c, "360000") and "township_commerce_centre" in _acts(c),
    ),
    ("Jiangxi logistics firm", lambda c: _in(c, "360000") and "logistics_delivery" in _acts(c)),
    (
        "Jiangxi online retailer",
        lambda c: (
            _in(c, "360000")
            and "own_domestic_online_store" in _acts(c)
            and c.get("industry_code", "") == "F5292"
        ),
    ),
    (
        "Shanxi car dealer in a voucher programme",
        lambda c: _in(c, "140000") and {"car_dealer", "voucher_programme"} <= _acts(c),
    ),
    ("Shanxi catering firm", lambda c: _in(c, "140000") and "catering" in _acts(c)),
    ("Shanxi night-economy business", lambda c: _in(c, "140000") and "night_economy_zone" in _acts(c)),
    ("Shanxi rural e-commerce", lambda c: _in(c, "140000") and "rural_ecommerce" in _acts(c)),
    ("Taiyuan firm", lambda c: _in(c, "140100")),
    ("Shanxi firm outside Taiyuan", lambda c: _in(c, "140000") and not _in(c, "140100")),
    (
        "Lin'an wire-and-cable park tenant",
        lambda c: (
            _in(c, "330112")
            and c.get("industry_code", "") == "C3831"
            and "industrial_park_tenant" in _acts(c)
        ),
    ),
    (
        "Lin'an decorative-paper park tenant",
        lambda c: (
            _in(c, "330112")
            and c.get("industry_code", "").startswith("C22")
            and "industrial_park_tenant" in _acts(c)
        ),
    ),
    (
        "Lin'an PCB park tenant",
        lambda c: (
            _in(c, "330112")
            and c.get("industry_code", "") == "C3982"
            and "industrial_park_tenant" in _acts(c)
        ),
    ),
    (
        "firm outside every catalogue region",
        lambda c: not any(within(c["region_code"], a) for a in CATALOGUE_REGIONS),
    ),
]


def main(argv: list[str] | None = None) -> int:
    path = Path(argv[0]) if argv else DEFAULT_PATH
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.load(text, Loader=StrictLoader)  # StrictLoader is a SafeLoader
    except yaml.YAMLError as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 1
    errors: list[str] = []
    if not isinstance(data, dict) or set(data) != {"companies"} or not isinstance(data["companies"], list):
        print("the file must be a mapping with one key, companies: a list", file=sys.stderr)
        return 1
    companies = data["companies"]
    for c in companies:
        if not isinstance(c, dict):
            errors.append(f"not a mapping: {c!r}")
            continue
        check_company(c, errors)
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1

    keys = Counter(c["key"] for c in companies)
    codes = Counter(c["credit_code"] for c in companies)
    errors += [f"duplicate key {k}" for k, n in keys.items() if n > 1]
    errors += [f"duplicate credit_code {k}" for k, n in codes.items() if n > 1]
    expected = ccodes.expected_codes(ccodes.parse(text.splitlines()))
    errors += [
        f"{c['key']}: credit_code is stale, run make_credit_codes.py --write"
        for c in companies
        if expected.get(c["key"]) != c["credit_code"]
    ]

    if len(companies) < 48:
        errors.append(f"only {len(companies)} companies, need at least 48")
    for area, label in CATALOGUE_REGIONS.items():
        if not any(within(c["region_code"], area) for c in companies):
            errors.append(f"no seed in catalogue region {area} ({label})")
    sz_districts = {c["region_code"] for c in companies if c["region_code"].startswith("4403")}
    if len(sz_districts) < 9:
        errors.append(f"Shenzhen districts covered: {sorted(sz_districts)}; want all nine")
    jx_cities = {c["region_code"][:4] for c in companies if province(c) == "36"}
    if len(jx_cities) < 4:
        errors.append("want seeds in at least four Jiangxi cities")
    js_other = {c["region_code"][:4] for c in companies if province(c) == "32"} - {
        "3201",
        "3202",
        "3203",
        "3205",
    }
    if not js_other:
        errors.append("want seeds in Jiangsu cities beyond the pilot cities")
    for field, universe in (
        ("activities", ACTIVITIES),
        ("certifications", CERTIFICATIONS),
        ("clusters", CLUSTERS),
    ):
        used = {v for c in companies for v in c.get(field, [])}
        if missing := universe - used:
            errors.append(f"{field} never used: {sorted(missing)}")
    partial = [c for c in companies if set(CONTRACT_FIELDS) - set(c)]
    if len(partial) < 12:
        errors.append(f"only {len(partial)} seeds leave fields unknown; want about 15")
    for label, test in SHOWCASES:
        if not any(test(c) for c in companies):
            errors.append(f"no seed shows: {label}")

    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    by_province = Counter(province(c) for c in companies)
    print(
        f"{len(companies)} companies OK; {len(partial)} with fields left unknown; "
        f"{sum(c.get('entity_type') == 'individual_business' for c in companies)} individual businesses"
    )
    print("by province: " + ", ".join(f"{p}: {n}" for p, n in sorted(by_province.items())))
    print(
        f"catalogue regions covered: {', '.join(CATALOGUE_REGIONS.values())}; "
        f"{len(SHOWCASES)} showcases present"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
