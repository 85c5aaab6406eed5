"""POST /api/v1/auth/login: credentials, tokens, throttling, rehash."""

from __future__ import annotations

import asyncio
import time
import uuid

import jwt
import pytest
from argon2 import PasswordHasher

from edvent_identity.adapters.passwords import Hashing

PASSWORD = "correct horse battery staple"


async def login(client, email, password=PASSWORD, *, client_ip=None):
    headers = {"X-Forwarded-For": client_ip} if client_ip else {}
    return await client.post(
        "/api/v1/auth/login", json={"email": email, "password": password}, headers=headers
    )


async def test_logging_in_returns_a_bearer_pair(client, accounts, settings) -> None:
    account = await accounts.register()
    response = await login(client, f"  {account.email.upper()} ")
    assert response.status_code == 200
    pair = response.json()
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == 900
    assert response.headers["cache-control"] == "no-store"
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    assert claims["sub"] == str(account.id)
    assert claims["role"] == "STUDENT"
    assert claims["iss"] == settings.jwt_issuer
    assert claims["aud"] == settings.jwt_audience
    # `iat` has milliseconds (the session cut-off needs them), `exp` whole seconds.
    assert claims["exp"] - int(claims["iat"]) == 900
    assert abs(claims["iat"] - time.time()) < 60
    uuid.UUID(claims["jti"])


async def test_unknown_email_and_wrong_password_get_the_same_401(client, accounts) -> None:
    account = await accounts.register()
    wrong_password = await login(client, account.email, "not the password at all")
    unknown_email = await login(client, f"nobody-{uuid.uuid4().hex}@example.org")
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()
    assert wrong_password.headers["www-authenticate"] == unknown_email.headers["www-authenticate"]


async def test_an_unknown_email_still_costs_a_password_verification(client, identity, monkeypatch):
    calls: list[str] = []
    original = Hashing.verify

    async def spy(self, password_hash: str, password: str) -> bool:
        calls.append(password_hash)
        return await original(self, password_hash, password)

    monkeypatch.setattr(Hashing, "verify", spy)
    response = await login(client, f"nobody-{uuid.uuid4().hex}@example.org")
    assert response.status_code == 401
    assert len(calls) == 1 and calls[0].startswith("$argon2id$")


async def test_invalid_login_bodies_are_422(client) -> None:
    for payload in ({}, {"email": "a@example.org"}, {"email": "a@example.org", "password": ""}):
        response = await client.post("/api/v1/auth/login", json=payload)
        assert response.status_code == 422


async def test_five_failures_for_an_email_throttle_the_sixth_even_with_the_right_password(
    client, accounts
) -> None:
    account = await accounts.register()
    for _ in range(5):
        assert (await login(client, account.email, "wrong password!!")).status_code == 401
    throttled = await login(client, account.email)
    assert throttled.status_code == 429
    assert throttled.headers["content-type"] == "application/problem+json"
    retry_after = int(throttled.headers["retry-after"])
    assert 800 < retry_after <= 900
    # Other accounts are not affected.
    other = await accounts.register()
    assert (await login(client, other.email)).status_code == 200


async def test_a_strangers_failures_do_not_lock_the_owner_out(client, accounts) -> None:
    account = await accounts.register()
    stranger, owner = "198.51.100.66", "192.0.2.10"
    for _ in range(5):
        failed = await login(client, account.email, "wrong password!!", client_ip=stranger)
        assert failed.status_code == 401
    # The stranger's address is throttled for this account, even with the password...
    throttled = await login(client, account.email, client_ip=stranger)
    assert throttled.status_code == 429
    assert 800 < int(throttled.headers["retry-after"]) <= 900
    # ...while the owner, from their own address, gets in.
    assert (await login(client, account.email, client_ip=owner)).status_code == 200


async def test_guessing_from_many_addresses_slows_the_account_for_at_most_a_minute(
    client, accounts, settings, sql
) -> None:
    account = await accounts.register()
    owner = "192.0.2.10"
    after = settings.login_account_slowdown_after

    def failed_just_now() -> None:
        # Hashing may take seconds on a busy machine: the test sets the clock, not it.
        sql(
            "UPDATE identity.login_failures SET failed_at = now() WHERE subject LIKE %s",
            (f"{account.email}%",),
        )

    def time_passes(seconds: int) -> None:
        sql(
            "UPDATE identity.login_failures SET failed_at = failed_at - make_interval(secs => %s)"
            " WHERE subject LIKE %s",
            (seconds, f"{account.email}%"),
        )

    for i in range(after):
        failed = await login(client, account.email, "wrong password!!", client_ip=f"203.0.113.{i}")
        assert failed.status_code == 401
    # Every address, the owner's too, now waits, and the wait grows with each failure...
    expected = 2
    for i in range(8):
        failed_just_now()
        slowed = await login(client, account.email, client_ip=owner)
        assert slowed.status_code == 429
        assert expected - 1 <= int(slowed.headers["retry-after"]) <= expected
        time_passes(expected)
        guess = await login(client, account.email, "wrong password!!", client_ip=f"198.51.100.{i}")
        assert guess.status_code == 401
        expected = min(expected * 2, settings.login_account_max_delay_seconds)
    # ...but never beyond a minute: then the right password gets in.
    failed_just_now()
    slowed = await login(client, account.email, client_ip=owner)
    assert 50 <= int(slowed.headers["retry-after"]) <= 60
    time_passes(60)
    assert (await login(client, account.email, client_ip=owner)).status_code == 200


