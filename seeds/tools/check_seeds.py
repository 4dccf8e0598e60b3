"""Check seeds/companies.yaml: contract shape, consistency, code validity and demo coverage.

Run from the repository root with the project's interpreter:

    .venv/bin/python seeds/tools/check_seeds.py [path]

Exits 1 and lists every problem found; prints a short coverage summary otherwise.

What the app already knows is taken from the app, not copied: the file is read with the rule files'
strict YAML loader (app.engine.yamlfile), each seed is validated as the API's Profile
(app.engine.profile: contract fields, vocabularies, GB/T 2260 and GB/T 4754-2017 codes, ranges, credit
code check character), and the vocabularies, regions and clusters come from app.engine.facts and the
standard tables (app.engine.tables). What is checked here on top is what a demo seed must be beyond
a valid profile.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path

from pydantic import ValidationError

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script: the app and the sibling tool import from the root

from app.engine.credit_code import check_credit_code
from app.engine.errors import RuleFileError
from app.engine.facts import ACTIVITIES, CERTIFICATIONS, fact_specs, possible_sizes
from app.engine.profile import Profile
from app.engine.tables import load_tables
from app.engine.yamlfile import load_yaml
from seeds.tools import make_credit_codes as ccodes

DEFAULT_PATH = ccodes.DEFAULT_PATH
TABLES = load_tables()

# --- the public contract (shared contract.md), as the app defines it -------------------------------
CONTRACT_FIELDS = list(Profile.model_fields)
# Counts and money (yuan): the profile's number fields. A seed writes them as integers.
NUMBERS = [
    name
    for name, spec in fact_specs(TABLES).items()
    if spec.kind == "number" and name in Profile.model_fields
]
# The list fields and every id each may hold (the coverage check wants every id used by some seed).
LISTS = {
    "certifications": set(CERTIFICATIONS),
    "clusters": set(TABLES.clusters),
    "activities": set(ACTIVITIES),
}

# The regions of the policy catalogue (shared policies.md); each must hold at least one seed.
CATALOGUE_REGIONS = {
    "440300": "Shenzhen", "320000": "Jiangsu", "320100": "Nanjing", "320200": "Wuxi",
    "320300": "Xuzhou", "320500": "Suzhou", "320583": "Kunshan", "360000": "Jiangxi",
    "140000": "Shanxi", "330112": "Lin'an",
}  # fmt: skip

FOUNDED_BEFORE = date(2022, 1, 1)
DEMO_AS_OF = date(2026, 6, 30)  # the "founded within 10 years" showcase is judged on this day
# 规模以上工业: main-business revenue at or above the industry line (2000万元), from the standard tables.
_INDUSTRY_LINE = TABLES.line_for("C")
assert _INDUSTRY_LINE is not None and _INDUSTRY_LINE.min_revenue is not None
GUI_SHANG_INDUSTRY = _INDUSTRY_LINE.min_revenue
KEY_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
INDUSTRY_PATTERN = re.compile(r"^[A-T]\d{2,4}$")  # a division, group or class; never a bare section


def within(region: str, area: str) -> bool:
    """GB/T 2260: region is area itself or below it, on the standard tables' region tree."""
    return TABLES.region_within(region, area) is True


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

    if not isinstance(c.get("key"), str) or not KEY_PATTERN.match(c["key"]):
        err("key must be kebab-case")
    # region_code is required by the contract; name and credit_code to load idempotently
    for f in ("name", "credit_code", "region_code"):
        if f not in c:
            err(f"{f} is required in the seeds (every other field may be left unknown)")
            return
    if not (isinstance(c["name"], str) and c["name"].endswith("（演示）")):
        err("name must be a string ending in （演示）")

    # The contract as the API applies it: fields, vocabularies, GB/T codes, ranges, revenue and staff
    # bounds, the credit code's check character and its 91/92 prefix against entity_type.
    try:
        Profile.model_validate({f: v for f, v in c.items() if f != "key"})
    except ValidationError as exc:
        for e in exc.errors():
            given = f" (given {e['input']!r})" if e["type"] == "literal_error" else ""
            err(f"{'.'.join(map(str, e['loc']))}: {e['msg']}{given}")
        return

    region = c["region_code"]
    industry = c.get("industry_code", "")
    if "industry_code" in c and not INDUSTRY_PATTERN.match(industry):
        err(f"industry_code {industry!r} must be a GB/T 4754-2017 division, group or class, as written")
        return
    entity_type = c.get("entity_type")
    listing = c.get("listing_status")

    founded = c.get("founded_on")
    if founded is not None and not (isinstance(founded, date) and founded < FOUNDED_BEFORE):
        err(f"founded_on must be a date before {FOUNDED_BEFORE}")

    for f in NUMBERS:
        if f in c and not (type(c[f]) is int and c[f] >= 0):
            err(f"{f} must be an integer ≥ 0 (yuan for money)")
            return
    for f in LISTS:
        if f in c and len(set(c[f])) != len(c[f]):
            err(f"{f} must be a list without repeats")

    # credit code: as written (not normalised), its organisation code valid, the authority's area, and
    # the code the generator assigns (checked file-wide in main)
    code = c["credit_code"]
    checked = check_credit_code(code)
    if checked.code != code or not checked.organisation_code_valid:
        err(f"credit_code {code!r} fails the GB 32100 / GB 11714 checks")
    else:
        want_type = "92" if entity_type == "individual_business" else "91"
        if code[:2] != want_type and entity_type is not None:
            err(f"credit_code starts {code[:2]}, expected {want_type} for {entity_type}")
        if code[2:8] != ccodes.registration_area(region, founded):
            err(f"credit_code area {code[2:8]} != registering authority of {region}")

    # consistency of the figures beyond the profile's own bounds
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
    """Large under 工信部联企业〔2011〕300号 (the standard tables' size groups), as far as the figures settle it."""
    industry = c.get("industry_code")
    if not industry:
        return False
    return possible_sizes(TABLES.size_group_for(industry), c) == {"large"}


def quota_line(c: dict) -> float | None:
    """The 限额以上 revenue line of the company's sector, from the standard tables; None outside them."""
    line = TABLES.line_for(c.get("industry_code", ""))
    return line.min_revenue if line is not None and line.kind == "quota" else None


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
        data, _ = load_yaml(text, str(path))  # duplicate keys and aliases refused, YAML 1.2 booleans
    except RuleFileError as exc:
        print(exc, file=sys.stderr)
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
    for field in ("activities", "certifications", "clusters"):
        universe = LISTS[field]
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
