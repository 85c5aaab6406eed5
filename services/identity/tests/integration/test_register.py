"""POST /api/v1/auth/register."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import psycopg
import pytest

from edvent_identity.adapters.passwords import Hashing

PASSWORD = "correct horse battery staple"


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "email": "ada@example.org",
        "password": PASSWORD,
        "full_name": "Ada Lovelace",
    } | overrides


async def test_registering_creates_a_student(client, unique, sql) -> None:
    email = f"{unique('ada')}@example.org"
    response = await client.post(
        "/api/v1/auth/register", json=body(email=f"  {email.upper()} ", full_name=" Ada ")
    )
    assert response.status_code == 201
    user = response.json()
    assert set(user) == {
        "id", "email", "full_name", "role", "created_at", "email_verified", "disabled"
    }  # fmt: skip
    assert user["email"] == email
    assert user["full_name"] == "Ada"
    assert user["role"] == "STUDENT"
    assert user["created_at"].endswith(("Z", "+00:00"))
    assert response.headers["location"] == f"/api/v1/users/{user['id']}"
    [(stored_email, password_hash)] = sql(
        "SELECT email, password_hash FROM identity.users WHERE id = %s", (user["id"],)
    )
    assert stored_email == email
    assert password_hash.startswith("$argon2id$")


async def test_emails_differing_only_in_case_collide(client, unique) -> None:
    email = f"{unique('grace')}@example.org"
    first = await client.post("/api/v1/auth/register", json=body(email=email))
    assert first.status_code == 201
    again = await client.post("/api/v1/auth/register", json=body(email=email.upper()))
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["status"] == 409


async def test_concurrent_registrations_of_one_email_create_one_account(
    client, unique, sql
) -> None:
    email = f"{unique('race')}@example.org"
    responses = await asyncio.gather(
        *(
            client.post("/api/v1/auth/register", json=body(email=spelling))
            for spelling in (email, email.upper(), email.title(), f" {email} ")
        )
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    assert sql("SELECT count(*) FROM identity.users WHERE email = %s", (email,)) == [(1,)]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("password", "p" * 11),
        ("password", "p" * 129),
        ("password", "🔑" * 11),
        ("email", "not-an-email"),
        ("email", ""),
        ("full_name", ""),
        ("full_name", "x" * 201),
    ],
)
async def test_invalid_registrations_are_422_with_errors(client, field, value) -> None:
    response = await client.post("/api/v1/auth/register", json=body(**{field: value}))
    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["loc"] for error in problem["errors"]] == [["body", field]]
    assert PASSWORD not in response.text


async def test_password_length_is_counted_in_characters(client, unique) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json=body(email=f"{unique('emoji')}@example.org", password="🔑" * 12),
    )
    assert response.status_code == 201
    response = await client.post(
        "/api/v1/auth/register",
        json=body(email=f"{unique('long')}@example.org", password="é" * 128),
    )
    assert response.status_code == 201


async def test_missing_fields_are_422(client) -> None:
    response = await client.post("/api/v1/auth/register", json={"email": "a@example.org"})
    assert response.status_code == 422
    assert {tuple(e["loc"]) for e in response.json()["errors"]} == {
        ("body", "password"),
        ("body", "full_name"),
    }


async def test_a_client_cannot_choose_its_role(client, unique) -> None:
    response = await client.post(
        "/api/v1/auth/register", json=body(email=f"{unique('sneaky')}@example.org", role="ADMIN")
    )
    assert response.status_code == 201
    assert response.json()["role"] == "STUDENT"


def test_the_database_refuses_upper_case_emails(admin_dsn) -> None:
    with psycopg.connect(admin_dsn) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "INSERT INTO identity.users (email, full_name, password_hash)"
            " VALUES ('Ada@Example.org', 'Ada', 'x')"
        )


@pytest.mark.parametrize(
    ("field", "raw"),
    [
        # JSON escapes that decode to text PostgreSQL, Argon2 or UTF-8 cannot take.
        ("full_name", r"Ada\u0000Lovelace"),
        ("full_name", r"Ada\ud800"),
        ("email", r"ada\u0000@example.org"),
        ("email", r"ada\udfff@example.org"),
        ("password", r"correct horse battery \ud83d"),
    ],
)
async def test_text_no_database_can_hold_is_422_not_500(client, field, raw) -> None:
    fields = {k: json.dumps(v) for k, v in body(email="raw@example.org").items()}
    fields[field] = f'"{raw}"'
    content = "{" + ",".join(f'"{k}":{v}' for k, v in fields.items()) + "}"
    response = await client.post(
        "/api/v1/auth/register", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["loc"] for error in response.json()["errors"]] == [["body", field]]


async def test_registrations_from_one_address_are_throttled_409s_included(
    client, unique, settings
) -> None:
    email = f"{unique('flood')}@example.org"
    flood = {"X-Forwarded-For": "203.0.113.9"}
    first = await client.post("/api/v1/auth/register", json=body(email=email), headers=flood)
    assert first.status_code == 201
    for _ in range(settings.register_max_per_client - 1):
        duplicate = await client.post(
            "/api/v1/auth/register", json=body(email=email), headers=flood
        )
        assert duplicate.status_code == 409
    throttled = await client.post(
        "/api/v1/auth/register",
        json=body(email=f"{unique('late')}@example.org"),
        headers=flood,
    )
    assert throttled.status_code == 429
    assert throttled.headers["content-type"] == "application/problem+json"
    assert 0 < int(throttled.headers["retry-after"]) <= settings.register_window_seconds
    # Other addresses register as before.
    other = await client.post(
        "/api/v1/auth/register",
        json=body(email=f"{unique('other')}@example.org"),
        headers={"X-Forwarded-For": "198.51.100.7"},
    )
    assert other.status_code == 201


async def test_a_taken_email_answers_409_without_hashing(client, unique, monkeypatch) -> None:
    email = f"{unique('taken')}@example.org"
    assert (await client.post("/api/v1/auth/register", json=body(email=email))).status_code == 201
    hashed: list[str] = []
    original = Hashing.hash

    async def spy(self: Hashing, password: str) -> str:
        hashed.append(password)
        return await original(self, password)

    monkeypatch.setattr(Hashing, "hash", spy)
    duplicate = await client.post("/api/v1/auth/register", json=body(email=email.upper()))
    assert duplicate.status_code == 409
    assert hashed == []
