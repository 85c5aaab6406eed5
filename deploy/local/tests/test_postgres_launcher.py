"""The local PostgreSQL: real server, one schema and role per service, grants enforced."""

import psycopg
import pytest

from edvent_localstack.postgres import PostgresServer


@pytest.fixture(scope="module")
def identity_and_content(provisioned):
    return provisioned("identity"), provisioned("content")


def test_migrator_role_works_in_its_own_schema_with_pgvector(postgres, identity_and_content):
    identity, _ = identity_and_content
    migrator = identity.migrator
    with psycopg.connect(postgres.dsn(user=migrator.role, password=migrator.password)) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS launcher_probe (v vector(3))")
        conn.execute("INSERT INTO launcher_probe VALUES ('[1,0,0]')")
        distance = conn.execute("SELECT v <-> '[0,0,0]' FROM launcher_probe").fetchone()
        assert distance == (1.0,)
        assert conn.execute("SELECT current_schema()").fetchone() == ("identity",)
        conn.rollback()


def test_content_role_cannot_read_identity_users(
    postgres, identity_and_content, service_database_url
):
    _, content = identity_and_content
    service_database_url("identity")  # the real identity schema, migrated: identity.users
    with psycopg.connect(postgres.admin_dsn()) as conn:
        assert conn.execute("SELECT to_regclass('identity.users')").fetchone() == (
            "identity.users",
        )
    with (
        psycopg.connect(postgres.dsn(user=content.role, password=content.password)) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("SELECT email FROM identity.users")


def test_service_role_cannot_create_schemas_or_use_public(postgres, identity_and_content):
    _, content = identity_and_content
    dsn = postgres.dsn(user=content.role, password=content.password)
    with psycopg.connect(dsn, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE SCHEMA sneaky")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE public.sneaky (i int)")


def test_runtime_role_uses_tables_the_migrator_makes_but_cannot_alter_them(
    postgres, identity_and_content
):
    _, content = identity_and_content
    migrator = content.migrator
    with psycopg.connect(postgres.dsn(user=migrator.role, password=migrator.password)) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS grants_probe (id bigserial, v int)")
        conn.commit()
    try:
        dsn = postgres.dsn(user=content.role, password=content.password)
        with psycopg.connect(dsn) as conn:
            # Default privileges: DML and the sequence, on a table made after provisioning.
            conn.execute("INSERT INTO grants_probe (v) VALUES (1)")
            conn.execute("UPDATE grants_probe SET v = 2")
            conn.execute("DELETE FROM grants_probe")
            conn.rollback()
            for statement in (
                "TRUNCATE grants_probe",
                "ALTER TABLE grants_probe ADD COLUMN w int",
                "DROP TABLE grants_probe",
                "CREATE TABLE sneaky (i int)",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
                conn.rollback()
    finally:
        with psycopg.connect(postgres.admin_dsn(), autocommit=True) as conn:
            conn.execute("DROP TABLE content.grants_probe")


def test_wrong_password_is_refused(postgres, identity_and_content):
    identity, _ = identity_and_content
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(postgres.dsn(user=identity.role, password="wrong"))


def test_data_survives_a_restart(tmp_path):
    from edvent_localstack.process import free_port

    server = PostgresServer(data_dir=tmp_path / "pg", port=free_port(), log_file=tmp_path / "log")
    server.start()
    try:
        with psycopg.connect(server.admin_dsn(), autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (i int)")
            conn.execute("INSERT INTO kept VALUES (42)")
        server.stop()
        server.port = free_port()
        server.start()
        with psycopg.connect(server.admin_dsn()) as conn:
            assert conn.execute("SELECT i FROM kept").fetchone() == (42,)
    finally:
        server.stop()
    assert not server._process or not server._process.running()
