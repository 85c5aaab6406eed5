"""The platform as `make dev` runs it: every part up, reachable, and operable."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e


async def test_gateway_answers_healthz(gateway):
    answer = await gateway.get("/healthz")
    assert answer.json() == {"status": "ok"}


async def test_every_service_is_ready(platform):
    async with httpx.AsyncClient() as client:
        for service, port in platform.service_ports.items():
            answer = await client.get(f"http://127.0.0.1:{port}/readyz")
            assert answer.status_code == 200, (service, answer.text)


@pytest.mark.parametrize(
    "prefix",
    [
        "/api/v1/auth", "/api/v1/users", "/api/v1/courses", "/api/v1/lessons",
        "/api/v1/exams", "/api/v1/attempts", "/api/v1/notes",
    ],
)  # fmt: skip
async def test_each_prefix_serves_its_openapi_document_through_the_gateway(gateway, prefix):
    answer = await gateway.get(f"{prefix}/openapi.json")
    assert answer.status_code == 200
    assert answer.json()["openapi"].startswith("3.")


async def test_responses_carry_a_request_id(gateway):
    answer = await gateway.get("/api/v1/auth/jwks", headers={"X-Request-ID": "e2e-check-1"})
    assert answer.headers["x-request-id"] == "e2e-check-1"
