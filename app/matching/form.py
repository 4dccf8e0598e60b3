"""The business owner's form: its fields in the sections an owner recognises, what was entered turned
into a contract `Profile` (money in 万元, regions and industries by name) or into errors beside their
fields in both languages (the form's error catalogue), and a profile turned back into the form's values.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from app.engine import Profile, RuleSet
from app.engine.tables import Tables

Text = dict[str, str]  # {"zh": …, "en": …}

MONEY = ("annual_revenue", "main_business_revenue", "total_assets", "rd_expense", "export_revenue",
         "import_value", "valuation")
COUNTS = ("employees", "rd_staff", "invention_patents")
CHOICES = ("entity_type", "listing_status")
MULTI = ("certifications", "clusters", "activities")
NONE_OF_THESE = "none"  # the checkbox that says "none of these", so an empty list is not "unknown"
YUAN_PER_WAN = Decimal(10000)


@dataclass(frozen=True)
class Section:
    id: str
    title: Text
    intro: Text
    fields: tuple[str, ...]


SECTIONS = (
    Section("where", {"zh": "注册信息", "en": "Where you are registered"},
            {"zh": "只有注册地必填，其余不清楚的可以留空。", "en": "Only the location is required; leave out whatever you are unsure of."},
            ("region_code", "name", "credit_code", "entity_type", "founded_on")),
    Section("what", {"zh": "主营业务", "en": "What you do"},
            {"zh": "按国民经济行业分类（GB/T 4754）选择主营业务。", "en": "Your main business in the national industry classification (GB/T 4754)."},
            ("industry_code", "clusters")),
    Section("size", {"zh": "规模与财务", "en": "Size and finances"},
            {"zh": "金额以万元为单位，填上一个完整年度的数字。", "en": "Amounts in 万元 (10,000 yuan), for the last full year."},
            ("employees", "annual_revenue", "main_business_revenue", "total_assets", "export_revenue",
             "import_value", "valuation", "listing_status")),
    Section("recognitions", {"zh": "研发与资质", "en": "Research and recognitions"},
            {"zh": "目前有效的认定和研发投入。", "en": "Recognitions you hold now, and what you spend on research."},
            ("rd_expense", "rd_staff", "invention_patents", "certifications")),
    Section("activities", {"zh": "经营活动", "en": "Activities"},
            {"zh": "勾选企业实际从事的业务；都不符合时请勾选“以上都没有”。",
             "en": "Tick what the business really does; tick “none of these” if nothing applies."},
            ("activities",)),
)
FORM_FIELDS = tuple(name for section in SECTIONS for name in section.fields)


def field_kind(name: str) -> str:
    if name in MONEY:
        return "money"
    if name in COUNTS:
        return "count"
    if name in CHOICES:
        return "choice"
    if name in MULTI:
        return "multi"
    if name == "founded_on":
        return "date"
    if name in ("region_code", "industry_code"):
        return name.removesuffix("_code")
    return "text"


# ---------------------------------------------------------------------------------------------------
# What was entered → a Profile, or errors beside their fields
# ---------------------------------------------------------------------------------------------------




@dataclass
class Entered:
    """The form as entered: strings for single fields, lists for checkbox groups."""

    values: dict[str, Any]
    errors: dict[str, Text] = field(default_factory=dict)
    industry_candidates: list[str] = field(default_factory=list)
    region_code: str | None = None

    def get(self, name: str) -> Any:
        return self.values.get(name, [] if name in MULTI else "")

    def query(self) -> list[tuple[str, str]]:
        """The entered values as query items, to show the same form again in the other language."""
        items: list[tuple[str, str]] = []
        for name, value in self.values.items():
            items += [(name, v) for v in value] if isinstance(value, list) else [(name, value)] if value else []
        return items


def read_entered(data: Mapping[str, Any]) -> Entered:
    """Take the form's fields from a query string or a form body (unknown names are ignored)."""
    getlist = data.getlist if hasattr(data, "getlist") else (lambda name: [data[name]] if name in data else [])
    values: dict[str, Any] = {}
    for name in FORM_FIELDS:
        if name in MULTI:
            values[name] = [v for v in getlist(name) if v]
        elif name != "region_code":
            values[name] = str(data.get(name) or "").strip()
    for name in ("province", "city", "county", "region_code"):
        values[name] = str(data.get(name) or "").strip()
    pick = str(data.get("industry_pick") or "").strip()  # a candidate chosen after an ambiguous search
    if pick:
        values["industry_code"] = pick
    return Entered(values)


