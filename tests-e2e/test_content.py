"""content through the gateway: an instructor writes a course, a student reads it."""

from __future__ import annotations

import hashlib

import pytest

from .helpers import register

pytestmark = pytest.mark.e2e
MIB = 1024 * 1024


async def test_a_course_is_written_published_and_read_through_the_gateway(gateway):
    instructor = (await register(gateway, role="INSTRUCTOR", prefix="content")).auth
    student = (await register(gateway, prefix="content")).auth
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
