"""Lesson bodies: stored in S3 per version, read back streamed, ETag and 304, limits."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from uuid import UUID

import httpx
import pytest

MIB = 1024 * 1024


def markdown(size: int) -> bytes:
    line = b"Some lesson text, line after line.\n"
    return (b"# Title\n" + line * (size // len(line) + 1))[:size]


async def test_a_body_is_stored_in_s3_under_its_version_and_read_back(
    client, catalogue, people, s3, bucket
) -> None:
    course = await catalogue.course(people.owner)
    body = "# Einführung\n\nUnicode → fine.\n"
    lesson = await catalogue.lesson(people.owner, course["id"], body=body)
    sha = hashlib.sha256(body.encode()).hexdigest()
    assert lesson["content_sha256"] == sha
    assert lesson["content_bytes"] == len(body.encode())
    assert lesson["content_url"] == f"courses/{course['id']}/lessons/{lesson['id']}/{sha}.md"
    contract = {"id", "course_id", "title", "order_index", "content_url", "content_sha256"}
    assert set(lesson) >= contract | {"published_at"}
    assert (lesson["course_id"], lesson["published_at"]) == (course["id"], None)
    stored = s3.client().get_object(Bucket=bucket, Key=lesson["content_url"])
    assert stored["Body"].read() == body.encode()

    response = await client.get(
        f"/api/v1/lessons/{lesson['id']}/content", headers=people.owner.auth
    )
    assert response.status_code == 200
    assert response.content == body.encode()
    assert response.headers["content-type"].startswith("text/markdown")
    assert response.headers["etag"] == f'"{sha}"'


async def test_if_none_match_with_the_current_sha_answers_304_and_a_new_body_200(
    client, catalogue, people
) -> None:
    course = await catalogue.course(people.owner)
    lesson = await catalogue.lesson(people.owner, course["id"], body="first")
    url = f"/api/v1/lessons/{lesson['id']}/content"
    first = await client.get(url, headers=people.owner.auth)
    etag = first.headers["etag"]
    unchanged = await client.get(url, headers={**people.owner.auth, "If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == etag

    replaced = await client.put(
        url, content=b"second", headers={**people.owner.auth, "Content-Type": "text/markdown"}
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["content_sha256"] == hashlib.sha256(b"second").hexdigest()
    assert replaced.json()["content_url"] != lesson["content_url"]
    changed = await client.get(url, headers={**people.owner.auth, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.content == b"second"


async def test_a_body_of_exactly_5_mib_is_accepted(client, catalogue, people) -> None:
    course = await catalogue.course(people.owner)
    lesson = await catalogue.lesson(people.owner, course["id"])
    body = markdown(5 * MIB)
    response = await client.put(
        f"/api/v1/lessons/{lesson['id']}/content",
        content=body,
        headers={**people.owner.auth, "Content-Type": "text/markdown"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["content_bytes"] == 5 * MIB
    read = await client.get(f"/api/v1/lessons/{lesson['id']}/content", headers=people.owner.auth)
    assert read.content == body


async def test_a_body_over_5_mib_is_refused_while_streaming(client, catalogue, people, sql) -> None:
    course = await catalogue.course(people.owner)
    lesson = await catalogue.lesson(people.owner, course["id"], body="kept")
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        # No Content-Length: the service can only count as the body arrives.
        nonlocal sent
        for _ in range(12):
            sent += MIB
            yield b"a" * MIB

    response = await client.put(
        f"/api/v1/lessons/{lesson['id']}/content",
        content=chunks(),
        headers={**people.owner.auth, "Content-Type": "text/markdown"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    # Refused once past the limit, not after reading all 12 MiB.
    assert sent <= 6 * MIB
    assert sql("SELECT content_bytes FROM content.lessons WHERE id = %s", (lesson["id"],)) == [(4,)]


async def test_a_declared_length_over_5_mib_is_refused_before_reading(
    client, catalogue, people
) -> None:
    course = await catalogue.course(people.owner)
    lesson = await catalogue.lesson(people.owner, course["id"])
    response = await client.put(
        f"/api/v1/lessons/{lesson['id']}/content",
        content=markdown(5 * MIB + 1),
        headers={**people.owner.auth, "Content-Type": "text/markdown"},
    )
    assert response.status_code == 413


async def test_a_new_lesson_over_5_mib_is_refused(client, catalogue, people, sql) -> None:
    course = await catalogue.course(people.owner)
    response = await client.post(
        f"/api/v1/courses/{course['id']}/lessons",
        json={"title": "Big", "content_markdown": "a" * (5 * MIB + 1)},
        headers=people.owner.auth,
    )
    assert response.status_code == 413
    assert sql("SELECT count(*) FROM content.lessons") == [(0,)]


@pytest.mark.parametrize(
    "body",
    [b"", b"  \n\t\n", b"caf\xe9 latin-1", b"ends mid-character \xe2\x82", b"nul \x00 byte"],
    ids=["empty", "blank", "latin-1", "truncated-utf8", "nul"],
)
async def test_an_empty_or_non_utf8_body_is_422(client, catalogue, people, body) -> None:
    course = await catalogue.course(people.owner)
    lesson = await catalogue.lesson(people.owner, course["id"], body="kept")
    response = await client.put(
        f"/api/v1/lessons/{lesson['id']}/content",
        content=body,
        headers={**people.owner.auth, "Content-Type": "text/markdown"},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    read = await client.get(f"/api/v1/lessons/{lesson['id']}/content", headers=people.owner.auth)
    assert read.content == b"kept"


@pytest.mark.parametrize("markdown_text", ["", "   \n", "lone \ud800 surrogate"])
async def test_a_new_lesson_with_an_empty_or_invalid_body_is_422(
    client, catalogue, people, markdown_text
) -> None:
    course = await catalogue.course(people.owner)
    response = await client.post(
        f"/api/v1/courses/{course['id']}/lessons",
        # ensure_ascii keeps a lone surrogate as \ud800, which JSON allows.
        content=json.dumps({"title": "T", "content_markdown": markdown_text}).encode(),
        headers={**people.owner.auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text


async def test_s3_down_during_an_upload_is_503_and_leaves_no_row(
    s3_down_app, catalogue, people, sql
) -> None:
    course = await catalogue.course(people.owner)
    lesson = await catalogue.lesson(people.owner, course["id"], body="kept")
    transport = httpx.ASGITransport(app=s3_down_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://content") as down:
        created = await down.post(
            f"/api/v1/courses/{course['id']}/lessons",
            json={"title": "Lost", "content_markdown": "# never stored"},
            headers=people.owner.auth,
        )
        replaced = await down.put(
            f"/api/v1/lessons/{lesson['id']}/content",
            content=b"never stored",
            headers={**people.owner.auth, "Content-Type": "text/markdown"},
        )
        read = await down.get(f"/api/v1/lessons/{lesson['id']}/content", headers=people.owner.auth)
    for response in (created, replaced, read):
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert int(response.headers["retry-after"]) >= 1
    assert sql("SELECT id, content_sha256 FROM content.lessons") == [
        (UUID(lesson["id"]), hashlib.sha256(b"kept").hexdigest())
    ]


async def test_lessons_come_in_order_index_order_appended_by_default(
    client, catalogue, people
) -> None:
    course = await catalogue.course(people.owner, published=True)
    third = await catalogue.lesson(people.owner, course["id"], title="Third", order_index=10)
    first = await catalogue.lesson(people.owner, course["id"], title="First", order_index=0)
    fourth = await catalogue.lesson(people.owner, course["id"], title="Fourth")
    assert fourth["order_index"] == 11
    taken = await client.post(
        f"/api/v1/courses/{course['id']}/lessons",
        json={"title": "Clash", "content_markdown": "x", "order_index": 10},
        headers=people.owner.auth,
    )
    assert taken.status_code == 409
    pages: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(
            f"/api/v1/courses/{course['id']}/lessons", params=params, headers=people.owner.auth
        )
        assert response.status_code == 200
        pages.extend(item["id"] for item in response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert pages == [first["id"], third["id"], fourth["id"]]


async def test_students_see_only_the_published_lessons_of_a_published_course(
    client, catalogue, people
) -> None:
    course = await catalogue.course(people.owner, published=True)
    shown = await catalogue.lesson(people.owner, course["id"], published=True)
    await catalogue.lesson(people.owner, course["id"])
    for person in (people.anonymous, people.student, people.other):
        response = await client.get(f"/api/v1/courses/{course['id']}/lessons", headers=person.auth)
        assert [item["id"] for item in response.json()["items"]] == [shown["id"]], person.name
    for person in (people.owner, people.admin):
        response = await client.get(f"/api/v1/courses/{course['id']}/lessons", headers=person.auth)
        assert len(response.json()["items"]) == 2, person.name


async def test_uploads_and_their_bytes_are_counted(client, catalogue, people) -> None:
    def counters(text: str) -> tuple[float, float]:
        values = {}
        for line in text.splitlines():
            if line.startswith(
                ('content_uploads_total{outcome="stored"}', "content_upload_bytes_total ")
            ):
                name, value = line.rsplit(" ", 1)
                values[name.split("{")[0]] = float(value)
        return values.get("content_uploads_total", 0.0), values.get(
            "content_upload_bytes_total", 0.0
        )

    before = counters((await client.get("/metrics")).text)
    course = await catalogue.course(people.owner)
    await catalogue.lesson(people.owner, course["id"], body="12345")
    after = counters((await client.get("/metrics")).text)
    assert after[0] - before[0] == 1
    assert after[1] - before[1] == 5


async def test_lessons_added_at_once_get_distinct_places(client, catalogue, people) -> None:
    course = await catalogue.course(people.owner)
    responses = await asyncio.gather(
        *(
            client.post(
                f"/api/v1/courses/{course['id']}/lessons",
                json={"title": f"L{i}", "content_markdown": f"# {i}"},
                headers=people.owner.auth,
            )
            for i in range(5)
        )
    )
    assert [r.status_code for r in responses] == [201] * 5
    assert sorted(r.json()["order_index"] for r in responses) == [0, 1, 2, 3, 4]


async def test_appending_after_a_lesson_at_the_last_position_is_409_not_500(
    client, catalogue, people
) -> None:
    course = await catalogue.course(people.owner)
    await catalogue.lesson(people.owner, course["id"], title="Last", order_index=2**31 - 1)
    appended = await client.post(
        f"/api/v1/courses/{course['id']}/lessons",
        json={"title": "After", "content_markdown": "x"},
        headers=people.owner.auth,
    )
    assert appended.status_code == 409, appended.text
    assert appended.headers["content-type"] == "application/problem+json"
