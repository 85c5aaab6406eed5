"""content through the gateway: an instructor writes a course, a student reads it."""

from __future__ import annotations

import hashlib
import secrets

import pytest

from .conftest import ADMIN_EMAIL, ADMIN_PASSWORD

pytestmark = pytest.mark.e2e
PASSWORD = "a long enough password"
MIB = 1024 * 1024


async def account(gateway, *, role: str | None = None) -> dict[str, str]:
    email = f"content.{secrets.token_hex(4)}@example.com"
    user = await gateway.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "full_name": "C"}
    )
    assert user.status_code == 201, user.text
    if role is not None:
        admin = await login(gateway, ADMIN_EMAIL, ADMIN_PASSWORD)
        changed = await gateway.patch(
            f"/api/v1/users/{user.json()['id']}", json={"role": role}, headers=admin
        )
        assert changed.status_code == 200, changed.text
    return await login(gateway, email, PASSWORD)


async def login(gateway, email: str, password: str) -> dict[str, str]:
    answer = await gateway.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def test_a_course_is_written_published_and_read_through_the_gateway(gateway):
    instructor = await account(gateway, role="INSTRUCTOR")
    student = await account(gateway)
    course = await gateway.post(
        "/api/v1/courses", json={"title": "E2E", "description": "d"}, headers=instructor
    )
    assert course.status_code == 201, course.text
    course_id = course.json()["id"]
    lesson = await gateway.post(
        f"/api/v1/courses/{course_id}/lessons",
        json={"title": "One", "content_markdown": "# One"},
        headers=instructor,
    )
    assert lesson.status_code == 201, lesson.text
    lesson_id = lesson.json()["id"]
    assert (await gateway.get(f"/api/v1/courses/{course_id}", headers=student)).status_code == 404

    body = b"# Big\n" + b"x" * (5 * MIB - 6)
    markdown = {**instructor, "Content-Type": "text/markdown"}
    put = await gateway.put(f"/api/v1/lessons/{lesson_id}/content", content=body, headers=markdown)
    assert put.status_code == 200, put.text
    too_big = await gateway.put(
        f"/api/v1/lessons/{lesson_id}/content", content=body + b"x", headers=markdown
    )
    assert too_big.status_code == 413
    assert too_big.headers["content-type"] == "application/problem+json"

    for path in (f"/api/v1/lessons/{lesson_id}/publish", f"/api/v1/courses/{course_id}/publish"):
        assert (await gateway.post(path, headers=instructor)).status_code == 200
    read = await gateway.get(f"/api/v1/lessons/{lesson_id}/content", headers=student)
    assert read.status_code == 200
    assert read.content == body
    assert read.headers["etag"] == f'"{hashlib.sha256(body).hexdigest()}"'
    cached = await gateway.get(
        f"/api/v1/lessons/{lesson_id}/content", headers={"If-None-Match": read.headers["etag"]}
    )
    assert cached.status_code == 304
    listed = await gateway.get("/api/v1/courses", params={"limit": 100})
    assert course_id in {item["id"] for item in listed.json()["items"]}
