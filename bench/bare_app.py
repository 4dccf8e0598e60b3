"""The HTTP floor for bench/http.py: a bare FastAPI app whose POST /v1/match reads the body and returns a
constant JSON answer, under the same uvicorn settings as the service. Nothing else: no middleware, no
validation, no database.

The constant is a real match answer (`BENCH_BARE_BODY`, a file bench/http.py writes from the service's
own answer to a seed profile), so both servers send the same bytes and the ratio measures our code,
not the size of the answer. Without the variable it answers {"status": "ok"}.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI, Request
from starlette.responses import Response

_path = os.environ.get("BENCH_BARE_BODY")
BODY = Path(_path).read_bytes() if _path else b'{"status":"ok"}'

app = FastAPI()


@app.post("/v1/match")
async def match(request: Request) -> Response:
    await request.body()
    return Response(BODY, media_type="application/json")


@app.get("/healthz")
async def healthz() -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")