def _normalise_number(text: str) -> str:
    # Full-width digits (１２３), separators (1,200 / 1，200) and spaces are how people type numbers.
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[,\s]", "", text)


# Checked before anything converts it: digits with one optional point, no exponent (nobody types
# 1e5 on a form; Decimal would accept 1e999999999, and int() of it would hold the worker for minutes).
# 15 digits before the point is past every field's bound, in 万元 or as a count.
_NUMBER = re.compile(r"^[+-]?(?:(\d+)(?:\.(\d*))?|\.(\d+))$")
MAX_INTEGER_DIGITS, MAX_FRACTION_DIGITS = 15, 6
NOT_A_NUMBER: Text = {"zh": "请填写数字。", "en": "Enter a number."}


def parse_number(raw: str) -> tuple[Decimal | None, Text]:
    """A number as a business owner types it ("1,200.5", full-width digits), or None and why not."""
    text = _normalise_number(raw)
    match = _NUMBER.match(text)
    if match is None:
        return None, NOT_A_NUMBER
    whole, fraction = match[1] or "", match[2] or match[3] or ""
    if len(whole.lstrip("0")) > MAX_INTEGER_DIGITS:
        return None, {"zh": "数字过大。", "en": "This number is too large."}
    if len(fraction) > MAX_FRACTION_DIGITS:
        return None, {"zh": f"小数最多{MAX_FRACTION_DIGITS}位。",
                      "en": f"At most {MAX_FRACTION_DIGITS} digits after the point."}
    return Decimal(text), {}


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def parse_entered(entered: Entered, tables: Tables, *, today: date | None = None) -> Profile | None:
    """Fill in `entered.errors` and return the Profile, or None when something must be corrected (a
    founding date after `today` too, when given)."""
    errors: dict[str, Text] = entered.errors
    data: dict[str, Any] = {}
    region = _parse_region(entered, tables)
    if region:
        data["region_code"] = region
    for name in FORM_FIELDS:
        raw = entered.get(name)
        if name == "region_code" or raw in ("", []):
            continue
        if name in MONEY or name in COUNTS:
            number, problem = parse_number(raw)
            if number is None:
                errors[name] = problem
                continue
            if name in MONEY:
                data[name] = float(number * YUAN_PER_WAN)
            else:
                data[name] = int(number) if number == number.to_integral_value() else float(number)
        elif name in MULTI:
            chosen = [v for v in raw if v != NONE_OF_THESE]
            data[name] = chosen
        elif name == "industry_code":
            code, candidates = tables.resolve_industry(raw)
            if code is None:
                entered.industry_candidates = candidates
                errors[name] = (
                    {"zh": "有多个行业符合，请在下面选择一个。", "en": "Several industries match: choose one below."}
                    if candidates else
                    {"zh": "没有找到这个行业，请输入行业名称中的词或行业代码。",
                     "en": "No industry matches; type a word of its name or its code."})
                continue
            data[name] = code
        elif name == "founded_on":
            match = _DATE.match(unicodedata.normalize("NFKC", raw))
            data[name] = f"{match[1]}-{int(match[2]):02d}-{int(match[3]):02d}" if match else raw
        else:
            data[name] = raw
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "region_code"
            errors.setdefault(name, error_text(error, tables))
        return None
    entered.region_code = profile.region_code
    if not errors and today is not None and profile.founded_on is not None and profile.founded_on > today:
        errors["founded_on"] = {"zh": "成立日期不能晚于今天。", "en": "The founding date cannot be after today."}
    return None if errors else profile


