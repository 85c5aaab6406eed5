"""Unpublish, archive, delete and move: who sees what afterwards, and the event each
change writes to the outbox in its own transaction (issue 25, CONTRACT.md content)."""

from __future__ import annotations

from typing import Any

from edvent_localstack.pytest_plugin import eventually

COURSE_UNPUBLISHED = "edvent.content.course.unpublished.v1"
COURSE_ARCHIVED = "edvent.content.course.archived.v1"
COURSE_OWNER_CHANGED = "edvent.content.course.owner_changed.v1"
COURSE_PUBLISHED = "edvent.content.course.published.v1"
LESSON_PUBLISHED = "edvent.content.lesson.published.v1"
LESSON_UNPUBLISHED = "edvent.content.lesson.unpublished.v1"
LESSON_DELETED = "edvent.content.lesson.deleted.v1"


def staged(sql: Any, key: str) -> list[tuple[str, dict[str, Any]]]:
    """(ce_type, data) in content's outbox for one aggregate, oldest first."""
    rows = sql("SELECT ce_type, data FROM content.outbox WHERE key = %s ORDER BY id", (key,))
    return [(row[0], row[1]) for row in rows]


def types(sql: Any, key: str) -> list[str]:
    return [ce_type for ce_type, _ in staged(sql, key)]


async def status(client: Any, method: str, path: str, person: Any, **kwargs: Any) -> int:
    response = await client.request(method, path, headers=person.auth, **kwargs)
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
    return int(response.status_code)


async def listed(client: Any, person: Any) -> set[str]:
    response = await client.get("/api/v1/courses?limit=100", headers=person.auth)
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


async def test_an_unpublished_course_is_a_draft_again_and_publishing_announces_it_again(
    client, catalogue, people, sql
) -> None:
    course = await catalogue.course(people.owner, published=True)
    lesson = await catalogue.lesson(people.owner, course["id"], published=True)
    path = f"/api/v1/courses/{course['id']}"

    for person in (people.student, people.other):
        assert await status(client, "POST", f"{path}/unpublish", person) == 403
    assert await status(client, "POST", f"{path}/unpublish", people.anonymous) == 401
    response = await client.post(f"{path}/unpublish", headers=people.owner.auth)
    assert response.status_code == 200, response.text
    assert response.json()["is_published"] is False
    assert response.json()["published_at"] is None
    # A draft again: gone for readers, lessons included; there for owner and ADMIN.
    for person in (people.anonymous, people.student, people.other):
        assert await status(client, "GET", path, person) == 404
        assert await status(client, "GET", f"/api/v1/lessons/{lesson['id']}", person) == 404
        assert course["id"] not in await listed(client, person)
    for person in (people.owner, people.admin):
        assert await status(client, "GET", path, person) == 200
    # Unpublishing a draft changes nothing and announces nothing.
    assert await status(client, "POST", f"{path}/unpublish", people.admin) == 200
    [(_, data)] = [item for item in staged(sql, course["id"]) if item[0] == COURSE_UNPUBLISHED]
    assert data["course_id"] == course["id"] and data["unpublished_at"]

    await catalogue.publish_course(people.owner, course["id"])
    assert types(sql, course["id"])[-2:] == [COURSE_UNPUBLISHED, COURSE_PUBLISHED]
    assert await status(client, "GET", f"/api/v1/lessons/{lesson['id']}", people.student) == 200


async def test_the_anonymous_catalogue_drops_an_archived_course_at_once(
    client, catalogue, people
) -> None:
    course = await catalogue.course(people.owner, published=True)
    assert course["id"] in await listed(client, people.anonymous)  # and now it is cached
    archived = await client.post(
        f"/api/v1/courses/{course['id']}/archive", headers=people.owner.auth
    )
    assert archived.status_code == 200, archived.text
    assert archived.json()["archived_at"] is not None
    assert course["id"] not in await listed(client, people.anonymous)


