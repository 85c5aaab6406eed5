"""GET /api/v1/auth/jwks, verification by other services, rotation, configured keys."""

from __future__ import annotations

import asyncio
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from edvent_identity.adapters.signing_keys import load_signing_key
from edvent_identity.main import create_app
from edvent_identity.usecases import keys as keys_usecases
from edvent_localstack.pytest_plugin import app_client
from edvent_platform.auth import AuthSettings, jwks_token_verifier
from edvent_platform.db import transaction

PASSWORD = "correct horse battery staple"


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


async def test_the_jwks_publishes_the_signing_key_and_may_be_cached(client, accounts) -> None:
    account = await accounts.register()
    response = await client.get("/api/v1/auth/jwks")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    keys = response.json()["keys"]
    assert kid_of(account.access_token) in {key["kid"] for key in keys}
    for key in keys:
        assert key["use"] == "sig"
        assert key["alg"] in {"EdDSA", "RS256"}
        assert "d" not in key


async def test_another_service_verifies_identity_tokens_through_the_jwks(
    app, accounts, settings
) -> None:
    account = await accounts.register()
    verifier = jwks_token_verifier(
        AuthSettings(
            jwks_url="http://identity/api/v1/auth/jwks",
            jwt_issuer=settings.jwt_issuer,
            jwt_audience=settings.jwt_audience,
        ),
        client=httpx.AsyncClient(transport=httpx.ASGITransport(app=app)),
    )
    try:
        principal = await verifier.verify(account.access_token)
    finally:
        await verifier.aclose()
    assert principal.user_id == account.id
    assert principal.role == "STUDENT"


async def test_after_a_rotation_new_tokens_use_the_new_key_and_old_ones_still_work(
    client, accounts, identity
) -> None:
    before = await accounts.register()
    async with transaction(identity.sessions) as session:
        old_kid, new_key = await keys_usecases.rotate(
            session=session, passphrase=None, algorithm="EdDSA"
        )
    assert old_kid == kid_of(before.access_token)

    after = await accounts.login(email=before.email)
    assert kid_of(after.access_token) == new_key.kid
    published = {key["kid"] for key in (await client.get("/api/v1/auth/jwks")).json()["keys"]}
    assert {old_kid, new_key.kid} <= published
    # A token signed before the rotation keeps working until it expires.
    assert (await client.get("/api/v1/users/me", headers=before.auth)).status_code == 200
    assert (await client.get("/api/v1/users/me", headers=after.auth)).status_code == 200


async def test_a_configured_key_wins_over_the_generated_ones(
    make_settings, unique, sql, app, accounts
) -> None:
    existing = await accounts.register()
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    configured = create_app(make_settings(signing_key_pem=pem))
    async with app_client(configured, base_url="http://identity") as client:
        email = f"{unique('rsa')}@example.org"
        await client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": PASSWORD, "full_name": "R. S. A."},
        )
        pair = (
            await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        ).json()
        header = jwt.get_unverified_header(pair["access_token"])
        assert header["alg"] == "RS256"
        jwks = (await client.get("/api/v1/auth/jwks")).json()["keys"]
        assert header["kid"] in {key["kid"] for key in jwks}
        # Tokens of the key it replaced still verify.
        me = await client.get("/api/v1/users/me", headers=existing.auth)
        assert me.status_code == 200
    # Its private half stays in the configuration.
    assert sql(
        "SELECT private_key_pem IS NULL FROM identity.signing_keys WHERE kid = %s",
        (header["kid"],),
    ) == [(True,)]
    # An instance without that configuration goes back to a generated key of its own.
    again = await accounts.login(email=existing.email)
    assert jwt.get_unverified_header(again.access_token)["alg"] == "EdDSA"
    assert sql("SELECT count(*) FROM identity.signing_keys WHERE retired_at IS NULL") == [(1,)]


async def test_a_token_of_a_key_retired_past_its_retention_is_rejected(
    client, accounts, identity, sql
) -> None:
    before = await accounts.register()
    async with transaction(identity.sessions) as session:
        old_kid, _ = await keys_usecases.rotate(session=session, passphrase=None, algorithm="EdDSA")
    sql(
        "UPDATE identity.signing_keys SET retired_at = now() - interval '1 day' WHERE kid = %s",
        (old_kid,),
    )
    published = {key["kid"] for key in (await client.get("/api/v1/auth/jwks")).json()["keys"]}
    assert old_kid not in published
    # identity caches its own key set for about a second; then the old key is gone.
    deadline = time.monotonic() + 10
    while (await client.get("/api/v1/users/me", headers=before.auth)).status_code != 401:
        assert time.monotonic() < deadline, "a token of an unpublished key kept working"
        await asyncio.sleep(0.1)


async def test_stored_signing_keys_are_encrypted_with_the_passphrase(
    make_settings, identity, sql, unique
) -> None:
    passphrase = "a key-encryption secret for tests"
    # The shared app stored its key unencrypted (tests configure no passphrase).
    secured = create_app(make_settings(signing_key_passphrase=passphrase))
    try:
        async with app_client(secured, base_url="http://identity") as client:
            [(kid, pem)] = sql(
                "SELECT kid, private_key_pem FROM identity.signing_keys WHERE retired_at IS NULL"
            )
            assert pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
            assert load_signing_key(pem, passphrase=passphrase.encode()).kid == kid
            with pytest.raises(ValueError, match="cannot read"):
                load_signing_key(pem)
            email = f"{unique('enc')}@example.org"
            await client.post(
                "/api/v1/auth/register",
                json={"email": email, "password": PASSWORD, "full_name": "E"},
            )
            login = await client.post(
                "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
            )
            assert kid_of(login.json()["access_token"]) == kid
            async with transaction(identity.sessions) as session:
                _, rotated = await keys_usecases.rotate(
                    session=session, passphrase=passphrase.encode(), algorithm="EdDSA"
                )
            [(rotated_pem,)] = sql(
                "SELECT private_key_pem FROM identity.signing_keys WHERE kid = %s",
                (rotated.kid,),
            )
            assert rotated_pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    finally:
        # Give the shared (passphrase-less) app a key it can read again.
        async with transaction(identity.sessions) as session:
            await keys_usecases.rotate(session=session, passphrase=None, algorithm="EdDSA")


async def test_a_retired_key_stays_published_through_the_reload_interval(
    make_settings, identity, sql
) -> None:
    async with transaction(identity.sessions) as session:
        old_kid, _ = await keys_usecases.rotate(session=session, passphrase=None, algorithm="EdDSA")
    settings = make_settings(signing_key_reload_seconds=600)
    # An instance that reloads every 10 minutes may have signed with the old key up to
    # 10 minutes after the rotation; such a token lives 15 minutes more. 20 minutes
    # after the rotation it may still be in use.
    sql(
        "UPDATE identity.signing_keys SET retired_at = now() - interval '20 minutes'"
        " WHERE kid = %s",
        (old_kid,),
    )
    assert settings.access_token_ttl_seconds == 900
    async with app_client(create_app(settings), base_url="http://identity") as client:
        published = {key["kid"] for key in (await client.get("/api/v1/auth/jwks")).json()["keys"]}
    assert old_kid in published
