"""Courses: creation, changes, and a catalogue paged by stable cursors."""

from __future__ import annotations

import base64


async def test_an_instructor_creates_a_draft_they_own(client, people) -> None:
    response = await client.post(
        "/api/v1/courses",
        json={"title": "  Algebra  ", "description": "Linear things"},
        headers=people.owner.auth,
    )
    assert response.status_code == 201
    course = response.json()
    assert course["title"] == "Algebra"
    assert course["owner_id"] == str(people.owner.id)
    assert course["is_published"] is False
    assert course["published_at"] is None
    assert set(course) >= {"id", "title", "description", "is_published", "owner_id", "created_at"}


async def test_patch_changes_only_what_is_given(client, catalogue, people) -> None:
    course = await catalogue.course(people.owner, title="Old")
    response = await client.patch(
        f"/api/v1/courses/{course['id']}", json={"title": "New"}, headers=people.owner.auth
    )
    assert response.status_code == 200
    assert (response.json()["title"], response.json()["description"]) == ("New", "About it")
    blank = await client.patch(
        f"/api/v1/courses/{course['id']}", json={"title": "   "}, headers=people.owner.auth
    )
    assert blank.status_code == 422


async def test_pages_are_newest_first_and_stable_while_courses_are_added(
    client, catalogue, people
) -> None:
    made = [await catalogue.course(people.owner, published=True, title=f"C{i}") for i in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/courses", params=params)).json()
        seen.extend(item["id"] for item in page["items"])
        # Someone publishes a course between two page reads.
        await catalogue.course(people.owner, published=True, title="Meanwhile")
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [course["id"] for course in reversed(made)]


async def test_owner_me_is_the_instructors_dashboard(client, catalogue, people) -> None:
    mine = [
        await catalogue.course(people.owner),
        await catalogue.course(people.owner, published=True),
    ]
    await catalogue.course(people.other, published=True)
    response = await client.get(
        "/api/v1/courses", params={"owner": "me"}, headers=people.owner.auth
    )
    assert [item["id"] for item in response.json()["items"]] == [c["id"] for c in reversed(mine)]
    assert (await client.get("/api/v1/courses", params={"owner": "me"})).status_code == 401


async def test_bad_list_parameters_are_422(client) -> None:
    forged = base64.urlsafe_b64encode(b'{"t": 1, "id": []}').decode().rstrip("=")
    for params in (
        {"cursor": "not-a-cursor"},
        {"cursor": forged},
        {"owner": "someone"},
        {"limit": 0},
        {"limit": 101},
    ):
        response = await client.get("/api/v1/courses", params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"


async def test_a_list_without_limit_has_twenty_items(client, catalogue, people) -> None:
    made = [await catalogue.course(people.owner, published=True) for _ in range(21)]
    first = (await client.get("/api/v1/courses")).json()
    assert set(first) == {"items", "next_cursor"}
    assert [item["id"] for item in first["items"]] == [c["id"] for c in reversed(made)][:20]
    rest = (await client.get("/api/v1/courses", params={"cursor": first["next_cursor"]})).json()
    assert ([item["id"] for item in rest["items"]], rest["next_cursor"]) == ([made[0]["id"]], None)
