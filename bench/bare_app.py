"""The HTTP floor for bench/http.py: a bare FastAPI app whose POST /v1/match reads the body and returns a
constant JSON answer, under the same uvicorn settings as the service. Nothing else: no middleware, no
validation, no database.

The constant is a real match answer (`BENCH_BARE_BODY`, a file bench/http.py writes from the service's
own answer to a seed profile), so both servers send the same bytes and the ratio measures our code,
not the size of the answer. Without the variable it answers {"status": "ok"}.

With `BENCH_BARE_BURN_MS`, each request also spins on the CPU for that long (thread CPU time, not
wall time): the calibration target, an endpoint that costs what a match costs and does nothing else.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from fastapi import FastAPI, Request
from starlette.responses import Response

_path = os.environ.get("BENCH_BARE_BODY")
BODY = Path(_path).read_bytes() if _path else b'{"status":"ok"}'
BURN_SECONDS = float(os.environ.get("BENCH_BARE_BURN_MS", "0")) / 1000

app = FastAPI()


@app.post("/v1/match")
async def match(request: Request) -> Response:
    await request.body()
    if BURN_SECONDS:
        until = time.thread_time() + BURN_SECONDS
        while time.thread_time() < until:
            pass
    return Response(BODY, media_type="application/json")


@app.get("/healthz")
async def healthz() -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")
