"""The operational routes, and the schema the migrations make."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from edvent_learning_records.db.tables import metadata
from edvent_localstack.pytest_plugin import assert_operational
from edvent_localstack.testing import assert_migrations_match


async def test_health_readiness_metrics_and_openapi(app: FastAPI) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://learning-records"
    ) as client:
        await assert_operational(client, openapi_paths=["/api/v1/learning-records/openapi.json"])
        metrics = await client.get("/metrics")
        assert "learning_records_statements_waiting" in metrics.text


def test_migrations_match_the_tables(admin_dsn, service_database_url) -> None:
    service_database_url("learning-records")
    assert_migrations_match(admin_dsn, schema="learning_records", metadata=metadata)
