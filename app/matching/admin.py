"""POST /v1/admin/reload (scope `admin`): reload the rule files in this worker process. The rule set
and its reloads are owned by app/serving.py (ServedRules), which SIGHUP reaches too."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from app.deps import AdminCaller

router = APIRouter(prefix="/admin", tags=["operations"])
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


@router.post(
    "/reload", summary="Reload the rule files (this worker process)",
    responses={422: {"description": "The rule files do not load, or are not the version APP_EXPECTED_RULESET_VERSION "
                                    "names; the running rule set is kept. "
                                    "`problems` lists each file, line and reason", **PROBLEM},
               403: {"description": "The API key lacks scope `admin`", **PROBLEM},
               503: {"description": "The database is not reachable; the running rule set is kept", **PROBLEM}},
)
async def reload(request: Request, caller: AdminCaller) -> dict[str, Any]:
    return await request.app.state.rules.reload()
