"""The migrations and the table definitions describe the same schema; nothing leaks."""

from __future__ import annotations

from edvent_identity.db.tables import metadata
from edvent_localstack.testing import assert_migrations_match


def test_migrations_match_the_tables(identity_url, admin_dsn) -> None:
    assert_migrations_match(admin_dsn, schema="identity", metadata=metadata)


async def test_no_response_ever_carries_a_password_hash(client, accounts) -> None:
    admin = await accounts.admin()
    student = await accounts.register()
    responses = [
        await client.post(
            "/api/v1/auth/register",
            json={"email": student.email, "password": "x" * 20, "full_name": "Dup"},
        ),
        await client.get("/api/v1/users/me", headers=student.auth),
        await client.get("/api/v1/users", headers=admin.auth),
        await client.get(f"/api/v1/users/{student.id}", headers=admin.auth),
        await client.patch(
            f"/api/v1/users/{student.id}", json={"role": "INSTRUCTOR"}, headers=admin.auth
        ),
        await client.post(
            "/api/v1/auth/login", json={"email": student.email, "password": student.password}
        ),
        await client.get("/api/v1/auth/jwks"),
        await client.get("/api/v1/auth/openapi.json"),
    ]
    for response in responses:
        assert "$argon2" not in response.text
        assert "password_hash" not in response.text
