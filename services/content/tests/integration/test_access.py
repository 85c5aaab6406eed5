"""Who may do what, endpoint by endpoint: the table is the specification.

D is a draft course with a draft lesson DL; P a published course with a published
lesson PL and a draft lesson PDL; all owned by `owner`. `other` is another instructor.
What a caller may not see answers 404 (drafts do not leak); what they see but may not
change answers 403; a change without a token answers 401.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

ROLES = ("anonymous", "student", "other", "owner", "admin")


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # {D}, {P}, {DL}, {PL}, {PDL} are filled from the world
    expected: tuple[int, int, int, int, int]  # in ROLES order
    body: str | None = None  # "course", "patch", "lesson", "markdown"


TABLE: dict[str, Case] = {
    "create course": Case("POST", "/api/v1/courses", (401, 403, 201, 201, 201), "course"),
    "list courses": Case("GET", "/api/v1/courses", (200, 200, 200, 200, 200)),
    "list my courses": Case("GET", "/api/v1/courses?owner=me", (401, 200, 200, 200, 200)),
    "get published course": Case("GET", "/api/v1/courses/{P}", (200, 200, 200, 200, 200)),
    "get draft course": Case("GET", "/api/v1/courses/{D}", (404, 404, 404, 200, 200)),
    "patch published course": Case(
        "PATCH", "/api/v1/courses/{P}", (401, 403, 403, 200, 200), "patch"
    ),
    "patch draft course": Case("PATCH", "/api/v1/courses/{D}", (401, 404, 404, 200, 200), "patch"),
    "publish published course": Case(
        "POST", "/api/v1/courses/{P}/publish", (401, 403, 403, 200, 200)
    ),
    "publish draft course": Case("POST", "/api/v1/courses/{D}/publish", (401, 404, 404, 200, 200)),
    "add lesson to published course": Case(
        "POST", "/api/v1/courses/{P}/lessons", (401, 403, 403, 201, 201), "lesson"
    ),
    "add lesson to draft course": Case(
        "POST", "/api/v1/courses/{D}/lessons", (401, 404, 404, 201, 201), "lesson"
    ),
    "list lessons of published course": Case(
        "GET", "/api/v1/courses/{P}/lessons", (200, 200, 200, 200, 200)
    ),
    "list lessons of draft course": Case(
        "GET", "/api/v1/courses/{D}/lessons", (404, 404, 404, 200, 200)
    ),
    "get published lesson": Case("GET", "/api/v1/lessons/{PL}", (200, 200, 200, 200, 200)),
    "get draft lesson of published course": Case(
        "GET", "/api/v1/lessons/{PDL}", (404, 404, 404, 200, 200)
    ),
    "get lesson of draft course": Case("GET", "/api/v1/lessons/{DL}", (404, 404, 404, 200, 200)),
    "put content of published lesson": Case(
        "PUT", "/api/v1/lessons/{PL}/content", (401, 403, 403, 200, 200), "markdown"
    ),
    "put content of draft lesson of published course": Case(
        "PUT", "/api/v1/lessons/{PDL}/content", (401, 404, 404, 200, 200), "markdown"
    ),
    "put content of lesson of draft course": Case(
        "PUT", "/api/v1/lessons/{DL}/content", (401, 404, 404, 200, 200), "markdown"
    ),
    "get content of published lesson": Case(
        "GET", "/api/v1/lessons/{PL}/content", (200, 200, 200, 200, 200)
    ),
    "get content of draft lesson of published course": Case(
        "GET", "/api/v1/lessons/{PDL}/content", (404, 404, 404, 200, 200)
    ),
    "get content of lesson of draft course": Case(
        "GET", "/api/v1/lessons/{DL}/content", (404, 404, 404, 200, 200)
    ),
    "publish published lesson": Case(
        "POST", "/api/v1/lessons/{PL}/publish", (401, 403, 403, 200, 200)
    ),
    "publish draft lesson of published course": Case(
        "POST", "/api/v1/lessons/{PDL}/publish", (401, 404, 404, 200, 200)
    ),
    "publish lesson of draft course": Case(
        "POST", "/api/v1/lessons/{DL}/publish", (401, 404, 404, 200, 200)
    ),
}

BODIES: dict[str, dict[str, Any]] = {
    "course": {"json": {"title": "New", "description": "d"}},
    "patch": {"json": {"title": "Renamed"}},
    "lesson": {"json": {"title": "Added", "content_markdown": "# Added"}},
    "markdown": {"content": b"# Changed", "headers": {"Content-Type": "text/markdown"}},
}


async def build_world(catalogue: Any, owner: Any) -> dict[str, str]:
    draft = await catalogue.course(owner, title="Draft")
    published = await catalogue.course(owner, published=True, title="Published")
    return {
        "D": draft["id"],
        "P": published["id"],
        "DL": (await catalogue.lesson(owner, draft["id"]))["id"],
        "PL": (await catalogue.lesson(owner, published["id"], published=True))["id"],
        "PDL": (await catalogue.lesson(owner, published["id"]))["id"],
    }


async def call(client: Any, case: Case, world: dict[str, str], caller: Any) -> int:
    extra = BODIES[case.body] if case.body else {}
    headers = {**caller.auth, **extra.get("headers", {})}
    request = {key: value for key, value in extra.items() if key != "headers"}
    response = await client.request(
        case.method, case.path.format(**world), headers=headers, **request
    )
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
    return response.status_code


READS = [name for name, case in TABLE.items() if case.method == "GET"]
CHANGES = [name for name, case in TABLE.items() if case.method != "GET"]


@pytest.mark.parametrize("name", READS)
async def test_reads(client, catalogue, people, name) -> None:
    case = TABLE[name]
    world = await build_world(catalogue, people.owner)
    got = [await call(client, case, world, caller) for caller in people.all()]
    assert dict(zip(ROLES, got, strict=True)) == dict(zip(ROLES, case.expected, strict=True))


@pytest.mark.parametrize("role", range(len(ROLES)), ids=ROLES)
@pytest.mark.parametrize("name", CHANGES)
async def test_changes(client, catalogue, people, name, role) -> None:
    # A fresh world each: a change by one caller must not decide the next one's answer.
    case = TABLE[name]
    world = await build_world(catalogue, people.owner)
    assert await call(client, case, world, people.all()[role]) == case.expected[role]


async def test_unknown_ids_are_404_for_everyone(client, people) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    for person in people.all():
        for path in (f"/api/v1/courses/{missing}", f"/api/v1/lessons/{missing}"):
            response = await client.get(path, headers=person.auth)
            assert response.status_code == 404, (person.name, path)


async def test_lists_show_drafts_only_to_their_owner_and_admins(client, catalogue, people) -> None:
    draft = await catalogue.course(people.owner, title="Draft")
    published = await catalogue.course(people.owner, published=True, title="Published")
    others = await catalogue.course(people.other, title="Other's draft")
    expected = {
        "anonymous": {published["id"]},
        "student": {published["id"]},
        "other": {published["id"], others["id"]},
        "owner": {published["id"], draft["id"]},
        "admin": {published["id"], draft["id"], others["id"]},
    }
    for person in people.all():
        response = await client.get("/api/v1/courses", headers=person.auth)
        assert {item["id"] for item in response.json()["items"]} == expected[person.name]
    mine = await client.get("/api/v1/courses?owner=me", headers=people.other.auth)
    assert [item["id"] for item in mine.json()["items"]] == [others["id"]]
    by_owner = await client.get(f"/api/v1/courses?owner={people.owner.id}")
    assert [item["id"] for item in by_owner.json()["items"]] == [published["id"]]


async def test_an_invalid_token_is_401_even_where_anonymous_callers_may_read(client) -> None:
    response = await client.get("/api/v1/courses", headers={"Authorization": "Bearer not.a.token"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
