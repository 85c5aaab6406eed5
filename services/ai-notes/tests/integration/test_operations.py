"""The ai-notes service runs against the real database and broker and is operable."""

from edvent_ai_notes.main import API_PREFIXES, create_app
from edvent_localstack.pytest_plugin import app_client, assert_operational

from .doubles import provider


async def test_service_is_healthy_ready_and_measured(make_settings):
    app = create_app(make_settings(), provider=provider())
    async with app_client(app) as client:
        await assert_operational(
            client, openapi_paths=[f"{prefix}/openapi.json" for prefix in API_PREFIXES]
        )
