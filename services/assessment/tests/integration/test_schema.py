"""The migrations and the table definitions describe the same schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from edvent_assessment.db.tables import metadata

# The events library's tables, made by migrations 0001/0002 and checked there.
EVENTS_TABLES = {"outbox", "inbox", "dead_letters", "alembic_version"}


def test_migrations_match_the_tables(admin_dsn) -> None:
    # As the superuser, whose default schema is not `assessment`, so names compare as
    # schema-qualified on both sides.
    engine = create_engine(admin_dsn.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "include_schemas": True,
                    "include_name": lambda name, kind, _parent: (
                        kind != "schema" or name == "assessment"
                    ),
                    "include_object": lambda obj, name, kind, *_: (
                        not (kind == "table" and name in EVENTS_TABLES)
                    ),
                    "compare_type": True,
                },
            )
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_an_attempt_needs_a_known_user_and_exam(sql) -> None:
    import psycopg
    import pytest

    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        sql(
            "INSERT INTO assessment.exam_attempts (exam_id, user_id, deadline, answer_sheet)"
            " VALUES (gen_random_uuid(), gen_random_uuid(), now() + interval '1 hour', '[]')"
        )
