"""What every black-box test does through the gateway: accounts, tokens, polling."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Platform

PASSWORD = "a long enough password"


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    auth: dict[str, str]


async def login(gateway: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    answer = await gateway.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def admin(gateway: httpx.AsyncClient) -> dict[str, str]:
    return await login(gateway, ADMIN_EMAIL, ADMIN_PASSWORD)


async def set_role(gateway: httpx.AsyncClient, user_id: str, role: str) -> None:
    changed = await gateway.patch(
        f"/api/v1/users/{user_id}", json={"role": role}, headers=await admin(gateway)
    )
    assert changed.status_code == 200, changed.text


async def register(
    gateway: httpx.AsyncClient, *, role: str | None = None, prefix: str = "e2e"
) -> Account:
    """A new user (promoted by the bootstrap admin when `role` is given), signed in."""
    email = f"{prefix}.{secrets.token_hex(4)}@example.com"
    user = await gateway.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "full_name": prefix}
    )
    assert user.status_code == 201, user.text
    if role is not None:
        await set_role(gateway, user.json()["id"], role)
    return Account(id=user.json()["id"], email=email, auth=await login(gateway, email))


async def until(
    call: Callable[[], Awaitable[httpx.Response]],
    ok: Callable[[httpx.Response], bool],
    *,
    timeout: float = 30,
) -> httpx.Response:
    """The first answer `ok` accepts, or the last one at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        response = await call()
        if ok(response) or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.2)


async def note_ready(
    gateway: httpx.AsyncClient, auth: dict[str, str], lesson_id: str, *, timeout: float = 60
) -> dict[str, Any]:
    """The lesson's note once `ready` (404 until ai-notes has the event), else fail."""
    note = await until(
        lambda: gateway.get(f"/api/v1/notes/{lesson_id}", headers=auth),
        lambda r: r.status_code == 200 and r.json()["status"] == "ready",
        timeout=timeout,
    )
    assert note.status_code == 200 and note.json()["status"] == "ready", note.text
    body: dict[str, Any] = note.json()
    return body


async def create_exam(
    gateway: httpx.AsyncClient, instructor: dict[str, str], course_id: str, **fields: Any
) -> str:
    """A published one-question exam (2 + 2, option `b` is right) for `course_id`."""
    body = {"course_id": course_id, "title": "Quiz", "duration_seconds": 600,
            "passing_score_percent": 50, **fields}  # fmt: skip
    # 409 with Retry-After until content's CourseCreated reached assessment.
    exam = await until(
        lambda: gateway.post("/api/v1/exams", json=body, headers=instructor),
        lambda r: r.status_code != 409,
    )
    assert exam.status_code == 201, exam.text
    exam_id: str = exam.json()["id"]
    question = {"prompt": "2 + 2?", "kind": "single_choice", "correct_option_ids": ["b"],
                "options": [{"id": "a", "text": "3"}, {"id": "b", "text": "4"}]}  # fmt: skip
    added = await gateway.post(
        f"/api/v1/exams/{exam_id}/questions", json=question, headers=instructor
    )
    assert added.status_code == 201, added.text
    published = await gateway.post(f"/api/v1/exams/{exam_id}/publish", headers=instructor)
    assert published.status_code == 200, published.text
    return exam_id


async def open_to_students(
    gateway: httpx.AsyncClient,
    instructor: dict[str, str],
    course_id: str,
    exam_id: str,
    student: dict[str, str],
) -> None:
    """Publish the exam's course and wait until `student` sees the exam: assessment shows
    students only the published exams of published courses, and learns of the course's
    publication from content's event."""
    published = await gateway.post(f"/api/v1/courses/{course_id}/publish", headers=instructor)
    assert published.status_code == 200, published.text
    seen = await until(
        lambda: gateway.get(f"/api/v1/exams/{exam_id}", headers=student),
        lambda r: r.status_code == 200,
    )
    assert seen.status_code == 200, seen.text


def stack(platform: Platform, *args: str) -> subprocess.CompletedProcess[str]:
    """`edvent-stack ARGS` against the running platform, as an operator runs it."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "edvent-stack"), *args],
        env=dict(os.environ, EDVENT_DATA_DIR=str(platform.data_dir)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def parts(platform: Platform) -> dict[str, dict[str, Any]]:
    """`edvent-stack status --json`, by part."""
    result = stack(platform, "status", "--json")
    assert result.returncode == 0, result.stderr
    return {row["part"]: row for row in json.loads(result.stdout)}