async def test_an_archived_course_is_hidden_from_all_but_owner_and_admin_and_stays_archived(
    client, catalogue, people, sql
) -> None:
    course = await catalogue.course(people.owner, published=True)
    lesson = await catalogue.lesson(people.owner, course["id"], published=True)
    draft_lesson = await catalogue.lesson(people.owner, course["id"])
    path = f"/api/v1/courses/{course['id']}"
    assert await status(client, "POST", f"{path}/archive", people.student) == 403
    assert await status(client, "POST", f"{path}/archive", people.other) == 403
    response = await client.post(f"{path}/archive", headers=people.owner.auth)
    assert response.status_code == 200, response.text
    archived_at = response.json()["archived_at"]

    for person in (people.anonymous, people.student, people.other):
        assert await status(client, "GET", path, person) == 404
        assert await status(client, "GET", f"{path}/lessons", person) == 404
        assert await status(client, "GET", f"/api/v1/lessons/{lesson['id']}", person) == 404
        content = f"/api/v1/lessons/{lesson['id']}/content"
        assert await status(client, "GET", content, person) == 404
        assert course["id"] not in await listed(client, person)
        # Hidden now: no more "forbidden" that would tell it exists.
        assert await status(client, "POST", f"{path}/archive", person) in (401, 404)
    for person in (people.owner, people.admin):
        assert await status(client, "GET", path, person) == 200
        assert course["id"] in await listed(client, person)
        assert await status(client, "GET", f"/api/v1/lessons/{lesson['id']}/content", person) == 200

    # Archiving is final: nothing in it is published or unpublished again.
    assert await status(client, "POST", f"{path}/publish", people.owner) == 409
    assert await status(client, "POST", f"{path}/unpublish", people.admin) == 409
    publish_lesson = f"/api/v1/lessons/{draft_lesson['id']}/publish"
    assert await status(client, "POST", publish_lesson, people.owner) == 409
    new_body = await client.put(
        f"/api/v1/lessons/{lesson['id']}/content",
        content=b"# New",
        headers={**people.owner.auth, "Content-Type": "text/markdown"},
    )
    assert new_body.status_code == 409, new_body.text
    # Archiving again changes nothing; taking a lesson back still works.
    again = await client.post(f"{path}/archive", headers=people.admin.auth)
    assert again.json()["archived_at"] == archived_at
    unpublish_lesson = f"/api/v1/lessons/{lesson['id']}/unpublish"
    assert await status(client, "POST", unpublish_lesson, people.owner) == 200
    assert types(sql, course["id"]).count(COURSE_ARCHIVED) == 1
    [(_, data)] = [item for item in staged(sql, course["id"]) if item[0] == COURSE_ARCHIVED]
    assert data == {"course_id": course["id"], "archived_at": data["archived_at"]}


async def test_an_unpublished_lesson_is_hidden_and_publishing_it_again_announces_it(
    client, catalogue, people, sql
) -> None:
    course = await catalogue.course(people.owner, published=True)
    lesson = await catalogue.lesson(people.owner, course["id"], published=True)
    path = f"/api/v1/lessons/{lesson['id']}"
    assert await status(client, "POST", f"{path}/unpublish", people.student) == 403
    response = await client.post(f"{path}/unpublish", headers=people.admin.auth)
    assert response.status_code == 200, response.text
    assert response.json()["published_at"] is None
    for person in (people.anonymous, people.student, people.other):
        assert await status(client, "GET", path, person) == 404
        assert await status(client, "GET", f"{path}/content", person) == 404
        lessons = await client.get(f"/api/v1/courses/{course['id']}/lessons", headers=person.auth)
        assert lesson["id"] not in {item["id"] for item in lessons.json()["items"]}
    assert await status(client, "POST", f"{path}/unpublish", people.owner) == 200  # no event

    response = await client.post(f"{path}/publish", headers=people.owner.auth)
    assert response.status_code == 200
    assert types(sql, lesson["id"]) == [LESSON_PUBLISHED, LESSON_UNPUBLISHED, LESSON_PUBLISHED]
    (_, unpublished) = staged(sql, lesson["id"])[1]
    assert unpublished["lesson_id"] == lesson["id"]
    assert unpublished["course_id"] == course["id"]
    assert await status(client, "GET", path, people.student) == 200


