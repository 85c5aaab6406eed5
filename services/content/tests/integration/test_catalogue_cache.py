"""The anonymous catalogue is answered from memory, and never staler than the database."""

from __future__ import annotations

import psycopg


async def _titles(client, **params) -> list[str]:
    response = await client.get("/api/v1/courses", params=params)
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
        "ALTER TABLE content.courses DISABLE TRIGGER courses_bump_catalogue_version",
        "UPDATE content.courses SET title = 'Changed unseen'",
        "ALTER TABLE content.courses ENABLE TRIGGER courses_bump_catalogue_version",
    )
    assert await _titles(client) == ["Kept"]
    # A token bypasses the cache, and other query strings are answers of their own.
    listed = await client.get("/api/v1/courses", headers=people.student.auth)
    assert [course["title"] for course in listed.json()["items"]] == ["Changed unseen"]
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
        await _sql(admin_dsn, "DELETE FROM content.catalogue_version")
        await _sql(
            admin_dsn,
            "ALTER TABLE content.courses DISABLE TRIGGER courses_bump_catalogue_version",
            "UPDATE content.courses SET title = 'Two'",
            "ALTER TABLE content.courses ENABLE TRIGGER courses_bump_catalogue_version",
        )
        assert await _titles(client) == ["Two"]
    finally:
        await _sql(
            admin_dsn,
            "INSERT INTO content.catalogue_version (id, version) VALUES (1, 1000000) "
            "ON CONFLICT (id) DO NOTHING",
        )
