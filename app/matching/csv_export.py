"""A recorded answer as CSV, one row per measure, for the owner's spreadsheet: UTF-8 with a BOM, so
Excel reads the Chinese, and the texts in the page's language."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from app.engine.tables import Tables

CSV_COLUMNS = {
    "zh": ("决策编号", "措施编号", "措施名称", "结果", "理由", "需补充的信息", "差距"),
    "en": ("decision_id", "measure_id", "title", "status", "reasons", "missing_fields", "gaps"),
}


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # all but tab and line breaks


def spreadsheet_cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run: text starting like a formula is quoted with ', and control
    characters (from an uploaded file, echoed back) are shown as U+FFFD."""
    text = _CONTROL.sub("\ufffd", "" if value is None else str(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def answer_csv_text(answer: dict[str, Any], *, decision_id: Any, tables: Tables, lang: str) -> str:
    """The answer's results as CSV text, BOM first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS[lang])
    for result in answer["results"]:
        writer.writerow([spreadsheet_cell(cell) for cell in (
            str(decision_id), result["policy_id"], result["title"][lang],
            tables.label("status", result["status"], lang),
            "\n".join(c["explanation"][lang] for c in result["criteria"]),
            ("、" if lang == "zh" else ", ").join(tables.label("fields", f, lang) for f in result["missing_fields"]),
            "\n".join(g["text"][lang] for c in result["criteria"] for g in c.get("gaps") or ()),
        )])
    return "\ufeff" + out.getvalue()
