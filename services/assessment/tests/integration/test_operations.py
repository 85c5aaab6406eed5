"""The assessment service runs against the real database and broker and is operable."""

from edvent_assessment.config import Settings
from edvent_assessment.main import API_PREFIXES, create_app
from edvent_localstack.pytest_plugin import app_client, assert_operational


async def test_service_is_healthy_ready_and_measured(service_database_url, kafka):
    settings = Settings(
        environment="test",
        database_url=service_database_url("assessment"),
        **kafka.service_settings("assessment"),
    )
    async with app_client(create_app(settings)) as client:
        await assert_operational(
            client, openapi_paths=[f"{prefix}/openapi.json" for prefix in API_PREFIXES]
        )
