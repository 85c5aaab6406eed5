"""Failure drills: parts of the running platform really killed (SIGKILL) or stopped,
traffic through the gateway, and the figures each drill produced printed and checked.

They run on the session's platform and leave it healthy: every drill waits until each
service's `/readyz` answers again before it returns.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from typing import Any

import httpx
import pytest

from edvent_events.topics import AI_NOTES_NOTES, ASSESSMENT_ATTEMPTS, CONTENT_LESSONS
from edvent_localstack.pytest_plugin import read_topic

from .helpers import (
    Account,
    create_exam,
    note_ready,
    open_to_students,
    parts,
    register,
    stack,
    until,
)

pytestmark = pytest.mark.e2e


def lesson_body(number: int) -> str:
    """A lesson long enough (about 1,500 words) that generating its note takes a while."""
    sections = []
    for section in range(6):
        sentences = " ".join(
            f"Topic {number} part {section} explains idea {i}: a gradient descends the loss "
            f"surface of model {number} while the learning rate {i} controls each step."
            for i in range(10)
        )
        sections.append(f"## Part {section} of lesson {number}\n\n{sentences}\n")
    return f"# Lesson {number}\n\n" + "\n".join(sections)


async def all_ready(platform: Any, *, timeout: float = 90) -> float:
    """Seconds until every service's own `/readyz` answers 200."""
    start = time.monotonic()
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            statuses = []
            for port in platform.service_ports.values():
                try:
                    statuses.append(
                        (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code
                    )
                except httpx.HTTPError:
                    statuses.append(0)
            if all(status == 200 for status in statuses):
                return time.monotonic() - start
            assert time.monotonic() - start < timeout, statuses
            await asyncio.sleep(0.2)


def by_key(records: list[Any]) -> tuple[dict[str, int], dict[str, set[str]]]:
    """Records and distinct `ce_id`s per record key."""
    count: Counter[str] = Counter()
    ids: dict[str, set[str]] = {}
    for record in records:
        key = record.key.decode()
        count[key] += 1
        ids.setdefault(key, set()).add(dict(record.headers)["ce_id"].decode())
    return dict(count), ids


async def course_with_lessons(
    gateway: httpx.AsyncClient, count: int
) -> tuple[Account, str, list[str]]:
    instructor = await register(gateway, role="INSTRUCTOR", prefix="drill")
    course = await gateway.post("/api/v1/courses", json={"title": "Drill"}, headers=instructor.auth)
    assert course.status_code == 201, course.text
    course_id = course.json()["id"]
    lesson_ids = []
    for number in range(count):
        lesson = await gateway.post(
            f"/api/v1/courses/{course_id}/lessons",
            json={"title": f"Lesson {number}", "content_markdown": lesson_body(number)},
            headers=instructor.auth,
        )
        assert lesson.status_code == 201, lesson.text
        lesson_ids.append(lesson.json()["id"])
    return instructor, course_id, lesson_ids


async def publish_until_done(
    gateway: httpx.AsyncClient, auth: dict[str, str], lesson_id: str
) -> int:
    """Publish as a client does: retry what got no answer or a 5xx. Returns the tries."""
    for tries in range(1, 200):
        try:
            answer = await gateway.post(f"/api/v1/lessons/{lesson_id}/publish", headers=auth)
            if answer.status_code == 200:
                return tries
            assert answer.status_code >= 500, answer.text
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"lesson {lesson_id} was never published")


async def notes_ready(
    gateway: httpx.AsyncClient, auth: dict[str, str], lesson_ids: list[str]
) -> int:
    ready = 0
    for lesson_id in lesson_ids:
        note = await gateway.get(f"/api/v1/notes/{lesson_id}", headers=auth)
        ready += note.status_code == 200 and note.json()["status"] == "ready"
    return ready


