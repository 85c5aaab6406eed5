"""Who sees notes, concept lists and search hits; who regenerates; the lifecycle events;
and the door: CONTRACT.md "Who may see what" on ai-notes' own reference data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from edvent_ai_notes.adapters.providers import ProviderUnavailable
from edvent_events.catalog.content import (
    CourseArchived,
    CourseCreated,
    CourseOwnerChanged,
    CoursePublished,
    CourseUnpublished,
    LessonDeleted,
    LessonUnpublished,
)
from edvent_events.catalog.identity import UserDeleted, UserSessionsRevoked
from edvent_localstack.pytest_plugin import eventually

from .physics import LESSONS
from .test_pipeline import BODY, dead_letter, handled, note, status_is

pytestmark = pytest.mark.integration

# A word planted in a lesson: search and concept lists must never give it away.
PLANTED = "Quasitronic"


def planted_body() -> str:
    return (
        f"# {PLANTED} engines\n\n{PLANTED} engines turn heat into work with a "
        f"{PLANTED.lower()} cycle. The {PLANTED.lower()} cycle is unreleased material.\n\n" + BODY
    )


async def ready(client: Any, person: Any, lesson_id: Any) -> None:
    await eventually(lambda: status_is(client, person, lesson_id, "ready"))


async def search_ids(client: Any, person: Any, q: str, course_id: Any = None) -> set[str]:
    params = {"q": q} | ({"course_id": str(course_id)} if course_id else {})
    answer = await client.get("/api/v1/notes/search", params=params, headers=person.auth)
    assert answer.status_code == 200, answer.text
    return {item["lesson_id"] for item in answer.json()["items"]}


async def concept_ids(client: Any, person: Any, concept: str) -> set[str]:
    answer = await client.get("/api/v1/notes", params={"concept": concept}, headers=person.auth)
    assert answer.status_code == 200, answer.text
    return {item["lesson_id"] for item in answer.json()["items"]}


async def visible_everywhere(client: Any, person: Any, lesson_id: Any, course_id: Any) -> bool:
    """Whether the lesson is served to `person`: its note, search (with and without the
    course) and its first key concept."""
    found = await note(client, person, lesson_id)
    if found is None:
        return False
    concept = found["key_concepts"][0]["name"]
    lesson = str(lesson_id)
    return (
        lesson in await search_ids(client, person, PLANTED)
        and lesson in await search_ids(client, person, PLANTED, course_id)
        and lesson in await concept_ids(client, person, concept)
    )


async def hidden_everywhere(
    client: Any, person: Any, lesson_id: Any, course_id: Any, concept: str
) -> bool:
    lesson = str(lesson_id)
    answer = await client.get(f"/api/v1/notes/{lesson_id}", headers=person.auth)
    return (
        answer.status_code == 404
        and lesson not in await search_ids(client, person, PLANTED)
        and lesson not in await search_ids(client, person, PLANTED, course_id)
        and lesson not in await concept_ids(client, person, concept)
    )


async def planted_lesson(client: Any, content: Any, people: Any, *, published: bool) -> Any:
    course_id = await content.course(owner_id=people.owner.id, published=published)
    event = content.published(course_id=course_id, body=planted_body(), title="Engines")
    await content.send(event)
    await ready(client, people.admin, event.lesson_id)
    return event


async def first_concept(client: Any, person: Any, lesson_id: Any) -> str:
    found = await note(client, person, lesson_id)
    name: str = found["key_concepts"][0]["name"]
    return name


async def test_a_published_lesson_of_a_draft_course_is_served_only_to_its_owner_and_admins(
    client, content, people
):
    event = await planted_lesson(client, content, people, published=False)
    concept = await first_concept(client, people.admin, event.lesson_id)
    for person in (people.owner, people.admin):
        assert await visible_everywhere(client, person, event.lesson_id, event.course_id)
    assert await hidden_everywhere(
        client, people.student, event.lesson_id, event.course_id, concept
    )


async def test_a_lesson_whose_course_was_never_seen_is_a_draft(client, content, people):
    # lesson.published may overtake course.created (another topic): stricter until then.
    course_id = uuid.uuid4()
    event = content.published(course_id=course_id, body=planted_body())
    await content.send(event)
    await ready(client, people.admin, event.lesson_id)
    concept = await first_concept(client, people.admin, event.lesson_id)
    assert await hidden_everywhere(client, people.student, event.lesson_id, course_id, concept)
    # The course arrives, published: its published lesson is served to everyone.
    await content.send(
        CourseCreated(
            course_id=course_id,
            owner_id=people.owner.id,
            title="Late",
            created_at=datetime.now(UTC),
        ),
        CoursePublished(
            course_id=course_id,
            owner_id=people.owner.id,
            title="Late",
            published_at=datetime.now(UTC),
        ),
    )
    await eventually(lambda: visible_everywhere(client, people.student, event.lesson_id, course_id))


async def test_unpublishing_and_archiving_hide_a_lesson_from_students_not_from_its_owner(
    client, content, people
):
    event = await planted_lesson(client, content, people, published=True)
    concept = await first_concept(client, people.admin, event.lesson_id)
    assert await visible_everywhere(client, people.student, event.lesson_id, event.course_id)
    now = datetime.now(UTC)

    await content.send(
        LessonUnpublished(lesson_id=event.lesson_id, course_id=event.course_id, unpublished_at=now)
    )
    await eventually(
        lambda: hidden_everywhere(client, people.student, event.lesson_id, event.course_id, concept)
    )
    assert await visible_everywhere(client, people.owner, event.lesson_id, event.course_id)

    again = content.published(
        course_id=event.course_id, lesson_id=event.lesson_id, body=planted_body()
    )
    await content.send(again)
    await eventually(
        lambda: visible_everywhere(client, people.student, event.lesson_id, event.course_id)
    )

    await content.send(CourseUnpublished(course_id=event.course_id, unpublished_at=now))
    await eventually(
        lambda: hidden_everywhere(client, people.student, event.lesson_id, event.course_id, concept)
    )
    await content.send(CourseArchived(course_id=event.course_id, archived_at=datetime.now(UTC)))
    for person in (people.owner, people.admin):
        assert await visible_everywhere(client, person, event.lesson_id, event.course_id)


async def test_a_deleted_lesson_is_gone_for_everyone_and_a_late_publication_does_nothing(
    client, content, people, sql
):
    event = await planted_lesson(client, content, people, published=True)
    await content.send(
        LessonDeleted(
            lesson_id=event.lesson_id, course_id=event.course_id, deleted_at=datetime.now(UTC)
        )
    )
    concept = "x"

    async def gone() -> bool:
        return await hidden_everywhere(
            client, people.admin, event.lesson_id, event.course_id, concept
        )

    await eventually(gone)
    assert (
        sql("SELECT 1 FROM ai_notes.lesson_chunks WHERE lesson_id = %s", (event.lesson_id,)) == []
    )

    late_id = str(uuid.uuid4())
    await content.send(event, event_id=late_id)
    await eventually(lambda: handled(sql, late_id))
    assert await gone()


async def test_a_delete_for_a_lesson_never_seen_keeps_a_tombstone(client, content, people, sql):
    course_id = await content.course(owner_id=people.owner.id)
    lesson_id = uuid.uuid4()
    event = content.published(course_id=course_id, lesson_id=lesson_id, body=BODY)
    deleted = LessonDeleted(lesson_id=lesson_id, course_id=course_id, deleted_at=datetime.now(UTC))
    deleted_id, published_id = str(uuid.uuid4()), str(uuid.uuid4())
    await content.send(deleted, event_id=deleted_id)
    await eventually(lambda: handled(sql, deleted_id))
    await content.send(event, event_id=published_id)
    await eventually(lambda: handled(sql, published_id))
    assert await note(client, people.admin, lesson_id) is None


async def test_a_demoted_owners_old_token_loses_regenerate_and_drafts_within_seconds(
    client, content, people, identity
):
    owner = await identity.instructor(people.admin, "soon-demoted")
    course_id = await content.course(owner_id=owner.id, published=False)
    event = content.published(course_id=course_id, body=BODY)
    await content.send(event)
    await ready(client, owner, event.lesson_id)
    path = f"/api/v1/notes/{event.lesson_id}/regenerate"
    assert (await client.post(path, headers=owner.auth)).status_code == 202
    await ready(client, owner, event.lesson_id)

    demoted = await identity.http.patch(
        f"/api/v1/users/{owner.id}", json={"role": "STUDENT"}, headers=people.admin.auth
    )
    assert demoted.status_code == 200

    async def refused() -> bool:
        return (await client.post(path, headers=owner.auth)).status_code == 404

    # The token still says INSTRUCTOR; the role event makes it count for nothing here.
    await eventually(refused)
    assert await note(client, owner, event.lesson_id) is None


async def test_a_non_owner_instructor_may_not_regenerate(client, content, people, identity):
    other = await identity.instructor(people.admin, "other")
    course_id = await content.course(owner_id=people.owner.id)
    event = content.published(course_id=course_id, body=BODY)
    await content.send(event)
    await ready(client, people.student, event.lesson_id)
    path = f"/api/v1/notes/{event.lesson_id}/regenerate"
    assert (await client.post(path, headers=other.auth)).status_code == 403
    # ADMIN moves the course to the other instructor: the right moves with it.
    await content.send(
        CourseOwnerChanged(
            course_id=course_id,
            old_owner_id=people.owner.id,
            new_owner_id=other.id,
            changed_at=datetime.now(UTC),
        )
    )

    async def moved() -> bool:
        return (await client.post(path, headers=other.auth)).status_code == 202

    await eventually(moved)
    await ready(client, people.student, event.lesson_id)
    assert (await client.post(path, headers=people.owner.auth)).status_code == 403


async def test_a_failure_reason_is_shown_only_to_the_owner_and_admins(
    client, content, people, scripted, kafka
):
    scripted.fail_always = ProviderUnavailable("upstream said: key sk-secret at s3://bucket/x")
    course_id = await content.course(owner_id=people.owner.id)
    event = content.published(course_id=course_id, body=BODY)
    await content.send(event)
    await dead_letter(kafka, event.lesson_id)
    student_view = await note(client, people.student, event.lesson_id)
    assert student_view["status"] == "failed"
    assert student_view.get("failure_reason") is None
    for person in (people.owner, people.admin):
        assert "sk-secret" in (await note(client, person, event.lesson_id))["failure_reason"]


async def test_tokens_from_before_revoked_sessions_get_401(client, content, people, identity):
    person = await identity.register("revoked")
    course_id = await content.course(owner_id=people.owner.id)
    event = content.published(course_id=course_id, body=LESSONS["Gravity and orbits"])
    await content.send(event)
    await ready(client, person, event.lesson_id)
    await content.send(
        UserSessionsRevoked(
            user_id=person.id,
            not_before=datetime.now(UTC) + timedelta(seconds=1),
            reason="logout_all",
        )
    )

    async def refused() -> bool:
        answer = await client.get(f"/api/v1/notes/{event.lesson_id}", headers=person.auth)
        return answer.status_code == 401

    await eventually(refused)


async def test_an_erased_users_tokens_get_401(client, content, people, identity):
    person = await identity.register("erased")
    course_id = await content.course(owner_id=people.owner.id)
    event = content.published(course_id=course_id, body=LESSONS["Gravity and orbits"])
    await content.send(event)
    await ready(client, person, event.lesson_id)
    await content.send(UserDeleted(user_id=person.id, deleted_at=datetime.now(UTC)))

    async def refused() -> bool:
        answer = await client.get(f"/api/v1/notes/{event.lesson_id}", headers=person.auth)
        return answer.status_code == 401

    await eventually(refused)


async def test_a_lesson_published_with_a_key_outside_its_own_prefix_is_refused(
    client, content, people, kafka, scripted
):
    course_id = await content.course(owner_id=people.owner.id)
    victim_course, victim_lesson = uuid.uuid4(), uuid.uuid4()
    secret_key, _ = content.put(
        "# Exam answers\n\nThe answer to every question is 42.",
        course_id=victim_course,
        lesson_id=victim_lesson,
    )
    event = content.published(course_id=course_id, body=BODY, key=secret_key)
    await content.send(event)
    dead = await dead_letter(kafka, event.lesson_id)
    headers = {k: v.decode() for k, v in dead.headers}
    assert "content_key" in headers["x-error"], headers
    assert await note(client, people.admin, event.lesson_id) is None
    assert scripted.embed_calls == 0
