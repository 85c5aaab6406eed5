"""Benchmark of the assessment service: `uv run python -m bench.assessment`.

Real PostgreSQL and Kafka; identity and assessment started as their real commands
(`edvent-<service> serve`, one uvicorn worker each), measured straight at
assessment's port (no gateway). A course arrives as content would announce it (a
CourseCreated and a CoursePublished on the broker); its owner creates and publishes one exam of 20
questions. Then BENCH_STUDENTS (default 50) students, each with their own token,
loop for BENCH_ASSESSMENT_SECONDS (default 15): start an attempt, submit 20 answers,
start again. Reported: attempts submitted per second, and the submit latency p50/p99.

`make bench` runs it after the other benchmarks and writes its section into
bench/RESULTS.md; alone, it prints the section.
"""

from __future__ import annotations

import asyncio
import os
import platform
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer

from bench import percentile
from bench.stack import account, infrastructure, services
from edvent_events.catalog.content import CourseCreated, CoursePublished
from edvent_events.connection import KafkaConnection
from edvent_events.envelope import encode

QUESTIONS = 20


async def announce_course(bootstrap: KafkaConnection, owner_id: str) -> str:
    course_id = uuid.uuid4()
    now = datetime.now(UTC)
    # Created, then published (one key, so in this order): students see only the
    # exams of published courses.
    messages = [
        encode(
            CourseCreated(
                course_id=course_id, owner_id=uuid.UUID(owner_id), title="Bench course",
                created_at=now,
            )
        ),
        encode(
            CoursePublished(
                course_id=course_id, owner_id=uuid.UUID(owner_id), title="Bench course",
                published_at=now,
            )
        ),
    ]  # fmt: skip
    producer = AIOKafkaProducer(**bootstrap.client_kwargs())
    await producer.start()
    try:
        for message in messages:
            await producer.send_and_wait(
                message.topic, key=message.key, value=message.value, headers=message.headers
            )
    finally:
        await producer.stop()
    return str(course_id)


async def make_exam(http: httpx.AsyncClient, course_id: str) -> str:
    body = {"course_id": course_id, "title": "Bench exam", "duration_seconds": 3600,
            "passing_score_percent": 60}  # fmt: skip
    deadline = time.monotonic() + 60
    while True:  # 409 until assessment consumed the CourseCreated
        response = await http.post("/api/v1/exams", json=body)
        if response.status_code == 201 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    response.raise_for_status()
    exam_id = str(response.json()["id"])
    for i in range(QUESTIONS):
        multiple = i % 4 == 3
        question = {
            "prompt": f"Question {i}",
            "kind": "multiple_choice" if multiple else "single_choice",
            "options": [{"id": oid, "text": f"Option {oid}"} for oid in "abcd"],
            "correct_option_ids": ["a", "c"] if multiple else ["b"],
            "points": 2 if multiple else 1,
        }
        (await http.post(f"/api/v1/exams/{exam_id}/questions", json=question)).raise_for_status()
    (await http.post(f"/api/v1/exams/{exam_id}/publish")).raise_for_status()
    return exam_id


async def students_at_work(
    assessment: str, exam_id: str, tokens: list[str], *, seconds: float
) -> tuple[int, float, list[float], int]:
    """(attempts submitted, elapsed seconds, sorted submit latencies, connections lost).

    A connection the server closes under the client (once in a full `make bench`: a
    ReadError on a submit) is counted and reported, not fatal; any other answer than
    201/200 still stops the benchmark."""
    latencies: list[float] = []
    lost = 0
    limits = httpx.Limits(max_connections=len(tokens), max_keepalive_connections=len(tokens))
    rng = random.Random(7)
    async with httpx.AsyncClient(base_url=assessment, timeout=60, limits=limits) as http:
        stop_at = time.perf_counter() + seconds

        async def student(token: str) -> None:
            auth = {"Authorization": f"Bearer {token}"}
            nonlocal lost
            while time.perf_counter() < stop_at:
                try:
                    started = await http.post(f"/api/v1/exams/{exam_id}/attempts", headers=auth)
                except httpx.TransportError:
                    lost += 1
                    continue
                assert started.status_code == 201, started.text
                attempt = started.json()
                answers = [
                    {"question_id": q["question_id"],
                     "option_ids": rng.sample("abcd", 2 if q["kind"] == "multiple_choice" else 1)}
                    for q in attempt["questions"]
                ]  # fmt: skip
                began = time.perf_counter()
                try:
                    done = await http.post(
                        f"/api/v1/attempts/{attempt['id']}/submit",
                        json={"answers": answers},
                        headers=auth,
                    )
                except httpx.TransportError:
                    lost += 1
                    continue
                latencies.append(time.perf_counter() - began)
                assert done.status_code == 200, done.text

        began = time.perf_counter()
        await asyncio.gather(*(student(token) for token in tokens))
        elapsed = time.perf_counter() - began
    return len(latencies), elapsed, sorted(latencies), lost


async def run() -> str:
    seconds = float(os.environ.get("BENCH_ASSESSMENT_SECONDS", "15"))
    count = int(os.environ.get("BENCH_STUDENTS", "50"))
    work = Path(tempfile.mkdtemp(prefix="edvent-bench-assessment-"))
    with (
        infrastructure(work) as infra,
        services(infra, ("identity", "assessment")) as urls,
    ):
        assert infra.kafka is not None
        assessment, identity_url = urls["assessment"], urls["identity"]
        owner_token, owner_id = await account(identity_url, role="INSTRUCTOR")
        course_id = await announce_course(infra.kafka.connection("content"), owner_id)
        owner = {"Authorization": f"Bearer {owner_token}"}
        async with httpx.AsyncClient(base_url=assessment, timeout=60, headers=owner) as http:
            exam_id = await make_exam(http, course_id)
        tokens = []
        for _ in range(count):  # one at a time: Argon2 is not what this measures
            token, _ = await account(identity_url, role=None)
            tokens.append(token)
        await students_at_work(assessment, exam_id, tokens, seconds=2)  # warm-up
        submitted, elapsed, latencies, lost = await students_at_work(
            assessment, exam_id, tokens, seconds=seconds
        )
    return "\n".join(
        [
            "## assessment service",
            "",
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}; one uvicorn worker, straight to its port. "
            f"{count} students, each looping start → submit on one exam of {QUESTIONS} "
            f"questions for {seconds:.0f} s.",
            "",
            "| measure | value |",
            "|---|---|",
            f"| attempts submitted ({count} concurrent students) | "
            f"{submitted / elapsed:.0f} attempts/s ({submitted} in {elapsed:.1f} s) |",
            f"| submit latency p50 / p99 | {percentile(latencies, 50) * 1000:.1f} ms / "
            f"{percentile(latencies, 99) * 1000:.1f} ms |",
            f"| connections lost (closed by the server under a request) | {lost} |",
            "",
        ]
    )


def main() -> None:
    print(asyncio.run(run()))


if __name__ == "__main__":
    main()
