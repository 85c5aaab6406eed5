"""The identity service runs against the real database and broker and is operable."""

import asyncio

from edvent_identity.config import Settings
from edvent_identity.main import API_PREFIXES, create_app
from edvent_localstack.pytest_plugin import app_client, assert_operational


async def test_service_is_healthy_ready_and_measured(service_database_url, kafka):
    settings = Settings(
        environment="test",
        database_url=service_database_url("identity"),
        **kafka.service_settings("identity"),
    )
    async with app_client(create_app(settings)) as client:
        await assert_operational(
            client, openapi_paths=[f"{prefix}/openapi.json" for prefix in API_PREFIXES]
        )


PASSWORD = "correct horse battery staple"


async def test_identity_serves_while_its_hashing_worker_warms_up(make_settings, unique) -> None:
    app = create_app(make_settings())
    passwords = app.state.identity.passwords
    warm = asyncio.Event()
    start = passwords.start

    async def slow_start() -> None:
        await warm.wait()
        await start()

    passwords.start = slow_start
    async with asyncio.timeout(60), app_client(app, base_url="http://identity") as client:
        assert (await client.get("/api/v1/auth/jwks")).status_code == 200
        warm.set()
        registered = await client.post(
            "/api/v1/auth/register",
            json={"email": f"{unique('warm')}@example.org", "password": PASSWORD, "full_name": "W"},
        )
        assert registered.status_code == 201, registered.text
