"""Batch matching in the console: an official uploads a CSV of companies (the owners' form's columns,
from a template to download) and gets the results back as CSV, one row per company and measure.

Each line is read as the form reads a submission (app/matching/form.py: money in 万元, an industry by
code or name, several certifications, clusters or activities in one cell separated by ; 、 or ,) and
decided and logged as POST /v1/match/batch decides a line. A line that cannot be read is answered by
one row naming its line and column and what is wrong there; the other lines are still answered. A
file that cannot be read at all (not CSV, unknown columns, no region column, more than 1,000 lines)
is refused on the page, beside the file field. Every upload is written to the audit log.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile
from starlette.datastructures import MultiDict
from starlette.responses import Response

from app.console import audit
from app.console.sessions import COOKIE_PATH
from app.console.web import client_ip, page
from app.deps import CheckedOfficial, CurrentOfficial, DecisionLogDep, RuleSetDep, SessionDep, TodayDep
from app.engine import RuleSet
from app.errors import AppError
from app.matching import service
from app.matching.csv_export import spreadsheet_cell
from app.matching.form import FORM_FIELDS, MULTI, Entered, parse_entered, read_entered
from app.templating import request_lang

router = APIRouter(prefix=f"{COOKIE_PATH}/batch", include_in_schema=False)

MAX_LINES = 1_000
MAX_BYTES = 1024 * 1024
_SEPARATORS = re.compile(r"[;；、,，|\n]+")
TEMPLATE_EXAMPLE = {"region_code": "320506", "name": "示例制造有限公司（演示）", "entity_type": "enterprise",
                    "founded_on": "2016-03-01", "industry_code": "C3911", "employees": "80",
                    "annual_revenue": "3000", "export_revenue": "900", "certifications": "tech_sme",
                    "activities": "none"}
RESULT_COLUMNS = {
    "zh": ("行号", "企业", "统一社会信用代码", "决策编号", "措施编号", "措施名称", "结果", "需补充的信息", "问题"),
    "en": ("line", "name", "credit_code", "decision_id", "measure_id", "measure", "status", "missing_fields",
           "problem"),
}


class UploadRefused(Exception):
    """The file as a whole cannot be read; `text` says why, in both languages."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.text = {"zh": zh, "en": en}