def _parse_region(entered: Entered, tables: Tables) -> str | None:
    """The deepest region chosen in the province → city → county selects, or `region_code`."""
    chosen = [entered.values[level] for level in ("province", "city", "county")]
    if not any(chosen):
        code = entered.values["region_code"]
        if not code:
            entered.errors["region_code"] = {"zh": "请选择注册地所在的省份（最好选到区县）。",
                                             "en": "Choose the province (ideally down to the district) you are registered in."}
        return code or None
    code = None
    for value in chosen:  # province, city, county
        if not value:
            break
        if value not in tables.regions or tables.regions[value].parent != code:
            entered.errors["region_code"] = {
                "zh": "所选的市或区县不属于上一级，请重新选择。",
                "en": "The city or district chosen is not in the province or city above it; choose again.",
            }
            return None
        code = value
    return code


def error_text(error: Mapping[str, Any], tables: Tables) -> Text:
    """A pydantic error of `Profile`, said to a business owner."""
    kind, ctx = error["type"], error.get("ctx") or {}
    name = str(error["loc"][0]) if error["loc"] else ""
    if kind == "credit_code":
        reason = str(ctx.get("reason", ""))
        if "18 characters" in reason:
            return {"zh": "统一社会信用代码应为18位，请核对营业执照。",
                    "en": "A unified social credit code has 18 characters; check your business licence."}
        if "check character" in reason:
            return {"zh": "统一社会信用代码的校验位（最后一位）不对，请核对营业执照上的代码。",
                    "en": "The check character (the last one) of this credit code is wrong; check the code on your business licence."}
        return {"zh": "统一社会信用代码含有不应出现的字符（不使用 I、O、Z、S、V），请核对。",
                "en": "The credit code has characters that codes never use (I, O, Z, S, V); check it."}
    if kind == "exceeds_revenue":
        label = {lang: tables.label("fields", name, lang) for lang in ("zh", "en")}
        return {"zh": f"{label['zh']}不能大于营业收入。", "en": f"{label['en']} cannot be more than annual revenue."}
    if kind == "control_character":
        return {"zh": "含有不可见的控制字符，请删除后再提交。",
                "en": "This contains an invisible control character; remove it and send again."}
    if kind == "exceeds_employees":
        return {"zh": "研发人员数不能多于从业人员数。", "en": "R&D staff cannot be more than employees."}
    if kind in ("greater_than_equal", "greater_than"):
        return {"zh": "不能为负数。", "en": "Cannot be negative."}
    if kind == "less_than_equal":
        limit = ctx.get("le", 0)
        shown = f"{float(limit) / 10_000:,.0f} 万元" if name in MONEY else f"{limit:,}"
        return {"zh": f"不能超过 {shown}。", "en": f"At most {shown}."}
    if kind in ("int_from_float", "int_parsing"):
        return {"zh": "请填写整数。", "en": "Enter a whole number."}
    if kind in ("float_parsing", "finite_number", "float_type"):
        return {"zh": "请填写数字。", "en": "Enter a number."}
    if kind.startswith("date"):
        return {"zh": "请按“年-月-日”填写日期，如 2019-05-01。", "en": "Enter a date as year-month-day, e.g. 2019-05-01."}
    if kind == "region_code":
        if "successor" in ctx:
            new = ctx["successor"]
            return {"zh": f"这个行政区划代码已撤销，现为 {new} {tables.region_name(new, 'zh')}。",
                    "en": f"This region code was retired; it is now {new} {tables.region_name(new, 'en')}."}
        return {"zh": "请从列表中选择注册地。", "en": "Choose the location from the lists."}
    if kind == "industry_code":
        return {"zh": "没有这个行业代码。", "en": "There is no such industry code."}
    if kind == "string_too_long":
        return {"zh": f"最多{ctx.get('max_length')}个字。", "en": f"At most {ctx.get('max_length')} characters."}
    if kind in ("literal_error", "cluster"):
        return {"zh": "请从列表中选择。", "en": "Choose from the list."}
    return {"zh": "这一项填写有误。", "en": f"This value is not valid ({error.get('msg', kind)})."}


