"""What every service's HTTP app has: request ids, access logs, metrics, health, problems."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edvent_events import tracing
from edvent_platform.logging import request_id_var
from edvent_platform.metrics_multiprocess import exposition
from edvent_platform.openapi import install_openapi
from edvent_platform.problems import RFC_9110_TITLES, install_problem_handlers, problem_response

logger = logging.getLogger("edvent.http")

REQUESTS = Counter("http_requests_total", "HTTP requests handled", ["method", "route", "status"])
LATENCY = Histogram("http_request_duration_seconds", "HTTP request latency", ["method", "route"])

# A client-supplied id is echoed only when it looks like an id, so logs cannot be
# polluted with arbitrary text.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

ReadinessCheck = Callable[[], Awaitable[None]]


# Starlette answers a body declared (Content-Length) over `max_body_size` itself, in
# plain text, replacing whatever the app answered; every error here is problem+json.
_TOO_LARGE = problem_response(
    413, RFC_9110_TITLES[413], "The request body is larger than this endpoint accepts."
)


class RequestContextMiddleware:
    """Sets X-Request-ID and the trace id for logs, logs each request, records metrics,
    and makes the framework's plain-text 413 a problem."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        supplied = headers.get("x-request-id", "")
        request_id = supplied if _SAFE_REQUEST_ID.match(supplied) else uuid.uuid4().hex
        request_token = request_id_var.set(request_id)
        # Tracing on, OpenTelemetry's middleware (outside this one) made the server span
        # from the `traceparent`; the gateway's request id goes on it. Without a server
        # span (tracing off) the caller's context is carried along as it came.
        carried = None
        if not trace.get_current_span().get_span_context().is_valid:
            carried = tracing.attach(headers.get("traceparent"))
        trace.get_current_span().set_attribute("http.request.header.x-request-id", [request_id])
        started = time.perf_counter()
        status = 500

        too_large = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, too_large
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                if status == 413 and _is_plain_text(headers):
                    too_large = True  # sent with the body, as a problem
                    return
                message["headers"] = [*headers, (b"x-request-id", request_id.encode("latin-1"))]
            elif too_large:
                if message.get("more_body", False):
                    return
                await send(
                    {
                        "type": "http.response.start",
                        "status": 413,
                        "headers": [
                            *_TOO_LARGE.raw_headers,
                            (b"x-request-id", request_id.encode("latin-1")),
                        ],
                    }
                )
                message = {"type": "http.response.body", "body": _TOO_LARGE.body}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            if template not in ("/healthz", "/readyz", "/metrics"):
                REQUESTS.labels(scope["method"], template, str(status)).inc()
                LATENCY.labels(scope["method"], template).observe(elapsed)
                logger.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
            request_id_var.reset(request_token)
            if carried is not None:
                otel_context.detach(carried)


def _is_plain_text(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(
        name.lower() == b"content-type" and value.startswith(b"text/plain")
        for name, value in headers
    )


def install_platform(
    app: FastAPI,
    *,
    readiness: Mapping[str, ReadinessCheck],
    readiness_timeout: float = 2.0,
) -> None:
    """Add the operational endpoints, the request middleware, the problem handlers and
    the OpenAPI document's operation ids and error responses (`edvent_platform.openapi`).

    Request bodies are limited by FastAPI's own `max_body_size` (set where the
    service's routers are included, see `edvent_platform.app`).
    """
    install_problem_handlers(app)
    install_openapi(app)
    app.add_middleware(RequestContextMiddleware)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        results: dict[str, Any] = {}
        ready = True
        for name, check in readiness.items():
            try:
                # Probes come every few seconds: their SQL and S3 calls would fill the
                # trace viewer with one-span traces that bury the requests' own.
                with suppress_instrumentation():
                    await asyncio.wait_for(check(), timeout=readiness_timeout)
                results[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - any failure means not ready
                ready = False
                results[name] = f"failed: {type(exc).__name__}: {exc}"[:300]
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": results},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)