def template_csv() -> str:
    """The columns a file must have (only region_code is required), with one fictional example line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FORM_FIELDS)
    writer.writerow([TEMPLATE_EXAMPLE.get(name, "") for name in FORM_FIELDS])
    return "\ufeff" + out.getvalue()


def read_upload(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """The file's lines as (line number, column → cell), or UploadRefused."""
    if len(data) > MAX_BYTES:
        raise UploadRefused("文件过大（上限 1 MB）。", "The file is too large (1 MB at most).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # what Excel saves on a Chinese Windows
        except UnicodeDecodeError:
            raise UploadRefused("文件不是 UTF-8 或 GBK 编码的 CSV。", "The file is not CSV in UTF-8 or GBK.") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return _lines(reader)
    except csv.Error as exc:  # a cell past the csv module's field limit (128 KiB), say
        line = reader.line_num + 1  # the line being read when it failed
        raise UploadRefused(f"第 {line} 行无法读取：{exc}。", f"Line {line} cannot be read: {exc}.") from None


def _lines(reader: csv.DictReader[str]) -> list[tuple[int, dict[str, str]]]:
    header = [name.strip() for name in reader.fieldnames or []]
    unknown = [name for name in header if name and name not in FORM_FIELDS]
    if unknown:
        raise UploadRefused(f"第 1 行有未知的列：{'、'.join(unknown)}（请使用模板的列名）。",
                            f"Line 1 has unknown columns: {', '.join(unknown)} (use the template's column names).")
    twice = sorted({name for name in header if name and header.count(name) > 1})
    if twice:
        raise UploadRefused(f"第 1 行有重复的列：{'、'.join(twice)}。", f"Line 1 names a column twice: {', '.join(twice)}.")
    if "region_code" not in header:
        raise UploadRefused("缺少必填的 region_code 列。", "The required column region_code is missing.")
    reader.fieldnames = header
    lines: list[tuple[int, dict[str, str]]] = []
    for cells in reader:
        if not any((value or "").strip() for value in cells.values() if isinstance(value, str)):
            continue  # an empty line
        if len(lines) == MAX_LINES:
            raise UploadRefused(f"超过 {MAX_LINES} 家企业，请分批上传。",
                                f"More than {MAX_LINES} companies: upload them in parts.")
        lines.append((reader.line_num, {k: (v or "").strip() for k, v in cells.items() if isinstance(k, str)}))
    if not lines:
        raise UploadRefused("文件中没有企业。", "The file holds no company.")
    return lines


def as_form(cells: dict[str, str]) -> MultiDict:
    """A CSV line as the form's fields: the values of a checkbox group share one cell."""
    items = []
    for name, value in cells.items():
        values = [v.strip() for v in _SEPARATORS.split(value)] if name in MULTI else [value]
        items += [(name, v) for v in values if v]
    return MultiDict(items)


def _problem(entered: Entered, lang: str) -> str:
    return "; ".join(f"{name}: {text[lang]}" for name, text in entered.errors.items()) or "?"


def match_lines(lines: list[tuple[int, dict[str, str]]], ruleset: RuleSet, decisions: Any, today: date,
                lang: str) -> tuple[list[list[str]], int, int]:
    """The result rows, and how many lines were answered and refused. Decisions are submitted together
    and waited for together (one group commit)."""
    parsed = []
    for number, cells in lines:
        entered = read_entered(as_form(cells))
        profile = parse_entered(entered, ruleset.tables, today=today)
        matched = service.match(ruleset, profile, as_of=today, scope="local") if profile else None
        parsed.append((number, cells, entered, matched, decisions.submit(matched.row) if matched else None))
    rows: list[list[str]] = []
    answered = refused = 0
    status_label = ruleset.tables.label
    for number, cells, entered, matched, stored in parsed:
        head = [str(number), cells.get("name", ""), cells.get("credit_code", "")]
        if matched is None or stored is None:
            refused += 1
            rows.append([*head, "", "", "", "invalid" if lang == "en" else "无效", "", _problem(entered, lang)])
            continue
        try:
            stored.result()
        except AppError as exc:
            refused += 1
            rows.append([*head, "", "", "", "not stored" if lang == "en" else "未保存", "", exc.detail])
            continue
        answered += 1
        results = matched.answer()["results"]
        if not results:
            rows.append([*head, str(matched.decision_id), "", "", "", "",
                         "no measure covers this region" if lang == "en" else "没有适用于该地区的措施"])
        for result in results:
            missing = ("、" if lang == "zh" else ", ").join(
                status_label("fields", field, lang) for field in result["missing_fields"])
            rows.append([*head, str(matched.decision_id), result["policy_id"], result["title"][lang],
                         status_label("status", result["status"], lang), missing, ""])
    return rows, answered, refused


def results_csv(rows: list[list[str]], lang: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(RESULT_COLUMNS[lang])
    writer.writerows([spreadsheet_cell(cell) for cell in row] for row in rows)
    return "\ufeff" + out.getvalue()


def _page(request: Request, signed_in: Any, *, error: dict[str, str] | None = None) -> Response:
    return page(request, "console/batch.html", {
        "nav": "batch", "error": error, "csrf_token": signed_in.csrf_token, "fields": FORM_FIELDS,
        "max_lines": MAX_LINES, "multi": MULTI,
    }, signed_in=signed_in, status_code=422 if error else 200)


@router.get("")
def batch_page(request: Request, signed_in: CurrentOfficial) -> Response:
    return _page(request, signed_in)


@router.get("/template.csv")
def batch_template(signed_in: CurrentOfficial) -> Response:
    return Response(template_csv(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="huiqi-batch-template.csv"'})


@router.post("")
def batch_submit(request: Request, signed_in: CheckedOfficial, session: SessionDep, ruleset: RuleSetDep,
                 decisions: DecisionLogDep, today: TodayDep,
                 file: Annotated[UploadFile | None, File()] = None) -> Response:
    """Match every line of the uploaded CSV; answer with the results CSV (audited)."""
    lang = request_lang(request)
    try:
        if file is None or not file.filename:
            raise UploadRefused("请选择一个 CSV 文件。", "Choose a CSV file.")
        lines = read_upload(file.file.read(MAX_BYTES + 1))
    except UploadRefused as refused:
        return _page(request, signed_in, error=refused.text)
    # End the read of the official's session first: on SQLite an open transaction holds the write lock
    # (BEGIN IMMEDIATE), which the decision log's commit needs.
    session.commit()
    rows, answered, refused_count = match_lines(lines, ruleset, decisions, today, lang)
    audit.record_event(session, action=audit.BATCH_MATCHED, username=signed_in.official.username,
                       official_id=signed_in.official.id, ip=client_ip(request), details={
                           "file_name": file.filename, "lines": len(lines), "answered": answered,
                           "refused": refused_count})
    return Response(results_csv(rows, lang), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="huiqi-batch-{today.isoformat()}.csv"'})

