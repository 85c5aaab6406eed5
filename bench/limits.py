"""Do the abuse limits (issue 26) cost honest traffic anything? `python -m bench.limits`.

Each part runs the same service twice in one run, once with its limits as shipped and
once with them effectively off through configuration, and alternates the two over
ROUNDS rounds, so the machine's noise falls on both alike:

1. Logins: two `edvent-identity serve` processes on one database, one with the default
   login and registration throttles, one with every threshold at a million. 8 clients
   (one account each, all from 127.0.0.1 as behind the gateway) log in with the right
   password back to back for BENCH_LIMITS_SECONDS (default 15) per round; logins/s.
   Argon2 at OWASP's minimum cost in both, so the throttles' share of a login shows.
   The throttles' bookkeeping (each attempt counted as failed until the password is
   checked, then forgotten) runs in both: configuration moves thresholds, not code.
2. Notes: the ai-notes app (local provider, in this process) with its defaults plus a
   daily token budget too large to run out (so every run reads and writes the spend)
   versus no budget and the generation and search lanes at 1,000 slots.
   BENCH_LIMITS_LESSONS (default 8) lessons of ~5,000 words published in one burst per
   round; notes/s from the first send to the last note `ready`.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

from bench.ai_notes import _ready_at, lesson_body
from bench.identity_storm import PASSWORD, Connection, Phase, start_identity, storm, wait_ready
from bench.stack import BUCKET, infrastructure, migrated_database
from edvent_ai_notes.config import Settings
from edvent_ai_notes.main import create_app
from edvent_events.admin import ensure_topics
from edvent_events.catalog.content import LessonPublished
from edvent_events.connection import KafkaConnection
from edvent_events.envelope import encode
from edvent_events.topics import CONTENT_COURSES, CONTENT_LESSONS
from edvent_localstack.process import free_port
from edvent_localstack.s3 import S3Server

ROUNDS = 4
LOGIN_CLIENTS = 8
MODES = ("on", "off")
OFF = 1_000_000  # "effectively off": a threshold no benchmark reaches

# Both modes hash at OWASP's minimum cost, unniced: with the default cost Argon2 takes
# nearly all of a login's time on a busy 2-core machine, hiding what the throttles'
# statements cost.
IDENTITY_HASHING = {
    "IDENTITY_ARGON2_TIME_COST": "2",
    "IDENTITY_ARGON2_MEMORY_KIB": "19456",
    "IDENTITY_ARGON2_PARALLELISM": "1",
    "IDENTITY_PASSWORD_HASHING_NICE": "0",
}
IDENTITY_OFF = {
    "IDENTITY_LOGIN_MAX_FAILURES_PER_EMAIL": str(OFF),
    "IDENTITY_LOGIN_MAX_FAILURES_PER_CLIENT": str(OFF),
    "IDENTITY_LOGIN_ACCOUNT_SLOWDOWN_AFTER": str(OFF),
    "IDENTITY_REGISTER_MAX_PER_CLIENT": str(OFF),
}


# -- logins -----------------------------------------------------------------------------


async def _register(port: int, emails: list[str]) -> None:
    conn = Connection(port)
    try:
        for email in emails:
            body = {"email": email, "password": PASSWORD, "full_name": "Bench"}
            status, _, content = await conn.request("POST", "/api/v1/auth/register", body=body)
            assert status == 201, content
    finally:
        conn.close()


async def _logins(port: int, emails: list[str], seconds: float) -> Phase:
    phase, stop = Phase(), asyncio.Event()
    tasks = [asyncio.create_task(storm(port, email, phase, stop)) for email in emails]
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks)
    phase.seconds = time.perf_counter() - started
    return phase


async def logins(infra: Any, seconds: float) -> dict[str, list[Phase]]:
    url = migrated_database(infra.postgres, "identity")
    base = {k: v for k, v in os.environ.items() if not k.startswith("IDENTITY_")} | {
        "IDENTITY_DATABASE_URL": url,
        **infra.kafka.service_env("identity", "IDENTITY_"),
    }
    ports = {mode: free_port() for mode in MODES}
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for mode in MODES:
            log = infra.work / f"identity-{mode}.log"
            env = base | IDENTITY_HASHING | (IDENTITY_OFF if mode == "off" else {})
            processes[mode] = start_identity(ports[mode], env, log)
            wait_ready(ports[mode], processes[mode], log, timeout=300)  # a loaded machine
        emails = [f"limits-{i}@example.org" for i in range(LOGIN_CLIENTS)]
        await _register(ports["on"], emails)
        for mode in MODES:  # warm-up: both processes' pools and hashing threads
            await _logins(ports[mode], emails, 3)
        phases: dict[str, list[Phase]] = {mode: [] for mode in MODES}
        for _ in range(ROUNDS):
            for mode in MODES:
                phases[mode].append(await _logins(ports[mode], emails, seconds))
        return phases
    finally:
        for process in processes.values():
            process.terminate()
            process.wait(timeout=30)


# -- notes ------------------------------------------------------------------------------


def _notes_settings(base: Settings, mode: str) -> Settings:
    if mode == "on":
        # A budget that never runs out: its bookkeeping is paid, nothing waits for it.
        return base.model_copy(update={"daily_token_budget": 10**12})
    return base.model_copy(
        update={
            "daily_token_budget": 0,
            "max_inflight_generations": 1000,
            "search_concurrency": 1000,
            "regenerate_per_window": OFF,
        }
    )


async def _publish(
    producer: AIOKafkaProducer, s3: S3Server, course_id: uuid.UUID, seed: int
) -> uuid.UUID:
    body = lesson_body(seed).encode()
    sha = hashlib.sha256(body).hexdigest()
    lesson_id = uuid.uuid4()
    # Where content stores bodies: ai-notes refuses a key outside the lesson's prefix.
    key = f"courses/{course_id}/lessons/{lesson_id}/{sha}.md"
    s3.client().put_object(Bucket=BUCKET, Key=key, Body=body)
    event = LessonPublished(
        lesson_id=lesson_id, course_id=course_id, title=f"Lesson {seed}",
        order_index=seed, content_key=key, content_sha256=sha, published_at=datetime.now(UTC),
    )  # fmt: skip
    message = encode(event)
    await producer.send_and_wait(
        message.topic, value=message.value, key=message.key, headers=message.headers
    )
    return event.lesson_id


async def _notes_round(
    settings: Settings, s3: S3Server, content_kafka: KafkaConnection, lessons: int, seed: int
) -> float:
    """Notes per second for one burst of `lessons`, after a warm-up lesson."""
    app = create_app(settings)
    sessions = app.state.ai_notes.sessions
    course_id = uuid.uuid4()
    producer = AIOKafkaProducer(**content_kafka.client_kwargs(), acks="all")
    async with app.router.lifespan_context(app):
        await producer.start()
        try:
            # Warm-up, not counted: the consumer's group join, the model's caches.
            await _ready_at(sessions, await _publish(producer, s3, course_id, seed))
            started = time.perf_counter()
            ids = [await _publish(producer, s3, course_id, seed + 1 + i) for i in range(lessons)]
            for lesson_id in ids:
                await _ready_at(sessions, lesson_id)
            return lessons / (time.perf_counter() - started)
        finally:
            await producer.stop()


async def notes(infra: Any, lessons: int) -> dict[str, list[float]]:
    assert infra.s3 is not None
    s3 = infra.s3
    url = migrated_database(infra.postgres, "ai-notes")
    await ensure_topics(infra.kafka.admin, [CONTENT_LESSONS, CONTENT_COURSES])
    base = Settings(
        database_url=url,
        **infra.kafka.service_settings("ai-notes"),
        log_level="WARNING",
        s3_endpoint_url=s3.endpoint_url,
        s3_access_key=s3.access_key,
        s3_secret_key=s3.secret_key,
        s3_region=s3.region,
        s3_bucket=BUCKET,
    )
    content_kafka = infra.kafka.connection("content")
    rates: dict[str, list[float]] = {mode: [] for mode in MODES}
    seed = 5000
    for _ in range(ROUNDS):
        for mode in MODES:
            rates[mode].append(
                await _notes_round(_notes_settings(base, mode), s3, content_kafka, lessons, seed)
            )
            seed += lessons + 1
    return rates


# -- report -----------------------------------------------------------------------------


def _row(what: str, on: list[float], off: list[float], unit: str) -> str:
    ratios = sorted(a / b for a, b in zip(on, off, strict=True) if b)
    return (
        f"| {what} | {statistics.median(on):.2f} {unit} ({min(on):.2f} to {max(on):.2f}) | "
        f"{statistics.median(off):.2f} {unit} ({min(off):.2f} to {max(off):.2f}) | "
        f"{statistics.median(ratios):.0%} ({ratios[0]:.0%} to {ratios[-1]:.0%}) |"
    )


async def run() -> str:
    seconds = float(os.environ.get("BENCH_LIMITS_SECONDS", "15"))
    lessons = int(os.environ.get("BENCH_LIMITS_LESSONS", "8"))
    work = Path(tempfile.mkdtemp(prefix="edvent-bench-limits-"))
    with infrastructure(work, s3=True) as infra:
        phases = await logins(infra, seconds)
        rates = await notes(infra, lessons)
    login_rates = {mode: [len(p.logins) / p.seconds for p in phases[mode]] for mode in MODES}
    refused = {
        mode: sum(n for p in phases[mode] for code, n in p.login_statuses.items() if code != 200)
        for mode in MODES
    }
    load = os.getloadavg()[0]
    return f"""
## Abuse limits on versus effectively off (issue 26)

Written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()}
cores, load average {load:.1f} at the end (the machine is shared: compare the columns of
one run, not runs). Median of {ROUNDS} alternating rounds (range in brackets); "off" is
every threshold raised out of reach by configuration (bench/limits.py).

| measure | limits on | limits off | on / off |
|---|---|---|---|
{
        _row(
            f"logins, {LOGIN_CLIENTS} clients from one address, {seconds:.0f} s a round",
            login_rates["on"],
            login_rates["off"],
            "/s",
        )
    }
{_row(f"lesson.published → note ready, bursts of {lessons}", rates["on"], rates["off"], "notes/s")}

Login answers other than 200: on {refused["on"]}, off {refused["off"]}.
Target: on / off within the noise (≥ 90%).
"""


def main() -> None:
    sys.stdout.write(asyncio.run(run()))


if __name__ == "__main__":
    main()
