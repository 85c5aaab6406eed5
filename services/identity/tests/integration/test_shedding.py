"""A login storm waits at the hashing queue, and past a bound is shed: 503 with Retry-After."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from edvent_identity.adapters.passwords import Passwords
from edvent_identity.main import create_app
from edvent_localstack.pytest_plugin import app_client

PASSWORD = "correct horse battery staple"


@asynccontextmanager
async def all_slots_taken(passwords: Passwords) -> AsyncIterator[None]:
    """Every hashing slot held, as by logins being hashed, until the block ends."""
    async with AsyncExitStack() as held:
        for _ in range(passwords.capacity):
            await held.enter_async_context(passwords.slot())
        yield


async def test_a_login_past_the_hashing_bound_waits_for_a_slot(client, identity, accounts) -> None:
    account = await accounts.register()
    passwords = identity.passwords
    async with all_slots_taken(passwords):
        login = asyncio.create_task(
            client.post("/api/v1/auth/login", json={"email": account.email, "password": PASSWORD})
        )
        deadline = time.monotonic() + 10
        while passwords.waiting < 1:
            assert time.monotonic() < deadline and not login.done(), "the login did not wait"
            await asyncio.sleep(0.01)
    # The slots given back, the waiting login takes one and goes through.
    assert (await login).status_code == 200
    assert (passwords.admitted, passwords.waiting) == (0, 0)


async def test_a_full_waiting_room_answers_login_and_register_503_at_once(
    make_settings, accounts, sql, unique
) -> None:
    account = await accounts.register()
    failures_before = sql("SELECT count(*) FROM identity.login_failures")
    # A long wait limit, so "at once" can be told from "waited" with a generous bound
    # that a busy machine never reaches.
    app = create_app(make_settings(password_hashing_waiting=0, password_hashing_wait_seconds=60))
    passwords = app.state.identity.passwords
    async with app_client(app, base_url="http://identity") as client:
        async with all_slots_taken(passwords):
            started = time.perf_counter()
            login = await client.post(
                "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
            )
            register = await client.post(
                "/api/v1/auth/register",
                json={
                    "email": f"{unique('shed')}@example.org",
                    "password": PASSWORD,
                    "full_name": "S",
                },
            )
            elapsed = time.perf_counter() - started
        for response in (login, register):
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["retry-after"] == "1"
            assert response.json()["status"] == 503
        # Refused before any work (no waiting, no hashing), nothing counted, nothing created.
        assert elapsed < 30
        assert sql("SELECT count(*) FROM identity.login_failures") == failures_before
        assert sql("SELECT count(*) FROM identity.users") == [(1,)]
        # Once the queue has room again, the same login goes through.
        again = await client.post(
            "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
        )
        assert again.status_code == 200


async def test_a_wait_past_its_limit_is_503(make_settings, accounts) -> None:
    account = await accounts.register()
    app = create_app(make_settings(password_hashing_wait_seconds=0.2))
    passwords = app.state.identity.passwords
    async with app_client(app, base_url="http://identity") as client:
        async with all_slots_taken(passwords):
            login = await client.post(
                "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
            )
        assert login.status_code == 503, login.text
        assert login.headers["retry-after"] == "1"
        assert (passwords.admitted, passwords.waiting) == (0, 0)


async def test_logins_beyond_the_hashing_bound_are_shed_without_a_waiting_room(
    make_settings, accounts
) -> None:
    account = await accounts.register()
    small = create_app(
        make_settings(
            password_hashing_workers=1, password_hashing_queue=0, password_hashing_waiting=0
        )
    )
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