def canonical_query(entered: Entered, profile: Profile) -> list[tuple[str, str]]:
    """The answer's shareable query: the region and industry as codes, everything else as entered."""
    items: list[tuple[str, str]] = [("region_code", profile.region_code)]
    for name in FORM_FIELDS:
        if name == "region_code":
            continue
        if name == "industry_code":
            if profile.industry_code:
                items.append((name, profile.industry_code))
        elif name in MULTI:
            items += [(name, v) for v in entered.get(name)]
        elif entered.get(name):
            items.append((name, entered.get(name)))
    return items


def coverage(ruleset: RuleSet, lang: str) -> str:
    """The places the catalogue's measures cover, by province: "江苏省、广东省深圳市、…"."""
    return ("、" if lang == "zh" else "; ").join(ruleset.tables.region_name(code, lang)
                                                 for code in ruleset.covered_regions)


def profile_form_values(profile: Profile) -> list[tuple[str, str]]:
    """A stored profile as the form's fields (money in 万元), for its edit and re-check links."""
    items: list[tuple[str, str]] = [("region_code", profile.region_code)]
    for name in FORM_FIELDS:
        value = getattr(profile, name)
        if name == "region_code" or value is None:
            continue
        if name in MULTI:
            items += [(name, item) for item in value] or [(name, NONE_OF_THESE)]
        elif name in MONEY:
            wan = Decimal(str(value)) / YUAN_PER_WAN
            items.append((name, format(wan.normalize(), "f")))
        elif isinstance(value, date):
            items.append((name, value.isoformat()))
        else:
            items.append((name, str(value)))
    return items


# ---------------------------------------------------------------------------------------------------
# The form's lists
# ---------------------------------------------------------------------------------------------------


def form_context(entered: Entered, ruleset: RuleSet, lang: str) -> dict[str, Any]:
    """What the form's templates need besides the values: the options of every list, and the places
    the catalogue covers."""
    tables = ruleset.tables
    chain = tables.region_chain(entered.values.get("region_code"))
    levels = [entered.values.get(level) or (chain[i] if i < len(chain) else "")
              for i, level in enumerate(("province", "city", "county"))]
    region_levels = []
    parent: str | None = None
    for i, (level, chosen) in enumerate(zip(("province", "city", "county"), levels, strict=True)):
        if i and not parent:
            break
        children = tables.region_children.get(parent, ())
        if not children:
            break
        region_levels.append({"name": level, "chosen": chosen,
                              "options": [(code, tables.region_label(code, lang)) for code in children]})
        parent = chosen if chosen in tables.regions and tables.regions[chosen].parent == parent else None
    vocabulary = tables.vocabulary["values"]
    options = {
        "entity_type": list(vocabulary["entity_type"]),
        "listing_status": list(vocabulary["listing_status"]),
        "certifications": list(vocabulary["certifications"]),
        "activities": list(vocabulary["activities"]),
        "clusters": list(tables.clusters),
    }
    industry_text = entered.get("industry_code")
    code, _ = tables.resolve_industry(industry_text) if industry_text else (None, [])
    return {
        "entered": entered,
        "sections": SECTIONS,
        "field_kind": field_kind,
        "region_levels": region_levels,
        "options": options,
        "tables": tables,
        "industry_text": tables.industry_label(code, lang) if code else industry_text,
        "industry_candidates": [(c, tables.industry_label(c, lang)) for c in entered.industry_candidates],
        "none_of_these": NONE_OF_THESE,
        "coverage": coverage(ruleset, lang),
    }
