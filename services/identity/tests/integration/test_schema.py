"""The migrations and the table definitions describe the same schema; nothing leaks."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from edvent_identity.db.tables import metadata


def test_migrations_match_the_tables(identity_url, admin_dsn) -> None:
    # As the superuser, whose default schema is not `identity`, so names compare as
    # schema-qualified on both sides.
    engine = create_engine(admin_dsn.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "include_schemas": True,
                    "include_name": lambda name, kind, _parent: (
                        kind != "schema" or name == "identity"
                    ),
                    "include_object": lambda obj, name, kind, *_: (
                        not (
                            kind == "table"
                            and name in {"outbox", "inbox", "dead_letters", "alembic_version"}
                        )
                    ),
                    "compare_type": True,
                },
            )
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


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
