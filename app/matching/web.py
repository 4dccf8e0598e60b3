"""The business owner's pages: the profile form (/), the answer (/answer), its CSV, and the two lists
the form's widgets read (regions by parent, industries).

The form speaks in the owner's terms (money in 万元, regions and industries by name) and this module
turns what was entered into a contract `Profile`; errors come back beside their fields in the page's
language, with every value kept as typed. Answers go through the matching service and are recorded
as decisions, exactly as the JSON API does.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.datastructures import ImmutableMultiDict, MultiDict
from starlette.responses import JSONResponse, Response

from app.deps import DecisionLogDep, RuleSetDep, SessionDep, TodayDep, rate_limit
from app.engine import Profile, RuleSet
from app.engine.formatting import format_fact
from app.engine.tables import Tables
from app.errors import DecisionNotFoundError
from app.matching import service
from app.matching.decision_log import DecisionLog
from app.templating import lang_links, render, request_lang

router = APIRouter(include_in_schema=False)

Text = dict[str, str]  # {"zh": …, "en": …}

# ---------------------------------------------------------------------------------------------------
# The form: its fields, in the sections a business owner recognises
# ---------------------------------------------------------------------------------------------------

MONEY = ("annual_revenue", "main_business_revenue", "total_assets", "rd_expense", "export_revenue",
         "import_value", "valuation")
COUNTS = ("employees", "rd_staff", "invention_patents")
CHOICES = ("entity_type", "listing_status")
MULTI = ("certifications", "clusters", "activities")
TEXTS = ("name", "credit_code")
NONE_OF_THESE = "none"  # the checkbox that says "none of these", so an empty list is not "unknown"
YUAN_PER_WAN = Decimal(10000)
QUESTIONS_ASKED = 3


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


def parse_entered(entered: Entered, tables: Tables) -> Profile | None:
    """Fill in `entered.errors` and return the Profile, or None when something must be corrected."""
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


# ---------------------------------------------------------------------------------------------------
# The answer, arranged for reading
# ---------------------------------------------------------------------------------------------------

DERIVED_SHOWN = ("size_class", "above_designated_size", "company_age_years", "export_share", "rd_intensity")


def arrange(answer: dict[str, Any], ruleset: RuleSet) -> dict[str, list[dict[str, Any]]]:
    """Results grouped: eligible, what the firm already has, needs_info, ineligible in the company's
    region, and outside it."""
    groups: dict[str, list[dict[str, Any]]] = {"eligible": [], "already": [], "needs_info": [], "ineligible": [],
                                               "outside": []}
    for result in answer["results"]:
        rule = ruleset.rules.get(result["policy_id"])
        outside = result["criteria"][:1] and result["criteria"][0]["id"] == "region" \
            and result["criteria"][0]["status"] == "not_met"
        group = "outside" if outside else "already" if result.get("already") else result["status"]
        groups[group].append({"result": result, "rule": rule.definition if rule else None})
    return groups


def derived_facts(answer: dict[str, Any], ruleset: RuleSet, lang: str) -> list[tuple[str, str]]:
    derived = dict(answer["derived"])
    if derived.get("size_class") is None and derived.get("size_class_possible"):
        derived["size_class"] = frozenset(derived["size_class_possible"])  # "micro or small"
    return [(ruleset.tables.label("fields", name, lang), format_fact(ruleset.facts[name], derived[name], lang,
                                                                      ruleset.tables))
            for name in DERIVED_SHOWN if derived.get(name) is not None and name in ruleset.facts]


# ---------------------------------------------------------------------------------------------------
# Routes
# ---------------------------------------------------------------------------------------------------


async def read_form(request: Request) -> ImmutableMultiDict[str, Any]:
    """The submitted form body (an async read, so that the routes themselves can stay sync)."""
    return await request.form()


FormDataDep = Annotated[ImmutableMultiDict[str, Any], Depends(read_form)]


def _form_context(entered: Entered, tables: Tables, lang: str) -> dict[str, Any]:
    """What the form templates need besides the values: the options of every list."""
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
    }


@router.get("/")
def form_page(request: Request, ruleset: RuleSetDep) -> Response:
    """The empty form, or the form again with what the query carries (after a region or industry refresh)."""
    lang = request_lang(request)
    entered = read_entered(request.query_params)
    if entered.get("industry_code"):
        _, entered.industry_candidates = ruleset.tables.resolve_industry(entered.get("industry_code"))
    context = {**_form_context(entered, ruleset.tables, lang), "coverage": coverage(ruleset, lang)}
    context["lang_links"] = lang_links("/", entered.query())
    return render(request, "form/index.html", context, lang=lang)


def _answer(request: Request, data: Mapping[str, Any], decisions: DecisionLog, ruleset: RuleSet,
            today: date) -> Response:
    lang = request_lang(request)
    entered = read_entered(data)
    profile = parse_entered(entered, ruleset.tables)
    if profile is not None and profile.founded_on is not None and profile.founded_on > today:
        entered.errors["founded_on"] = {"zh": "成立日期不能晚于今天。", "en": "The founding date cannot be after today."}
        profile = None
    if profile is None:
        context = {**_form_context(entered, ruleset.tables, lang), "coverage": coverage(ruleset, lang)}
        context["lang_links"] = lang_links("/", entered.query())
        return render(request, "form/index.html", context, status_code=422, lang=lang)
    matched = service.match(ruleset, profile, as_of=today)
    decisions.store_blocking(matched.row)
    request.state.decision_id = str(matched.decision_id)
    return _show_answer(request, ruleset, lang, entered=entered, profile=profile, answer=matched.answer(),
                        decision_id=matched.decision_id, query=canonical_query(entered, profile), stored=False)


def _show_answer(request: Request, ruleset: RuleSet, lang: str, *, entered: Entered, profile: Profile,
                 answer: dict[str, Any], decision_id: Any, query: list[tuple[str, str]], stored: bool) -> Response:
    """The answer page: what the firm can act on now, what one more answer would unlock, the rest."""
    # A region given only to the province or city is asked one level down first, in place: it is the
    # question that decides whether the region-limited measures apply at all.
    ranked = sorted(answer["questions"], key=lambda q: q["field"] != "region_code")
    questions = [{**q, "bears_on": sum(q["field"] in r["missing_fields"] for r in answer["results"])}
                 for q in ranked[:QUESTIONS_ASKED]]
    asked = {q["field"] for q in questions}
    context = {
        **_form_context(entered, ruleset.tables, lang),
        "decision_id": decision_id,
        "stored": stored,
        "profile": profile,
        "answer": answer,
        "groups": arrange(answer, ruleset),
        "derived": derived_facts(answer, ruleset, lang),
        "questions": questions,
        "hidden": [(k, v) for k, v in query if k not in asked],
        "share_url": f"/answer/{decision_id}",
        "recheck_url": "/answer?" + urlencode(query),
        "edit_url": "/?" + urlencode(query),
        "lang_links": lang_links(f"/answer/{decision_id}", []) if stored else lang_links("/answer", query),
        "csv_url": f"/answer/{decision_id}.csv?lang={lang}",
        "region_name": ruleset.tables.region_name(profile.region_code, lang),
        "coverage": coverage(ruleset, lang),
    }
    return render(request, "form/answer.html", context, lang=lang)


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


@router.post("/answer", dependencies=[Depends(rate_limit)])
def answer_post(request: Request, form: FormDataDep, decisions: DecisionLogDep, ruleset: RuleSetDep,
                today: TodayDep) -> Response:
    """Decide the submitted profile and show the answer (or the form with its errors)."""
    return _answer(request, form, decisions, ruleset, today)


@router.get("/answer", dependencies=[Depends(rate_limit)])
def answer_get(request: Request, decisions: DecisionLogDep, ruleset: RuleSetDep, today: TodayDep) -> Response:
    """The same answer from a bookmarked or shared query string."""
    return _answer(request, request.query_params, decisions, ruleset, today)


CSV_COLUMNS = {
    "zh": ("决策编号", "措施编号", "措施名称", "结果", "理由", "需补充的信息", "差距"),
    "en": ("decision_id", "measure_id", "title", "status", "reasons", "missing_fields", "gaps"),
}


@router.get("/answer/{decision_id}.csv")
def answer_csv(request: Request, decision_id: str, session: SessionDep, ruleset: RuleSetDep) -> Response:
    """A recorded answer as CSV, one row per measure (UTF-8 with BOM, so Excel reads the Chinese)."""
    lang = request_lang(request)
    try:
        row = service.get_decision(session, decision_id, caller=None)
    except DecisionNotFoundError:
        return render(request, "errors/problem.html", {
            "status": 404, "title": {"zh": "没有找到这份结果", "en": "Answer not found"},
            "detail": {"zh": "链接可能有误。", "en": "The link may be wrong."},
        }, status_code=404, lang=lang)
    tables = ruleset.tables
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS[lang])
    for result in service.logged_answer(session, row, current=ruleset)["results"]:
        writer.writerow([
            str(row.id), result["policy_id"], result["title"][lang],
            tables.label("status", result["status"], lang),
            "\n".join(c["explanation"][lang] for c in result["criteria"]),
            ("、" if lang == "zh" else ", ").join(tables.label("fields", f, lang) for f in result["missing_fields"]),
            "\n".join(g["text"][lang] for c in result["criteria"] for g in c.get("gaps") or ()),
        ])
    filename = f"huiqi-{row.id}.csv"
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/answer/{decision_id}")
def answer_stored(request: Request, decision_id: str, session: SessionDep, ruleset: RuleSetDep) -> Response:
    """A recorded answer as it was decided: the shareable link. It does not decide again (checking with
    today's rules is the page's explicit button)."""
    lang = request_lang(request)
    try:
        row = service.get_decision(session, decision_id, caller=None)
        profile = Profile.model_validate(row.profile)
    except (DecisionNotFoundError, ValidationError):
        return render(request, "errors/problem.html", {
            "status": 404, "title": {"zh": "没有找到这份结果", "en": "Answer not found"},
            "detail": {"zh": "链接可能有误。", "en": "The link may be wrong."},
        }, status_code=404, lang=lang)
    query = profile_form_values(profile)
    entered = read_entered(MultiDict(query))
    answer = service.logged_answer(session, row, current=ruleset)
    return _show_answer(request, ruleset, lang, entered=entered, profile=profile, answer=answer,
                        decision_id=row.id, query=query, stored=True)


@router.get("/form/regions")
def regions_json(request: Request, ruleset: RuleSetDep, parent: str = "") -> Response:
    """The regions directly under `parent` (provinces when empty), for the cascading selects."""
    lang = request_lang(request)
    tables = ruleset.tables
    if parent and parent not in tables.regions:
        return JSONResponse([], status_code=404)
    children = tables.region_children.get(parent or None, ())
    return JSONResponse([[code, tables.region_label(code, lang)] for code in children],
                        headers={"Cache-Control": "public, max-age=86400", "Vary": "Cookie"})


@router.get("/form/industries")
def industries_json(request: Request, ruleset: RuleSetDep) -> Response:
    """Every industry as "code name", for the industry field's datalist."""
    lang = request_lang(request)
    tables = ruleset.tables
    return JSONResponse([tables.industry_label(code, lang) for code in sorted(tables.industries)],
                        headers={"Cache-Control": "public, max-age=86400", "Vary": "Cookie"})


__all__ = ["router"]
