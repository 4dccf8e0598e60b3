"""The one Jinja2 environment of the pages, its filters, and the zh/en switch.

The language of a page comes from `?lang=` (which the switch links carry), else the `lang` cookie the
switch sets, else the browser's Accept-Language, else Chinese. Templates say things in both languages
in place, `{{ tr("注册地", "Where you are registered") }}`, so a text and its translation are read and
changed together; field and value labels come from the engine's vocabulary.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from starlette.responses import Response

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
LANG_COOKIE = "lang"
HTML_LANG = {"zh": "zh-CN", "en": "en"}
_YEAR = 365 * 24 * 3600

STATIC_DIR = Path(__file__).parent / "static"
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


def request_lang(request: Request) -> str:
    """The language of this request's page."""
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LANGS:
        return cookie
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LANG


def remember_lang(request: Request, response: Response) -> None:
    """Set the cookie when the page was asked for in a language explicitly (the switch)."""
    asked = request.query_params.get("lang")
    if asked in LANGS and request.cookies.get(LANG_COOKIE) != asked:
        response.set_cookie(LANG_COOKIE, asked, max_age=_YEAR, path="/", httponly=True, samesite="lax")


def lang_links(path: str, query: list[tuple[str, str]]) -> dict[str, str]:
    """The same page in each language: `path` with `query` and `lang=…`."""
    items = [(k, v) for k, v in query if k != "lang"]
    return {lang: f"{path}?{urlencode([*items, ('lang', lang)])}" for lang in LANGS}


@pass_context
def tr(context: Any, zh: str, en: str) -> str:
    """The text in the page's language."""
    return en if context.get("lang") == "en" else zh


def render(request: Request, name: str, context: dict[str, Any], *, status_code: int = 200,
           lang: str | None = None) -> Response:
    """Render a page in the request's language; remember the language when the switch asked for it."""
    lang = lang or request_lang(request)
    response = templates.TemplateResponse(
        request, name, {"lang": lang, "html_lang": HTML_LANG[lang], **context}, status_code=status_code
    )
    remember_lang(request, response)
    response.headers["Content-Language"] = HTML_LANG[lang]
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response


@cache
def static_url(name: str) -> str:
    """/static/<name>?v=<content hash>: browsers may cache it for good, and a change is a new URL."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]
    return f"/static/{name}?v={digest}"


templates.env.globals.update(tr=tr, static_url=static_url, LANGS=LANGS)
