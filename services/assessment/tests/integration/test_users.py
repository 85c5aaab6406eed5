"""The users and courses reference tables: from events, and users from tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from edvent_events.catalog.content import CourseCreated, CoursePublished
from edvent_localstack.pytest_plugin import eventually


def user_role(sql, user_id) -> str | None:
    rows = sql("SELECT role FROM assessment.users WHERE id = %s", (user_id,))
    return rows[0][0] if rows else None


async def test_users_arrive_from_identity_events(identity, people, sql) -> None:
    person = await identity.register("learner")
    await eventually(lambda: user_role(sql, person.id) == "STUDENT")
    await identity.http.patch(
        f"/api/v1/users/{person.id}", json={"role": "INSTRUCTOR"}, headers=people.admin.auth
    )
    await eventually(lambda: user_role(sql, person.id) == "INSTRUCTOR")


async def test_a_valid_token_makes_the_student_known_when_starting(
    client, factory, identity, people, sql
) -> None:
    person = await identity.register("first-use")
    await eventually(lambda: user_role(sql, person.id) == "STUDENT")
    sql("DELETE FROM assessment.users WHERE id = %s", (person.id,))
    course = await factory.course(people.owner)
    exam = await factory.exam(people.owner, course, published=True)
    attempt = await factory.start(person, exam["id"])
    assert attempt["user_id"] == str(person.id)
    assert user_role(sql, person.id) == "STUDENT"


async def test_courses_keep_their_owner_and_publication(factory, people, sql) -> None:
    course_id = uuid.uuid4()
    now = datetime.now(UTC)
    await factory.send(
        CoursePublished(course_id=course_id, owner_id=people.owner.id, title="B", published_at=now)
    )
    await factory.send(
        CourseCreated(course_id=course_id, owner_id=people.owner.id, title="A", created_at=now)
    )

    def row():
        rows = sql(
            "SELECT owner_id, title, published_at IS NOT NULL FROM assessment.courses"
            " WHERE id = %s",
            (course_id,),
        )
        return rows[0] if rows else None

    # The older event, handled last, updates the title but does not unpublish.
    await eventually(lambda: row() == (people.owner.id, "A", True))