async def test_a_deleted_lesson_is_gone_for_everyone_and_announced(
    client, catalogue, people, sql
) -> None:
    course = await catalogue.course(people.owner, published=True)
    lesson = await catalogue.lesson(people.owner, course["id"], published=True)
    draft = await catalogue.lesson(people.owner, course["id"])
    path = f"/api/v1/lessons/{lesson['id']}"
    assert await status(client, "DELETE", path, people.anonymous) == 401
    assert await status(client, "DELETE", path, people.student) == 403
    assert await status(client, "DELETE", path, people.other) == 403
    # A draft lesson does not exist for those who may not see it.
    assert await status(client, "DELETE", f"/api/v1/lessons/{draft['id']}", people.student) == 404

    response = await client.delete(path, headers=people.owner.auth)
    assert response.status_code == 204 and response.content == b""
    for person in (people.anonymous, people.student, people.owner, people.admin):
        assert await status(client, "GET", path, person) == 404
        assert await status(client, "GET", f"{path}/content", person) == 404
    assert await status(client, "DELETE", path, people.admin) == 404
    (ce_type, data) = staged(sql, lesson["id"])[-1]
    assert ce_type == LESSON_DELETED
    assert data == {
        "lesson_id": lesson["id"],
        "course_id": course["id"],
        "deleted_at": data["deleted_at"],
    }
    # A lesson never published is announced too: readers cope with unknown ids.
    response = await client.delete(f"/api/v1/lessons/{draft['id']}", headers=people.admin.auth)
    assert response.status_code == 204
    assert types(sql, draft["id"]) == [LESSON_DELETED]


async def test_an_admin_moves_a_course_and_owner_rights_move_with_it(
    client, catalogue, identity, people, sql
) -> None:
    course = await catalogue.course(people.owner)
    lesson = await catalogue.lesson(people.owner, course["id"])
    path = f"/api/v1/courses/{course['id']}"
    await eventually(
        lambda: bool(sql("SELECT 1 FROM content.users WHERE id = %s", (people.other.id,)))
    )
    move = {"owner_id": str(people.other.id)}
    # Only an ADMIN moves a course; not even its owner.
    assert await status(client, "PATCH", path, people.owner, json=move) == 403
    assert await status(client, "PATCH", path, people.other, json=move) == 404
    # The new owner must be an INSTRUCTOR or ADMIN now, by content's users table.
    await eventually(
        lambda: bool(sql("SELECT 1 FROM content.users WHERE id = %s", (people.student.id,)))
    )
    for owner_id in (str(people.student.id), "00000000-0000-4000-8000-000000000000"):
        refused = await client.patch(path, json={"owner_id": owner_id}, headers=people.admin.auth)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["loc"] == ["body", "owner_id"]

    moved = await client.patch(path, json=move, headers=people.admin.auth)
    assert moved.status_code == 200, moved.text
    assert moved.json()["owner_id"] == str(people.other.id)
    (ce_type, data) = staged(sql, course["id"])[-1]
    assert ce_type == COURSE_OWNER_CHANGED
    assert (data["old_owner_id"], data["new_owner_id"]) == (
        str(people.owner.id),
        str(people.other.id),
    )
    # The same owner again changes nothing and announces nothing.
    assert await status(client, "PATCH", path, people.admin, json=move) == 200
    assert types(sql, course["id"]).count(COURSE_OWNER_CHANGED) == 1

    # The new owner manages it, drafts included; the old one does not even see it.
    assert await status(client, "GET", path, people.other) == 200
    assert await status(client, "GET", f"/api/v1/lessons/{lesson['id']}", people.other) == 200
    assert await status(client, "PATCH", path, people.other, json={"title": "Mine now"}) == 200
    assert await status(client, "GET", path, people.owner) == 404
    assert await status(client, "POST", f"{path}/publish", people.owner) == 404
    assert await status(client, "POST", f"{path}/publish", people.other) == 200
    assert await status(client, "PATCH", path, people.owner, json={"title": "No"}) == 403


async def test_an_archived_course_can_still_be_moved(client, catalogue, people, sql) -> None:
    course = await catalogue.course(people.owner, published=True)
    path = f"/api/v1/courses/{course['id']}"
    assert await status(client, "POST", f"{path}/archive", people.owner) == 200
    await eventually(
        lambda: bool(sql("SELECT 1 FROM content.users WHERE id = %s", (people.other.id,)))
    )
    moved = await client.patch(
        path, json={"owner_id": str(people.other.id)}, headers=people.admin.auth
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["archived_at"] is not None
