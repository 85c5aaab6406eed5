"""The HTTP mechanics every service shares, exercised in-process (no I/O)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import httpx
import psycopg
import pytest
from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError, ProgrammingError

from edvent_events.tracing import current_traceparent
from edvent_platform.http import install_platform
from edvent_platform.logging import JsonFormatter, request_id_var
from edvent_platform.problems import Conflict, TooManyRequests


class Body(BaseModel):
    name: str = Field(min_length=2)


def make_app(*, ready: bool = True) -> FastAPI:
    app = FastAPI()

    async def database() -> None:
        if not ready:
            raise ConnectionError("database is down")

    install_platform(app, readiness={"database": database})

    @app.post("/things")
    async def create(body: Body) -> dict[str, str]:
        return {"name": body.name}

    @app.get("/conflict")
    async def conflict() -> None:
        raise Conflict("that email is taken")

    @app.get("/slow-down")
    async def slow_down() -> None:
        raise TooManyRequests("too many attempts", retry_after=42)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail")

    @app.get("/database-down")
    async def database_down() -> None:
        refused = psycopg.OperationalError("connection refused")
        raise OperationalError("SELECT 1", {}, refused)

    @app.get("/broken-statement")
    async def broken_statement() -> None:
        raise ProgrammingError("SELECT nope", {}, psycopg.ProgrammingError("no such column"))

    @app.get("/trace")
    async def trace() -> dict[str, str | None]:
        return {"traceparent": current_traceparent(), "request_id": request_id_var.get()}

    return app


@pytest.fixture
def client() -> httpx.AsyncClient:
    app = make_app()
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t"
    )


async def test_domain_problems_become_problem_json(client):
    answer = await client.get("/conflict")
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json() == {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "that email is taken",
    }


async def test_rate_limit_problem_says_when_to_retry(client):
    answer = await client.get("/slow-down")
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "42"


async def test_validation_failures_are_422_with_errors(client):
    answer = await client.post("/things", json={"name": "x"})
    assert answer.status_code == 422
    body = answer.json()
    assert body["status"] == 422
    assert body["errors"][0]["loc"] == ["body", "name"]


async def test_malformed_json_is_422_not_500(client):
    answer = await client.post(
        "/things", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"


async def test_a_database_out_of_reach_is_503_with_retry_after(client):
    answer = await client.get("/database-down")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert answer.headers["content-type"] == "application/problem+json"
    # A statement the database refuses is a bug, not an outage.
    assert (await client.get("/broken-statement")).status_code == 500


async def test_unexpected_errors_hide_their_details(client):
    answer = await client.get("/boom")
    assert answer.status_code == 500
    assert "secret" not in answer.text
    assert answer.headers["content-type"] == "application/problem+json"


async def test_unknown_route_and_method_are_problems(client):
    assert (await client.get("/nope")).json()["status"] == 404
    assert (await client.delete("/things")).json()["status"] == 405


async def test_request_id_is_kept_when_well_formed_and_replaced_otherwise(client):
    kept = await client.get("/trace", headers={"x-request-id": "abc-123"})
    assert kept.headers["x-request-id"] == "abc-123"
    assert kept.json()["request_id"] == "abc-123"
    replaced = await client.get("/trace", headers={"x-request-id": "evil\nlog line"})
    assert replaced.headers["x-request-id"] != "evil\nlog line"
    assert len(replaced.headers["x-request-id"]) == 32


async def test_traceparent_is_taken_from_the_request_when_valid(client):
    header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    answer = await client.get("/trace", headers={"traceparent": header})
    assert answer.json()["traceparent"] == header
    bad = await client.get("/trace", headers={"traceparent": "00-zz-00-01"})
    assert bad.json()["traceparent"] is None


async def test_readiness_reports_each_check():
    app = make_app(ready=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        answer = await client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["database"].startswith("failed: ConnectionError")
    assert (await make_client_get(make_app(), "/readyz")).status_code == 200


async def make_client_get(app: FastAPI, path: str) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        return await client.get(path)


async def test_metrics_count_requests_by_route_template(client):
    await client.post("/things", json={"name": "abc"})
    metrics = (await client.get("/metrics")).text
    assert 'http_requests_total{method="POST",route="/things",status="200"}' in metrics


def test_log_lines_are_json_with_the_request_id():
    formatter = JsonFormatter("identity")
    token = request_id_var.set("req-1")
    try:
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("you",), None)
        record.user_id = "u-1"
        line = json.loads(formatter.format(record))
    finally:
        request_id_var.reset(token)
    assert line["message"] == "hello you"
    assert line["request_id"] == "req-1"
    assert line["service"] == "identity"
    assert line["user_id"] == "u-1"


def limited_app(limit: int) -> tuple[FastAPI, list[int]]:
    """Routes included as services include theirs: with FastAPI's `max_body_size`."""
    app = FastAPI()
    install_platform(app, readiness={})
    router = APIRouter()
    seen: list[int] = []

    @router.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        body = await request.body()
        seen.append(len(body))
        return {"size": len(body)}

    @router.post("/things")
    async def create(body: Body) -> dict[str, str]:
        return {"name": body.name[:8]}

    @router.put("/large", max_body_size=4 * limit)
    async def large(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    app.include_router(router, max_body_size=limit)
    return app, seen


async def chunked(body: bytes, size: int = 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def assert_too_large(answer: httpx.Response) -> None:
    assert answer.status_code == 413, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 413
    assert answer.json()["title"] == "Content Too Large"  # RFC 9110, however it was sent
    assert answer.headers["x-request-id"]


async def test_bodies_over_the_limit_are_413_problems_before_the_route_runs():
    app, seen = limited_app(2048)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        small = await client.post("/upload", content=b"x" * 2048)
        declared = await client.post("/upload", content=b"x" * 4096)
        streamed = await client.post("/upload", content=chunked(b"x" * 4096))
    assert small.json() == {"size": 2048}
    assert_too_large(declared)
    assert_too_large(streamed)
    assert seen == [2048]


async def test_an_oversized_chunked_json_body_is_413_not_400():
    app, _ = limited_app(2048)
    big = json.dumps({"name": "x" * 4096}).encode()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        headers = {"content-type": "application/json"}
        streamed = await client.post("/things", content=chunked(big), headers=headers)
        declared = await client.post("/things", content=big, headers=headers)
    assert_too_large(streamed)
    assert_too_large(declared)


async def test_a_route_may_accept_more_than_the_default():
    app, _ = limited_app(2048)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        within = await client.put("/large", content=chunked(b"x" * 8192))
        beyond = await client.put("/large", content=b"x" * 8193)
    assert within.json() == {"size": 8192}
    assert_too_large(beyond)


async def test_an_unparseable_body_has_a_proper_title(client):
    deep = b"[" * 100_000 + b"]" * 100_000
    answer = await client.post(
        "/things", content=deep, headers={"content-type": "application/json"}
    )
    assert answer.status_code in (400, 413, 422)
    assert answer.json()["title"] != "Error"


def test_a_plain_def_dependency_or_route_is_refused_when_the_app_is_built() -> None:
    from fastapi import Depends
    from fastapi.security import HTTPBearer

    from edvent_platform.app import refuse_worker_threads

    app = FastAPI()

    def blocking() -> int:
        return 1

    async def fine(bearer: object = Depends(HTTPBearer(auto_error=False))) -> int:
        return 2

    @app.get("/fine")
    async def all_async(value: int = Depends(fine)) -> int:
        return value

    refuse_worker_threads(app)  # async routes, an instance with an async __call__

    @app.get("/hop")
    async def hops(value: int = Depends(blocking)) -> int:
        return value

    with pytest.raises(TypeError, match=r"GET /hop.*blocking"):
        refuse_worker_threads(app)

    @app.get("/sync")
    def sync_route() -> int:
        return 3

    with pytest.raises(TypeError, match="GET /sync"):
        refuse_worker_threads(app)
