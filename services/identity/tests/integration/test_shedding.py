"""A login storm is shed at the hashing queue: 503 with Retry-After, at once."""

from __future__ import annotations

import asyncio
import time
from contextlib import ExitStack

from edvent_identity.main import create_app
from edvent_localstack.pytest_plugin import app_client

PASSWORD = "correct horse battery staple"


async def test_a_full_hashing_queue_answers_login_and_register_503_at_once(
    client, identity, accounts, sql, unique
) -> None:
    account = await accounts.register()
    failures_before = sql("SELECT count(*) FROM identity.login_failures")
    with ExitStack() as held:
        for _ in range(identity.passwords.capacity):
            held.enter_context(identity.passwords.slot())
        started = time.perf_counter()
        login = await client.post(
            "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
        )
        register = await client.post(
            "/api/v1/auth/register",
            json={"email": f"{unique('shed')}@example.org", "password": PASSWORD, "full_name": "S"},
        )
        elapsed = time.perf_counter() - started
    for response in (login, register):
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == "1"
        assert response.json()["status"] == 503
    # Refused before any work: no hashing, nothing counted, nothing created.
    assert elapsed < 1.0
    assert sql("SELECT count(*) FROM identity.login_failures") == failures_before
    assert sql("SELECT count(*) FROM identity.users") == [(1,)]
    # Once the queue has room again, the same login goes through.
    again = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
    )
    assert again.status_code == 200


async def test_logins_beyond_the_hashing_bound_are_shed_not_queued(make_settings, accounts) -> None:
    account = await accounts.register()
    small = create_app(make_settings(password_hashing_workers=1, password_hashing_queue=0))
    async with app_client(small, base_url="http://identity") as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
                )
                for _ in range(6)
            )
        )
    statuses = [r.status_code for r in responses]
    assert 200 in statuses and 503 in statuses, statuses
    assert set(statuses) <= {200, 503}
