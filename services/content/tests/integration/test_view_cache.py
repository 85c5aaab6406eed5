"""Students' views (the catalogue, a lesson) are answered from memory, never staler than the
database, and never given to any other view."""

from __future__ import annotations

import psycopg


async def _titles(client, headers=None, **params) -> list[str]:
    response = await client.get("/api/v1/courses", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [course["title"] for course in response.json()["items"]]


async def _sql(admin_dsn: str, *statements: str) -> None:
    async with await psycopg.AsyncConnection.connect(admin_dsn, autocommit=True) as conn:
        for statement in statements:
            await conn.execute(statement)


async def test_repeated_anonymous_lists_are_answered_from_memory(
    client, catalogue, people, admin_dsn
) -> None:
    await catalogue.course(people.owner, published=True, title="Kept")
    assert await _titles(client) == ["Kept"]
    # Behind the trigger's back (an operator disabling it): the cache cannot know, so
    # what it answers now shows it answers from memory.
    await _sql(
        admin_dsn,
        "ALTER TABLE content.courses DISABLE TRIGGER courses_bump_view_version",
        "UPDATE content.courses SET title = 'Changed unseen'",
        "ALTER TABLE content.courses ENABLE TRIGGER courses_bump_view_version",
    )
    assert await _titles(client) == ["Kept"]
    # A student's view is the anonymous one, so they get it too; an instructor's and an
    # ADMIN's views are their own (drafts), read afresh; other query strings are answers
    # of their own.
    assert await _titles(client, headers=people.student.auth) == ["Kept"]
    assert await _titles(client, headers=people.owner.auth) == ["Changed unseen"]
    assert await _titles(client, headers=people.admin.auth) == ["Changed unseen"]
    assert await _titles(client, limit=5) == ["Changed unseen"]


async def test_a_course_published_after_the_list_was_cached_is_listed_at_once(
    client, catalogue, people
) -> None:
    await catalogue.course(people.owner, published=True, title="First")
    assert await _titles(client) == ["First"]
    assert await _titles(client) == ["First"]
    draft = await catalogue.course(people.owner, title="Second")
    assert await _titles(client) == ["First"]
    await catalogue.publish_course(people.owner, draft["id"])
    assert await _titles(client) == ["Second", "First"]
    await client.patch(
        f"/api/v1/courses/{draft['id']}", json={"title": "Renamed"}, headers=people.owner.auth
    )
    assert await _titles(client) == ["Renamed", "First"]


async def test_a_change_made_in_sql_is_seen_at_once(client, catalogue, people, admin_dsn) -> None:
    await catalogue.course(people.owner, published=True, title="Before")
    assert await _titles(client) == ["Before"]
    await _sql(admin_dsn, "UPDATE content.courses SET title = 'After'")
    assert await _titles(client) == ["After"]
    await _sql(admin_dsn, "DELETE FROM content.courses")
    assert await _titles(client) == []


async def test_answers_from_memory_carry_their_own_request_id(client, catalogue, people) -> None:
    await catalogue.course(people.owner, published=True)
    first = await client.get("/api/v1/courses")
    second = await client.get("/api/v1/courses")
    supplied = await client.get("/api/v1/courses", headers={"X-Request-ID": "mine-123"})
    assert first.content == second.content == supplied.content
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert supplied.headers["x-request-id"] == "mine-123"
    assert second.headers["content-type"] == "application/json"


async def test_error_answers_are_not_kept(client) -> None:
    for _ in range(2):
        response = await client.get("/api/v1/courses", params={"owner": "me"})
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"


async def test_without_the_version_row_the_list_is_read_afresh(
    client, catalogue, people, admin_dsn
) -> None:
    await catalogue.course(people.owner, published=True, title="One")
    assert await _titles(client) == ["One"]
    try:
        await _sql(admin_dsn, "DELETE FROM content.view_version")
        await _sql(
            admin_dsn,
            "ALTER TABLE content.courses DISABLE TRIGGER courses_bump_view_version",
            "UPDATE content.courses SET title = 'Two'",
            "ALTER TABLE content.courses ENABLE TRIGGER courses_bump_view_version",
        )
        assert await _titles(client) == ["Two"]
    finally:
        await _sql(
            admin_dsn,
            "INSERT INTO content.view_version (id, version) VALUES (1, 1000000) "
            "ON CONFLICT (id) DO NOTHING",
        )


async def _behind_the_triggers_back(admin_dsn: str, title: str) -> None:
    await _sql(
        admin_dsn,
        "ALTER TABLE content.courses DISABLE TRIGGER courses_bump_view_version",
        f"UPDATE content.courses SET title = '{title}'",
        "ALTER TABLE content.courses ENABLE TRIGGER courses_bump_view_version",
    )


async def test_a_student_token_refused_by_the_route_is_refused_from_memory_too(
    client, catalogue, identity, people, sql
) -> None:
    await catalogue.course(people.owner, published=True, title="Kept")
    assert await _titles(client) == ["Kept"]
    forged = {"Authorization": "Bearer " + people.student.access_token[:-4] + "AAAA"}
    assert (await client.get("/api/v1/courses", headers=forged)).status_code == 401
    # Sessions cut off (as `user.sessions_revoked` records it), then the account erased.
    student = await identity.register("cut-off")
    assert await _titles(client, headers=student.auth) == ["Kept"]
    sql(
        "INSERT INTO content.users (id, role, not_before) VALUES (%s, 'STUDENT', now())"
        " ON CONFLICT (id) DO UPDATE SET not_before = now()",
        (student.id,),
    )
    assert (await client.get("/api/v1/courses", headers=student.auth)).status_code == 401
    erased = await identity.register("erased")
    sql(
        "INSERT INTO content.users (id, role, deleted_at) VALUES (%s, 'STUDENT', now())"
        " ON CONFLICT (id) DO UPDATE SET deleted_at = now()",
        (erased.id,),
    )
    assert (await client.get("/api/v1/courses", headers=erased.auth)).status_code == 401


async def test_a_student_promoted_since_the_token_sees_their_own_view_not_the_cached_one(
    client, catalogue, identity, people, admin_dsn, sql
) -> None:
    await catalogue.course(people.owner, published=True, title="Listed")
    assert await _titles(client) == ["Listed"]
    promoted = await identity.register("promoted")
    assert await _titles(client, headers=promoted.auth) == ["Listed"]
    # identity's `user.role_changed`, heard after the token was issued: INSTRUCTOR counts.
    sql(
        "INSERT INTO content.users (id, role, role_changed_at) VALUES"
        " (%s, 'INSTRUCTOR', now() + interval '1 second') ON CONFLICT (id) DO UPDATE"
        " SET role = 'INSTRUCTOR', role_changed_at = now() + interval '1 second'",
        (promoted.id,),
    )
    draft = await client.post("/api/v1/courses", json={"title": "Own draft"}, headers=promoted.auth)
    assert draft.status_code == 201, draft.text
    await _behind_the_triggers_back(admin_dsn, "Unseen")
    assert sorted(await _titles(client, headers=promoted.auth)) == ["Unseen", "Unseen"]
    # A demoted owner is a student again: the anonymous view, without their drafts.
    sql(
        "UPDATE content.users SET role = 'STUDENT', role_changed_at = now() + interval '2 seconds'"
        " WHERE id = %s",
        (promoted.id,),
    )
    assert await _titles(client, headers=promoted.auth) == await _titles(client)
    assert "Own draft" not in await _titles(client, headers=promoted.auth)
    own = await client.get("/api/v1/courses", params={"owner": "me"}, headers=promoted.auth)
    assert own.status_code == 200 and own.json()["items"] == []


async def _lesson_title(client, lesson_id: str, headers=None) -> str | int:
    response = await client.get(f"/api/v1/lessons/{lesson_id}", headers=headers)
    return response.json()["title"] if response.status_code == 200 else response.status_code


async def test_a_students_lesson_is_answered_from_memory_and_drafts_never_are(
    client, catalogue, people, admin_dsn
) -> None:
    course = await catalogue.course(people.owner, published=True)
    lesson = await catalogue.lesson(people.owner, course["id"], published=True, title="Kept")
    draft = await catalogue.lesson(people.owner, course["id"], title="Draft")
    assert await _lesson_title(client, lesson["id"], people.student.auth) == "Kept"
    await _sql(
        admin_dsn,
        "ALTER TABLE content.lessons DISABLE TRIGGER lessons_bump_view_version",
        "UPDATE content.lessons SET title = 'Changed unseen'",
        "ALTER TABLE content.lessons ENABLE TRIGGER lessons_bump_view_version",
    )
    # Students and anonymous callers share the published lesson's view; the owner's
    # and an ADMIN's are read afresh; a draft is no student's, from memory or not.
    assert await _lesson_title(client, lesson["id"], people.student.auth) == "Kept"
    assert await _lesson_title(client, lesson["id"]) == "Kept"
    assert await _lesson_title(client, lesson["id"], people.owner.auth) == "Changed unseen"
    assert await _lesson_title(client, lesson["id"], people.admin.auth) == "Changed unseen"
    for _ in range(2):
        assert await _lesson_title(client, draft["id"], people.student.auth) == 404
    assert await _lesson_title(client, draft["id"], people.owner.auth) == "Changed unseen"


async def test_an_unpublished_lesson_or_course_is_gone_from_memory_at_once(
    client, catalogue, people
) -> None:
    course = await catalogue.course(people.owner, published=True)
    lesson = await catalogue.lesson(people.owner, course["id"], published=True, title="Shown")
    other = await catalogue.lesson(people.owner, course["id"], published=True, title="Other")
    for _ in range(2):
        assert await _lesson_title(client, lesson["id"], people.student.auth) == "Shown"
        assert await _lesson_title(client, other["id"]) == "Other"
    response = await client.post(
        f"/api/v1/lessons/{lesson['id']}/unpublish", headers=people.owner.auth
    )
    assert response.status_code == 200, response.text
    assert await _lesson_title(client, lesson["id"], people.student.auth) == 404
    assert await _lesson_title(client, lesson["id"]) == 404
    assert await _lesson_title(client, other["id"], people.student.auth) == "Other"
    response = await client.post(
        f"/api/v1/courses/{course['id']}/archive", headers=people.owner.auth
    )
    assert response.status_code == 200, response.text
    assert await _lesson_title(client, other["id"], people.student.auth) == 404
    assert await _lesson_title(client, other["id"]) == 404
