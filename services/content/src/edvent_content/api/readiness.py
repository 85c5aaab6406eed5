"""/readyz with the object store checked too.

The platform's `/readyz` checks the database and Kafka only, and `create_service_app`
takes no further checks yet; until it does, content replaces that route with one that
answers the same way and also checks S3 (lesson bodies are useless without it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.routing import BaseRoute

from edvent_platform.app import ServiceRuntime
from edvent_platform.db import check_database

Check = Callable[[], Awaitable[None]]


def install_readiness(app: FastAPI, *, extra: Mapping[str, Check], timeout: float = 2.0) -> None:
    runtime: ServiceRuntime = app.state.runtime
    checks: dict[str, Check] = {
        "database": partial(check_database, runtime.engine),
        "kafka": runtime.events.kafka_ready,
        **extra,
    }

    async def readyz() -> JSONResponse:
        async def run(check: Check) -> str:
            try:
                await asyncio.wait_for(check(), timeout=timeout)
            except Exception as exc:  # noqa: BLE001 - any failure means not ready
                return f"failed: {type(exc).__name__}: {exc}"[:300]
            return "ok"

        outcomes = await asyncio.gather(*(run(check) for check in checks.values()))
        results: dict[str, Any] = dict(zip(checks, outcomes, strict=True))
        ready = all(outcome == "ok" for outcome in outcomes)
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": results},
            status_code=200 if ready else 503,
        )

    routes: list[BaseRoute] = app.router.routes
    routes[:] = [route for route in routes if getattr(route, "path", None) != "/readyz"]
    app.add_api_route("/readyz", readyz, include_in_schema=False)
