"""Identity through the gateway, as a client that knows only CONTRACT.md."""

from __future__ import annotations

import secrets

import pytest

from edvent_events import pii
from edvent_events.envelope import decode
from edvent_localstack.pytest_plugin import read_topic

from .conftest import ADMIN_EMAIL, ADMIN_PASSWORD

pytestmark = pytest.mark.e2e
PASSWORD = "a long enough password"


def new_email() -> str:
    return f"Student.{secrets.token_hex(4)}@Example.COM"


async def login(gateway, email: str, password: str = PASSWORD) -> dict:
    answer = await gateway.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return answer.json()


def bearer(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_register_login_and_see_myself(gateway):
    email = new_email()
    registered = await gateway.post(
        "/api/v1/auth/register",
        json={"email": f"  {email} ", "password": PASSWORD, "full_name": "Ada Student"},
    )
    assert registered.status_code == 201, registered.text
    user = registered.json()
    assert user["email"] == email.lower()
    assert user["role"] == "STUDENT"
    assert set(user) == {
        "id", "email", "full_name", "role", "created_at", "email_verified", "disabled",
    }  # fmt: skip

    tokens = await login(gateway, email.upper())
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] > 0
    me = await gateway.get("/api/v1/users/me", headers=bearer(tokens))
    assert me.status_code == 200
    assert me.json()["id"] == user["id"]

    duplicate = await gateway.post(
        "/api/v1/auth/register",
        json={"email": email.lower(), "password": PASSWORD, "full_name": "Again"},
    )
    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"] == "application/problem+json"


async def test_bad_registrations_are_422(gateway):
    short = await gateway.post(
        "/api/v1/auth/register",
        json={"email": new_email(), "password": "short", "full_name": "X"},
    )
    assert short.status_code == 422
    assert short.json()["errors"]


async def test_refresh_rotates_and_reuse_revokes_the_family(gateway):
    email = new_email()
    await gateway.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "full_name": "R"}
    )
    first = await login(gateway, email)
    second = await gateway.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]

    reused = await gateway.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert reused.status_code == 401
    # The whole family is revoked: the newest token stops working too.
    after = await gateway.post(
        "/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}
    )
    assert after.status_code == 401


async def test_logout_ends_the_refresh_token(gateway):
    email = new_email()
    await gateway.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "full_name": "L"}
    )
    tokens = await login(gateway, email)
    out = await gateway.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    assert out.status_code == 204
    again = await gateway.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert again.status_code == 401


async def test_wrong_password_and_unknown_email_look_the_same_then_throttle(gateway):
    email = new_email()
    await gateway.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "full_name": "T"}
    )
    wrong = await gateway.post(
        "/api/v1/auth/login", json={"email": email, "password": "not the password!"}
    )
    unknown = await gateway.post(
        "/api/v1/auth/login", json={"email": new_email(), "password": "not the password!"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    for _ in range(4):
        await gateway.post(
            "/api/v1/auth/login", json={"email": email, "password": "not the password!"}
        )
    throttled = await gateway.post(
        "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
    )
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0


async def test_a_strangers_failures_lock_out_the_stranger_not_the_owner(gateway):
    email = new_email()
    registered = await gateway.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "full_name": "T"}
    )
    assert registered.status_code == 201, registered.text
    stranger = {"X-Forwarded-For": "198.51.100.23"}
    owner = {"X-Forwarded-For": "192.0.2.23"}
    for _ in range(5):
        failed = await gateway.post(
            "/api/v1/auth/login",
            json={"email": email, "password": "not the password!"},
            headers=stranger,
        )
        assert failed.status_code == 401
    throttled = await gateway.post(
        "/api/v1/auth/login", json={"email": email, "password": PASSWORD}, headers=stranger
    )
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0
    signed_in = await gateway.post(
        "/api/v1/auth/login", json={"email": email, "password": PASSWORD}, headers=owner
    )
    assert signed_in.status_code == 200, signed_in.text


async def test_a_user_deletes_their_account_and_the_email_registers_again(gateway):
    email = new_email()
    body = {"email": email, "password": PASSWORD, "full_name": "T"}
    first = await gateway.post("/api/v1/auth/register", json=body)
    assert first.status_code == 201, first.text
    tokens = await login(gateway, email)
    wrong = await gateway.request(
        "DELETE", "/api/v1/users/me", json={"password": "not the password!"}, headers=bearer(tokens)
    )
    assert wrong.status_code == 403
    erased = await gateway.request(
        "DELETE", "/api/v1/users/me", json={"password": PASSWORD}, headers=bearer(tokens)
    )
    assert erased.status_code == 204, erased.text
    assert (await gateway.get("/api/v1/users/me", headers=bearer(tokens))).status_code == 401
    again = await gateway.post("/api/v1/auth/register", json=body)
    assert again.status_code == 201, again.text
    assert again.json()["id"] != first.json()["id"]


async def test_bootstrap_admin_promotes_a_user_and_lists_users(gateway):
    email = new_email()
    user = (
        await gateway.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "full_name": "P"}
        )
    ).json()
    student = await login(gateway, email)
    admin = await login(gateway, ADMIN_EMAIL, ADMIN_PASSWORD)

    forbidden = await gateway.patch(
        f"/api/v1/users/{user['id']}", json={"role": "INSTRUCTOR"}, headers=bearer(student)
    )
    assert forbidden.status_code == 403
    assert (await gateway.get("/api/v1/users", headers=bearer(student))).status_code == 403
    assert (await gateway.get("/api/v1/users/me")).status_code == 401

    promoted = await gateway.patch(
        f"/api/v1/users/{user['id']}", json={"role": "INSTRUCTOR"}, headers=bearer(admin)
    )
    assert promoted.status_code == 200
    assert promoted.json()["role"] == "INSTRUCTOR"
    listed = await gateway.get("/api/v1/users", params={"limit": 100}, headers=bearer(admin))
    assert listed.status_code == 200
    assert {"items", "next_cursor"} <= set(listed.json())

    missing = await gateway.patch(
        "/api/v1/users/00000000-0000-4000-8000-000000000000",
        json={"role": "INSTRUCTOR"},
        headers=bearer(admin),
    )
    assert missing.status_code == 404


async def test_jwks_publishes_the_signing_keys(gateway):
    jwks = (await gateway.get("/api/v1/auth/jwks")).json()
    assert jwks["keys"]
    assert all("kid" in key and "d" not in key for key in jwks["keys"])


async def test_a_data_team_sees_the_registration_on_the_topic(gateway, platform):
    email = new_email()
    user = (
        await gateway.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "full_name": "D"}
        )
    ).json()

    key = user["id"].encode()
    mine = await read_topic(
        platform.kafka, "identity.users", expected=1, where=lambda r: r.key == key
    )
    assert mine, "UserRegistered never reached identity.users"
    event = decode(mine[0].headers, mine[0].value)
    assert event.type == "edvent.identity.user.registered.v1"
    # Encrypted with the user's key, which the data team reads on identity.user-keys.
    assert email.lower().encode() not in mine[0].value
    keys = await pii.read_user_keys(platform.kafka)
    user_id = event.data.user_id
    opened = pii.decrypt_fields(event.data.model_dump(), key=keys[user_id], user_id=user_id)
    assert opened["email"] == email.lower()
    assert opened["full_name"] == "D"
