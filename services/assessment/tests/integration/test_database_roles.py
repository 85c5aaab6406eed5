"""What the running service's database role cannot do (issue 23).

assessment connects as `assessment`, which has DML on its tables and nothing more; the
schema and its tables belong to `assessment_migrator`, which runs the migrations. So
whatever the service (or whoever holds its password) sends, a closed attempt stays as
it was: the trigger cannot be switched off or dropped, the table cannot be truncated,
and the trigger refuses to change or delete a closed row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from edvent_localstack.postgres import PostgresServer, ServiceDatabase


@pytest.fixture
def runtime(
    postgres: PostgresServer,
    provisioned: Callable[[str], ServiceDatabase],
    service_database_url: Callable[[str], str],
) -> Iterator[psycopg.Connection[Any]]:
    """A connection as the service's own role, in a transaction rolled back after."""
    service_database_url("assessment")  # migrated
    role = provisioned("assessment")
    with psycopg.connect(postgres.dsn(user=role.role, password=role.password)) as conn:
        yield conn
        conn.rollback()


@pytest.fixture
def exam_and_user(sql: Callable[..., list[tuple[Any, ...]]]) -> tuple[str, str]:
    user_id, course_id = str(uuid.uuid4()), str(uuid.uuid4())
    sql("INSERT INTO assessment.users (id, role) VALUES (%s, 'STUDENT')", (user_id,))
    sql(
        "INSERT INTO assessment.courses (id, owner_id, title) VALUES (%s, %s, 'Roles')",
        (course_id, user_id),
    )
    [(exam_id,)] = sql(
        "INSERT INTO assessment.exams (course_id, title, duration_seconds, passing_score_percent)"
        " VALUES (%s, 'Roles', 600, 50) RETURNING id",
        (course_id,),
    )
    return str(exam_id), user_id


@pytest.fixture
def closed_attempt(
    sql: Callable[..., list[tuple[Any, ...]]], exam_and_user: tuple[str, str]
) -> str:
    exam_id, user_id = exam_and_user
    # Opened, then closed: the way the service closes one.
    [(attempt_id,)] = sql(
        "INSERT INTO assessment.exam_attempts (exam_id, user_id, deadline, answer_sheet)"
        " VALUES (%s, %s, now() + interval '1 hour', '[]') RETURNING id",
        (exam_id, user_id),
    )
    sql(
        "UPDATE assessment.exam_attempts SET status = 'completed', score = 40, passed = false,"
        " completed_at = now() WHERE id = %s",
        (attempt_id,),
    )
    return str(attempt_id)


def test_the_runtime_role_does_not_own_its_schema(runtime) -> None:
    owners = runtime.execute(
        "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'assessment'"
    ).fetchall()
    assert owners == [("assessment_migrator",)]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        runtime.execute("CREATE TABLE assessment.sneaky (i int)")


def test_the_runtime_role_cannot_disable_the_immutability_trigger(runtime) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        runtime.execute("ALTER TABLE exam_attempts DISABLE TRIGGER exam_attempts_immutable")


def test_the_runtime_role_cannot_drop_the_immutability_trigger(runtime) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        runtime.execute("DROP TRIGGER exam_attempts_immutable ON exam_attempts")


def test_the_runtime_role_cannot_truncate_exam_attempts(runtime) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        runtime.execute("TRUNCATE exam_attempts")


def test_the_runtime_role_cannot_update_a_closed_attempt(runtime, closed_attempt) -> None:
    with pytest.raises(psycopg.errors.IntegrityConstraintViolation):
        runtime.execute("UPDATE exam_attempts SET score = 100 WHERE id = %s", (closed_attempt,))


def test_the_runtime_role_cannot_delete_a_closed_attempt(runtime, closed_attempt) -> None:
    with pytest.raises(psycopg.errors.IntegrityConstraintViolation):
        runtime.execute("DELETE FROM exam_attempts WHERE id = %s", (closed_attempt,))


def test_the_runtime_role_cannot_insert_an_attempt_born_closed(runtime, exam_and_user) -> None:
    # Passes once the immutability trigger also guards INSERT (the assessment
    # migration of issue 23); the user and exam are real, so nothing else refuses it.
    exam_id, user_id = exam_and_user
    with pytest.raises(psycopg.IntegrityError):
        runtime.execute(
            "INSERT INTO exam_attempts (exam_id, user_id, status, score, passed, deadline,"
            " completed_at, answer_sheet) VALUES (%s, %s, 'completed', 100, true,"
            " now() + interval '1 hour', now(), '[]')",
            (exam_id, user_id),
        )


def test_the_runtime_role_still_does_its_work(runtime, exam_and_user) -> None:
    exam_id, user_id = exam_and_user
    [(attempt_id,)] = runtime.execute(
        "INSERT INTO exam_attempts (exam_id, user_id, deadline, answer_sheet)"
        " VALUES (%s, %s, now() + interval '1 hour', '[]') RETURNING id",
        (exam_id, user_id),
    ).fetchall()
    runtime.execute(
        "UPDATE exam_attempts SET status = 'completed', score = 90, passed = true,"
        " completed_at = now() WHERE id = %s",
        (attempt_id,),
    )
