"""JSON request bodies read with bounded numbers, so an absurd number is a 422 naming its field.

Python's `json` refuses to convert an integer of more than 4,300 digits (ValueError: FastAPI answers
a 400 that names nothing), and pydantic's own parser refuses one past its range with a `json_invalid`
error that names only a column. An integer this long exceeds every bound of every field, so here it
is read as a stand-in just as far out of range (10^40, with its sign), and the field's own bound
refuses it by name. Floats need nothing: a huge exponent reads as inf, which every field refuses.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

MAX_INTEGER_DIGITS = 40
OVERSIZED = 10**MAX_INTEGER_DIGITS


def _integer(text: str) -> int:
    if len(text) > MAX_INTEGER_DIGITS:
        return -OVERSIZED if text.startswith("-") else OVERSIZED
    return int(text)


def loads(body: bytes | str) -> Any:
    """Parse JSON like `json.loads`, integers longer than MAX_INTEGER_DIGITS read as ±OVERSIZED."""
    return json.loads(body, parse_int=_integer)


class BoundedJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads(await self.body())
        return self._json


class BoundedJSONRoute(APIRoute):
    """An APIRoute whose JSON body is read by `loads` (routers: `APIRouter(route_class=...)`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def bounded(request: Request) -> Response:
            return await handler(BoundedJSONRequest(request.scope, request.receive))

        return bounded