async def test_ai_notes_killed_while_20_lessons_are_published(gateway, platform):
    instructor, _, lesson_ids = await course_with_lessons(gateway, 20)
    before = parts(platform)["ai-notes"]
    publishing = asyncio.gather(
        *(publish_until_done(gateway, instructor.auth, lesson_id) for lesson_id in lesson_ids)
    )
    # Kill it while it works: once the first notes are ready and before the last.
    ready_at_kill = 0
    deadline = time.monotonic() + 60
    while ready_at_kill == 0 and time.monotonic() < deadline:
        ready_at_kill = await notes_ready(gateway, instructor.auth, lesson_ids)
    os.kill(before["pid"], signal.SIGKILL)
    await publishing
    assert ready_at_kill < len(lesson_ids), "ai-notes finished before the kill"

    killed_at = time.monotonic()
    for lesson_id in lesson_ids:
        await note_ready(
            gateway, instructor.auth, lesson_id,
            # Generous: a lesson ai-notes fails on (test_content's 5 MiB of "x", about
            # 50 s per attempt, retried 5 times) holds up its partition for minutes.
            timeout=max(10.0, killed_at + 360 - time.monotonic()),
        )  # fmt: skip
    recovered = time.monotonic() - killed_at
    after = parts(platform)["ai-notes"]
    assert after["restarts"] == before["restarts"] + 1

    keys = {lesson_id.encode() for lesson_id in lesson_ids}
    records = await read_topic(
        platform.kafka, AI_NOTES_NOTES, expected=len(lesson_ids), where=lambda r: r.key in keys
    )
    count, ids = by_key(records)
    distinct = sum(map(len, ids.values()))
    print(
        f"ai-notes drill: lessons published {len(lesson_ids)}, notes ready at the kill "
        f"{ready_at_kill}, all ready {recovered:.0f} s after it, notes.generated records "
        f"{len(records)}, distinct ce_id "
        f"{distinct}, duplicates seen {len(records) - distinct}, "
        f"duplicates applied {distinct - len(lesson_ids)}"
    )
    # Exactly one event (by ce_id; the relay may repeat a record) and one note per lesson.
    assert {key: len(v) for key, v in ids.items()} == dict.fromkeys(lesson_ids, 1)
    assert set(count) == set(lesson_ids)
    await all_ready(platform)


async def test_kafka_stopped_for_10_s_while_50_students_submit(gateway, platform):
    instructor = await register(gateway, role="INSTRUCTOR", prefix="kafka-drill")
    course = await gateway.post("/api/v1/courses", json={"title": "Kafka"}, headers=instructor.auth)
    assert course.status_code == 201, course.text
    exam_id = await create_exam(gateway, instructor.auth, course.json()["id"])
    students = [await register(gateway, prefix="kafka-student") for _ in range(50)]
    await open_to_students(gateway, instructor.auth, course.json()["id"], exam_id, students[0].auth)
    attempts = []
    for student in students:
        started = await gateway.post(f"/api/v1/exams/{exam_id}/attempts", headers=student.auth)
        assert started.status_code == 201, started.text
        attempts.append(started.json())

    stopped = stack(platform, "stop", "kafka")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    down_at = time.monotonic()

    async def submit(student: Account, attempt: dict[str, Any], delay: float) -> httpx.Response:
        await asyncio.sleep(delay)  # spread over the outage, 5 a second
        question_id = attempt["questions"][0]["question_id"]
        return await gateway.post(
            f"/api/v1/attempts/{attempt['id']}/submit",
            json={"answers": [{"question_id": question_id, "option_ids": ["b"]}]},
            headers=student.auth,
        )

    answers = await asyncio.gather(
        *(submit(s, a, i * 0.19) for i, (s, a) in enumerate(zip(students, attempts, strict=True)))
    )
    submitted_within = time.monotonic() - down_at
    await asyncio.sleep(max(0.0, 10 - submitted_within))  # the outage lasts its 10 s
    started = stack(platform, "start", "kafka")
    assert started.returncode == 0, started.stdout + started.stderr
    assert [a.status_code for a in answers] == [200] * 50, [
        a.text for a in answers if a.status_code != 200
    ]

    keys = {attempt["id"].encode() for attempt in attempts}
    records = await read_topic(
        platform.kafka, ASSESSMENT_ATTEMPTS, expected=50, timeout=90, where=lambda r: r.key in keys
    )
    _, ids = by_key(records)
    analytics = await until(
        lambda: gateway.get(f"/api/v1/exams/{exam_id}/analytics", headers=instructor.auth),
        lambda r: r.status_code == 200 and r.json()["attempts_completed"] >= 50,
    )
    print(
        f"kafka drill: submits sent 50 (within {submitted_within:.1f} s of the stop), answered "
        f"{sum(a.status_code == 200 for a in answers)}, attempt.completed records "
        f"{len(records)}, distinct ce_id {sum(map(len, ids.values()))}, duplicates seen "
        f"{len(records) - sum(map(len, ids.values()))}, analytics attempts_completed "
        f"{analytics.json()['attempts_completed']}"
    )
    assert {key: len(v) for key, v in ids.items()} == {a["id"]: 1 for a in attempts}
    assert analytics.json()["attempts_completed"] == 50
    await all_ready(platform)


