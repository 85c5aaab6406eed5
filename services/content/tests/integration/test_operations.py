"""The content service is healthy, ready (database, Kafka and S3) and measured."""

import gc

import httpx

from edvent_content.main import API_PREFIXES


async def test_service_is_healthy_ready_and_measured(client) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "kafka": "ok", "s3": "ok"}
    assert (await client.get("/metrics")).status_code == 200
    for prefix in API_PREFIXES:
        document = await client.get(f"{prefix}/openapi.json")
        assert document.json()["openapi"].startswith("3.")
    missing = await client.get("/api/v1/no-such-thing", headers={"X-Request-ID": "abc-123"})
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.headers["x-request-id"] == "abc-123"


async def test_readiness_fails_while_s3_is_unreachable(s3_down_app) -> None:
    transport = httpx.ASGITransport(app=s3_down_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://content") as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["s3"].startswith("failed")


async def test_what_the_started_app_holds_is_out_of_the_collectors_sight(client) -> None:
    # edvent_platform.app freezes the objects that exist once the app has started, so
    # full collections no longer walk them while requests wait.
    assert (await client.get("/healthz")).status_code == 200
    assert gc.get_freeze_count() > 10_000
