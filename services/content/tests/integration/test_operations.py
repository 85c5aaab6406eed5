"""The content service runs against the real database and broker and is operable."""

from edvent_content.config import Settings
from edvent_content.main import API_PREFIXES, create_app
from edvent_localstack.pytest_plugin import app_client, assert_operational


async def test_service_is_healthy_ready_and_measured(service_database_url, kafka):
    settings = Settings(
        environment="test",
        database_url=service_database_url("content"),
        kafka_bootstrap_servers=kafka.bootstrap_servers,
    )
    async with app_client(create_app(settings)) as client:
        await assert_operational(
            client, openapi_paths=[f"{prefix}/openapi.json" for prefix in API_PREFIXES]
        )
