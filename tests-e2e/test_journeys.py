"""The platform's journeys, black box: only the gateway (and Kafka for the data team).

One instructor writes a course with lessons and an exam; their notes are generated;
a student reads and takes it; the instructor sees the result; a data team reads every
event the platform wrote and checks it against the committed schemas.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from aiokafka import AIOKafkaConsumer
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat

from edvent_events.catalog import (
    CATALOG,
    AttemptCompleted,
    CourseCreated,
    CoursePublished,
    ExamPublished,
    LessonPublished,
    NotesGenerated,
    UserRegistered,
    UserRoleChanged,
)
from edvent_events.connection import KafkaConnection
from edvent_events.topics import ALL_TOPICS

from .helpers import Account, create_exam, login, note_ready, register, set_role, until

pytestmark = pytest.mark.e2e
SCHEMAS = Path(__file__).parents[1] / "libs" / "events" / "schemas"

LESSONS = {
    "Photosynthesis": (
        "# Photosynthesis\n\nPhotosynthesis is the process by which green plants turn light "
        "into chemical energy. Chlorophyll absorbs the light. Photosynthesis makes glucose "
        "from carbon dioxide and water, and releases oxygen.\n\n## Chlorophyll\n\n"
        "Chlorophyll is the green pigment of the chloroplast. Chlorophyll absorbs red and "
        "blue light and reflects green light, which is why leaves look green.\n"
    ),
    "Cellular respiration": (
        "# Cellular respiration\n\nCellular respiration is the process by which cells break "
        "glucose down to release energy as ATP. Mitochondria host cellular respiration. "
        "Oxygen is consumed and carbon dioxide is released.\n\n## Mitochondria\n\n"
        "Mitochondria are the organelles where aerobic respiration makes most of the ATP. "
        "Mitochondria have their own DNA.\n"
    ),
    "Osmosis": (
        "# Osmosis\n\nOsmosis is the movement of water across a semipermeable membrane from "
        "a dilute solution to a concentrated one. Osmosis needs no energy from the cell.\n\n"
        "## Turgor pressure\n\nTurgor pressure is the pressure of water inside a plant cell "
        "pushing against the cell wall. Osmosis keeps turgor pressure up in watered plants.\n"
    ),
}


@dataclass(frozen=True)
class Journey:
    instructor: Account
    student: Account
    course_id: str
    lesson_ids: list[str]
    notes: dict[str, dict[str, Any]]
    exam_id: str
    attempt: dict[str, Any]


@pytest.fixture(scope="module")
async def journey(platform) -> Journey:
    """Instructor, then student, each step asserted as it happens."""
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as gateway:
        instructor = await register(gateway, role="INSTRUCTOR", prefix="instructor")
        me = await gateway.get("/api/v1/users/me", headers=instructor.auth)
        assert me.json()["role"] == "INSTRUCTOR"
        course = await gateway.post(
            "/api/v1/courses",
            json={"title": f"Biology {secrets.token_hex(3)}", "description": "Cells and plants"},
            headers=instructor.auth,
        )
        assert course.status_code == 201, course.text
        course_id = course.json()["id"]
        lesson_ids = []
        for index, (title, body) in enumerate(LESSONS.items()):
            lesson = await gateway.post(
                f"/api/v1/courses/{course_id}/lessons",
                json={"title": title, "content_markdown": body, "order_index": index},
                headers=instructor.auth,
            )
            assert lesson.status_code == 201, lesson.text
            lesson_ids.append(lesson.json()["id"])
        for lesson_id in lesson_ids:
            published = await gateway.post(
                f"/api/v1/lessons/{lesson_id}/publish", headers=instructor.auth
            )
            assert published.status_code == 200, published.text
        published = await gateway.post(
            f"/api/v1/courses/{course_id}/publish", headers=instructor.auth
        )
        assert published.status_code == 200, published.text
        assert published.json()["is_published"] is True

        notes = {}
        for lesson_id in lesson_ids:
            notes[lesson_id] = await note_ready(gateway, instructor.auth, lesson_id)
        exam_id = await create_exam(gateway, instructor.auth, course_id)

        student = await register(gateway, prefix="student")
        listed = await gateway.get("/api/v1/courses", params={"limit": 100}, headers=student.auth)
        assert listed.status_code == 200
        assert course_id in {item["id"] for item in listed.json()["items"]}
        assert all(item["is_published"] for item in listed.json()["items"])
        lessons = await gateway.get(f"/api/v1/courses/{course_id}/lessons", headers=student.auth)
        assert [item["id"] for item in lessons.json()["items"]] == lesson_ids
        body = await gateway.get(f"/api/v1/lessons/{lesson_ids[0]}/content", headers=student.auth)
        assert body.status_code == 200 and body.text == LESSONS["Photosynthesis"]
        note = await gateway.get(f"/api/v1/notes/{lesson_ids[0]}", headers=student.auth)
        assert note.status_code == 200 and note.json()["status"] == "ready"
        assert note.json()["summary_markdown"]

        exams = await gateway.get(
            "/api/v1/exams", params={"course_id": course_id}, headers=student.auth
        )
        assert [item["id"] for item in exams.json()["items"]] == [exam_id]
        started = await gateway.post(f"/api/v1/exams/{exam_id}/attempts", headers=student.auth)
        assert started.status_code == 201, started.text
        question_id = started.json()["questions"][0]["question_id"]
        done = await gateway.post(
            f"/api/v1/attempts/{started.json()['id']}/submit",
            json={"answers": [{"question_id": question_id, "option_ids": ["b"]}]},
            headers=student.auth,
        )
        assert done.status_code == 200, done.text
        return Journey(
            instructor=instructor, student=student, course_id=course_id,
            lesson_ids=lesson_ids, notes=notes, exam_id=exam_id, attempt=done.json(),
        )  # fmt: skip


async def test_an_instructors_lessons_get_notes_found_by_concept_and_by_meaning(gateway, journey):
    auth = journey.instructor.auth
    for lesson_id, note in journey.notes.items():
        assert note["key_concepts"], note
        assert note["model"] == "local-extractive-v1"
        concept = note["key_concepts"][0]["name"]
        found = await gateway.get(
            "/api/v1/notes", params={"concept": concept.upper(), "limit": 100}, headers=auth
        )
        assert found.status_code == 200, found.text
        assert lesson_id in {item["lesson_id"] for item in found.json()["items"]}, concept
    questions = {
        journey.lesson_ids[0]: "how do leaves turn sunlight into sugar",
        journey.lesson_ids[1]: "where do cells make ATP from glucose",
        journey.lesson_ids[2]: "water moving through a membrane",
    }
    for lesson_id, question in questions.items():
        hits = await gateway.get(
            "/api/v1/notes/search",
            params={"q": question, "course_id": journey.course_id},
            headers=auth,
        )
        assert hits.status_code == 200, hits.text
        assert hits.json()["items"][0]["lesson_id"] == lesson_id, (question, hits.json())


async def test_a_student_sees_the_score_and_the_instructor_the_attempt_and_analytics(
    gateway, journey
):
    attempt = journey.attempt
    assert (attempt["status"], attempt["score"], attempt["passed"]) == ("completed", 100, True)
    mine = await gateway.get(f"/api/v1/attempts/{attempt['id']}", headers=journey.student.auth)
    assert mine.status_code == 200 and mine.json()["score"] == 100

    auth = journey.instructor.auth
    attempts = await gateway.get(f"/api/v1/exams/{journey.exam_id}/attempts", headers=auth)
    assert attempts.status_code == 200, attempts.text
    assert [(item["id"], item["user_id"]) for item in attempts.json()["items"]] == [
        (attempt["id"], journey.student.id)
    ]
    analytics = await until(
        lambda: gateway.get(f"/api/v1/exams/{journey.exam_id}/analytics", headers=auth),
        lambda r: r.status_code == 200 and r.json()["attempts_completed"] == 1,
    )
    assert analytics.json()["attempts_completed"] == 1, analytics.text
    assert (analytics.json()["average_score"], analytics.json()["pass_rate"]) == (100, 1.0)


async def read_everything(bootstrap: KafkaConnection, *, group: str, wanted: set[str]) -> list[Any]:
    """Every record of every contract topic, from the beginning, as a new consumer group
    sees them; stops once the `wanted` event ids arrived and a poll brings nothing."""
    consumer = AIOKafkaConsumer(
        *ALL_TOPICS, **bootstrap.client_kwargs(), group_id=group,
        auto_offset_reset="earliest", enable_auto_commit=False,
    )  # fmt: skip
    records: list[Any] = []
    seen: set[str] = set()
    await consumer.start()
    try:
        for _ in range(300):  # 300 polls of at most 0.2 s: about a minute
            batch = await consumer.getmany(timeout_ms=200)
            for part in batch.values():
                records.extend(part)
                seen.update(dict(r.headers)["ce_subject"].decode() for r in part)
            if wanted <= seen and not batch:
                break
        await consumer.commit()
    finally:
        await consumer.stop()
    return records


async def test_a_data_team_decodes_every_event_with_the_cloudevents_sdk_and_the_schemas(
    platform, journey
):
    schemas = {path.stem: json.loads(path.read_text()) for path in SCHEMAS.glob("*.json")}
    assert len(schemas) == len(CATALOG)
    subjects = {journey.course_id, journey.exam_id, journey.attempt["id"], journey.student.id,
                *journey.lesson_ids}  # fmt: skip
    records = await read_everything(
        platform.kafka, group=f"data-team.{secrets.token_hex(3)}", wanted=subjects
    )
    types: dict[str, int] = {}
    ids: set[str] = set()
    for record in records:
        event = ce_kafka.from_binary(
            ce_kafka.KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value),
            JSONFormat(),
        )
        assert event.get_specversion() == "1.0"
        assert event.get_subject() == record.key.decode()
        ce_type = event.get_type()
        jsonschema.validate(event.get_data(), schemas[ce_type])
        types[ce_type] = types.get(ce_type, 0) + 1
        ids.add(event.get_id())
    print(f"data team: {len(records)} records, {len(ids)} distinct ce_id, by type {types}")
    # Every type the journey makes (the lifecycle wave's types need other journeys).
    journey_types = {cls.ce_type for cls in (UserRegistered, UserRoleChanged, CourseCreated,
                     CoursePublished, LessonPublished, ExamPublished, AttemptCompleted,
                     NotesGenerated)}  # fmt: skip
    assert journey_types <= set(types), journey_types - set(types)


async def test_authorisation_holds_across_services(gateway, journey):
    student, other = journey.student, await register(gateway, prefix="other")
    course = await gateway.post("/api/v1/courses", json={"title": "No"}, headers=student.auth)
    assert course.status_code == 403
    exam = await gateway.post(
        "/api/v1/exams",
        json={"course_id": journey.course_id, "title": "No", "duration_seconds": 60,
              "passing_score_percent": 50},
        headers=student.auth,
    )  # fmt: skip
    assert exam.status_code == 403, exam.text
    theirs = await gateway.get(f"/api/v1/attempts/{journey.attempt['id']}", headers=other.auth)
    assert theirs.status_code == 404
    for path in (f"/api/v1/exams/{journey.exam_id}/attempts",
                 f"/api/v1/exams/{journey.exam_id}/analytics"):  # fmt: skip
        assert (await gateway.get(path, headers=student.auth)).status_code == 403
    regenerate = await gateway.post(
        f"/api/v1/notes/{journey.lesson_ids[0]}/regenerate", headers=student.auth
    )
    assert regenerate.status_code == 403


async def test_a_demoted_instructor_loses_rights_once_the_role_event_arrived(gateway):
    instructor = await register(gateway, role="INSTRUCTOR", prefix="demoted")
    course = await gateway.post("/api/v1/courses", json={"title": "Mine"}, headers=instructor.auth)
    assert course.status_code == 201, course.text
    course_id = course.json()["id"]
    exam_id = await create_exam(gateway, instructor.auth, course_id)
    await set_role(gateway, instructor.id, "STUDENT")
    # Rights come from the token's role: the demoted user's next token.
    demoted = await login(gateway, instructor.email)
    denied = await until(
        lambda: gateway.get(f"/api/v1/exams/{exam_id}/analytics", headers=demoted),
        lambda r: r.status_code in (403, 404),
    )
    assert denied.status_code in (403, 404), denied.text
    new_course = await gateway.post("/api/v1/courses", json={"title": "No"}, headers=demoted)
    assert new_course.status_code == 403
    lesson = await gateway.post(
        f"/api/v1/courses/{course_id}/lessons",
        json={"title": "No", "content_markdown": "# No"},
        headers=demoted,
    )
    assert lesson.status_code in (403, 404)


async def test_a_demoted_instructors_older_token_loses_rights_once_the_role_event_arrived(
    gateway,
):
    instructor = await register(gateway, role="INSTRUCTOR", prefix="old-token")
    course = await gateway.post("/api/v1/courses", json={"title": "Mine"}, headers=instructor.auth)
    assert course.status_code == 201, course.text
    exam_id = await create_exam(gateway, instructor.auth, course.json()["id"])
    await set_role(gateway, instructor.id, "STUDENT")
    # The token still says INSTRUCTOR; the services heard of the demotion by event.
    denied = await until(
        lambda: gateway.post("/api/v1/courses", json={"title": "No"}, headers=instructor.auth),
        lambda r: r.status_code == 403,
        timeout=20,
    )
    assert denied.status_code == 403, denied.text
    analytics = await gateway.get(f"/api/v1/exams/{exam_id}/analytics", headers=instructor.auth)
    assert analytics.status_code in (403, 404), analytics.text
