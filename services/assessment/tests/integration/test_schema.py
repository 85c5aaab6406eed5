"""The migrations and the table definitions describe the same schema."""

from __future__ import annotations

from edvent_assessment.db.tables import metadata
from edvent_localstack.testing import assert_migrations_match


def test_migrations_match_the_tables(admin_dsn) -> None:
    assert_migrations_match(admin_dsn, schema="assessment", metadata=metadata)


def test_an_attempt_needs_a_known_user_and_exam(sql) -> None:
    import psycopg
    import pytest

    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        sql(
            "INSERT INTO assessment.exam_attempts (exam_id, user_id, deadline, answer_sheet)"
            " VALUES (gen_random_uuid(), gen_random_uuid(), now() + interval '1 hour', '[]')"
        )