async def test_the_email_throttle_is_case_insensitive(client, accounts) -> None:
    account = await accounts.register()
    for i in range(5):
        spelling = account.email.upper() if i % 2 else account.email
        assert (await login(client, spelling, "wrong password!!")).status_code == 401
    assert (await login(client, account.email.title())).status_code == 429


async def test_a_successful_login_clears_the_email_counter(client, accounts) -> None:
    account = await accounts.register()
    for _ in range(4):
        assert (await login(client, account.email, "wrong password!!")).status_code == 401
    assert (await login(client, account.email)).status_code == 200
    for _ in range(5):
        assert (await login(client, account.email, "wrong password!!")).status_code == 401
    assert (await login(client, account.email)).status_code == 429


async def test_parallel_guesses_are_throttled_as_strictly_as_sequential_ones(
    client, accounts
) -> None:
    account = await accounts.register()
    responses = await asyncio.gather(
        *(login(client, account.email, f"wrong password {i}") for i in range(12))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [401] * 5 + [429] * 7


async def test_unknown_emails_are_throttled_like_known_ones(client) -> None:
    email = f"nobody-{uuid.uuid4().hex}@example.org"
    for _ in range(5):
        assert (await login(client, email)).status_code == 401
    assert (await login(client, email)).status_code == 429


async def test_one_client_address_is_throttled_across_emails(client, settings) -> None:
    # Behind the trusted gateway the address comes from X-Forwarded-For.
    attacker = "198.51.100.7"
    limit = settings.login_max_failures_per_client
    for i in range(limit):
        response = await login(
            client, f"victim-{i}-{uuid.uuid4().hex}@example.org", client_ip=attacker
        )
        assert response.status_code == 401
    blocked = await login(client, f"victim-x-{uuid.uuid4().hex}@example.org", client_ip=attacker)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    innocent = await login(client, f"someone-{uuid.uuid4().hex}@example.org", client_ip="192.0.2.1")
    assert innocent.status_code == 401


async def test_without_a_trusted_proxy_forwarded_for_is_ignored(make_settings, unique) -> None:
    from edvent_identity.main import create_app
    from edvent_localstack.pytest_plugin import app_client

    app = create_app(make_settings(trusted_proxies=(), login_max_failures_per_client=3))
    async with app_client(app, base_url="http://identity") as untrusted:
        for i in range(3):
            response = await login(
                untrusted, f"{unique('v')}@example.org", client_ip=f"203.0.113.{i}"
            )
            assert response.status_code == 401
        # Claiming yet another address does not help: the peer address is what counts.
        blocked = await login(untrusted, f"{unique('v')}@example.org", client_ip="203.0.113.99")
        assert blocked.status_code == 429


async def test_a_hash_with_old_parameters_is_replaced_on_login(client, accounts, sql) -> None:
    account = await accounts.register()
    old_hash = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=2).hash(PASSWORD)
    sql("UPDATE identity.users SET password_hash = %s WHERE id = %s", (old_hash, account.id))
    assert (await login(client, account.email)).status_code == 200
    [(new_hash,)] = sql("SELECT password_hash FROM identity.users WHERE id = %s", (account.id,))
    assert new_hash != old_hash
    assert new_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert (await login(client, account.email)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        r'{"email": "ada\u0000@example.org", "password": "correct horse battery staple"}',
        r'{"email": "ada\ud800@example.org", "password": "correct horse battery staple"}',
        r'{"email": "ada@example.org", "password": "correct horse battery \udc00"}',
    ],
)
async def test_text_no_database_can_hold_is_422_not_500(client, body) -> None:
    response = await client.post(
        "/api/v1/auth/login", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_whitespace_around_the_email_is_still_trimmed_not_refused(client, accounts) -> None:
    account = await accounts.register()
    assert (await login(client, f"\t{account.email}\r\n")).status_code == 200