async def test_postgres_restarted_under_traffic(gateway, platform):
    readiness: dict[str, list[tuple[float, int]]] = {svc: [] for svc in platform.service_ports}
    traffic: list[tuple[float, int]] = []
    done = asyncio.Event()

    async def watch(client: httpx.AsyncClient, service: str, port: int) -> None:
        while not done.is_set():
            try:
                status = (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code
            except httpx.HTTPError:
                status = 0
            readiness[service].append((time.monotonic(), status))
            await asyncio.sleep(0.05)

    async def browse() -> None:
        while not done.is_set():
            try:
                status = (await gateway.get("/api/v1/courses", params={"limit": 20})).status_code
            except httpx.HTTPError:
                status = 0
            traffic.append((time.monotonic(), status))
            await asyncio.sleep(0.05)

    async with httpx.AsyncClient(timeout=2) as client:
        tasks = [
            asyncio.create_task(watch(client, s, p)) for s, p in platform.service_ports.items()
        ]
        tasks.append(asyncio.create_task(browse()))
        await asyncio.sleep(1)
        restart_at = time.monotonic()
        restarted = await asyncio.to_thread(stack, platform, "restart", "postgres")
        back_at = time.monotonic()
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
        recovered = await all_ready(platform, timeout=60)
        ok_again = await until(
            lambda: gateway.get("/api/v1/courses", params={"limit": 20}),
            lambda r: r.status_code == 200,
        )
        await asyncio.sleep(1)
        done.set()
        await asyncio.gather(*tasks)
    assert ok_again.status_code == 200

    during = {
        svc: Counter(s for t, s in rows if restart_at <= t <= back_at)
        for svc, rows in readiness.items()
    }
    failed = Counter(s for t, s in traffic if t >= restart_at and s != 200)
    print(
        f"postgres drill: restart took {back_at - restart_at:.1f} s, every /readyz 200 again "
        f"{recovered:.1f} s later; readyz answers during the restart {during}; "
        f"GET /api/v1/courses sent {len(traffic)}, not 200 from the restart on {dict(failed)}"
    )
    for service, statuses in during.items():
        assert statuses[503] > 0, (service, statuses)
    # After recovery every answer is 200 again, without any manual step.
    tail = [s for t, s in traffic if t > back_at + recovered + 0.5]
    assert tail and set(tail) == {200}, Counter(tail)


async def test_content_with_its_relay_killed_mid_batch(gateway, platform):
    instructor, _, lesson_ids = await course_with_lessons(gateway, 30)
    before = parts(platform)["content"]
    tries = asyncio.gather(
        *(publish_until_done(gateway, instructor.auth, lesson_id) for lesson_id in lesson_ids)
    )
    # Kill once the publishes are being committed: their events are then in the outbox.
    first = await until(
        lambda: gateway.get(f"/api/v1/lessons/{lesson_ids[0]}", headers=instructor.auth),
        lambda r: r.status_code == 200 and r.json()["published_at"] is not None,
        timeout=60,
    )
    assert first.json()["published_at"] is not None, first.text
    os.kill(before["pid"], signal.SIGKILL)
    retried = sum(t > 1 for t in await tries)
    # The publishes may all have answered before the supervisor noticed the kill.
    deadline = time.monotonic() + 60
    while parts(platform)["content"]["restarts"] == before["restarts"]:
        assert time.monotonic() < deadline, "content was not restarted"
        await asyncio.sleep(0.5)
    assert parts(platform)["content"]["restarts"] == before["restarts"] + 1

    keys = {lesson_id.encode() for lesson_id in lesson_ids}
    published = await read_topic(
        platform.kafka, CONTENT_LESSONS, expected=30, timeout=60, where=lambda r: r.key in keys
    )
    published_count, published_ids = by_key(published)
    for lesson_id in lesson_ids:
        await note_ready(gateway, instructor.auth, lesson_id, timeout=120)
    generated = await read_topic(
        platform.kafka, AI_NOTES_NOTES, expected=30, where=lambda r: r.key in keys
    )
    _, generated_ids = by_key(generated)
    events = sum(map(len, published_ids.values()))
    notes = sum(map(len, generated_ids.values()))
    print(
        f"relay drill: lessons 30, publishes retried by the client {retried}, "
        f"lesson.published records {len(published)}, distinct ce_id {events}, duplicates "
        f"seen {len(published) - events}, notes.generated distinct ce_id {notes}, "
        f"duplicates applied {notes - len(lesson_ids)}"
    )
    # Nothing lost: every lesson's event reached Kafka and ai-notes.
    assert set(published_count) == set(lesson_ids)
    # Nothing applied twice: one note event per lesson, whatever the relay repeated.
    assert {key: len(v) for key, v in generated_ids.items()} == dict.fromkeys(lesson_ids, 1)
    await all_ready(platform)
