"""Benchmark of learning-records under an exam rush: `uv run python -m bench.learning_records`.

Real PostgreSQL and Kafka, and Ralph (file-system backend, its own environment) as the
LRS; the learning-records app runs in this process with its lifespan (consumer and
sender). BENCH_LRS_ATTEMPTS (default 1000) students finish an exam at once: their
`attempt.completed` events are published as fast as the producer goes, each making two
statements. Measured: statements per second from the first event sent until the LRS
took the last statement, and the lag of each statement (its event's time → the
sender's commit after the LRS took it), p50 / p99 / max.
"""

from __future__ import annotations

import asyncio
import os
import platform
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from bench import percentile
from bench.stack import infrastructure, migrated_database
from edvent_events.admin import ensure_topics
from edvent_events.catalog.assessment import AttemptCompleted
from edvent_events.envelope import encode
from edvent_events.topics import ASSESSMENT_ATTEMPTS
from edvent_learning_records.config import Settings
from edvent_learning_records.main import create_app
from edvent_localstack.process import free_port
from edvent_localstack.ralph import RalphServer
from edvent_platform.db import transaction

LRS_PASSWORD = "bench-lrs-password"  # noqa: S105 - a throwaway local LRS


def _event(exam_id: uuid.UUID, course_id: uuid.UUID, i: int) -> AttemptCompleted:
    ended = datetime.now(UTC)
    return AttemptCompleted(
        attempt_id=uuid.uuid4(), exam_id=exam_id, course_id=course_id, user_id=uuid.uuid4(),
        status="completed", score=i % 101, passed=i % 101 >= 50,
        started_at=ended - timedelta(minutes=20), completed_at=ended,
    )  # fmt: skip


async def run() -> str:
    attempts = int(os.environ.get("BENCH_LRS_ATTEMPTS", "1000"))
    work = Path(tempfile.mkdtemp(prefix="edvent-bench-lrs-"))
    with infrastructure(work, partitions=3) as infra:
        assert infra.kafka is not None
        lrs = RalphServer(
            data_dir=work / "ralph", port=free_port(), log_file=work / "ralph.log",
            password=LRS_PASSWORD,
        )  # fmt: skip
        lrs.start()
        try:
            await ensure_topics(infra.kafka.admin, [ASSESSMENT_ATTEMPTS], partitions=3)
            settings = Settings(
                environment="test",
                log_level="WARNING",
                database_url=migrated_database(infra.postgres, "learning-records"),
                lrs_url=lrs.url,
                lrs_username=lrs.username,
                lrs_password=LRS_PASSWORD,
                **infra.kafka.service_settings("learning-records"),  # type: ignore[arg-type]
            )
            app = create_app(settings)
            async with app.router.lifespan_context(app):
                sessions = app.state.runtime.sessions
                producer = AIOKafkaProducer(**infra.kafka.client_kwargs())
                await producer.start()
                exam_id, course_id = uuid.uuid4(), uuid.uuid4()
                started = time.monotonic()
                try:
                    for i in range(attempts):
                        message = encode(_event(exam_id, course_id, i))
                        await producer.send(
                            message.topic, key=message.key, value=message.value,
                            headers=message.headers,
                        )  # fmt: skip
                    await producer.flush()
                finally:
                    await producer.stop()
                published = time.monotonic() - started
                expected = 2 * attempts
                deadline = time.monotonic() + 600
                while time.monotonic() < deadline:
                    async with transaction(sessions) as session:
                        sent = (
                            await session.execute(
                                text("SELECT count(*) FROM statements WHERE sent_at IS NOT NULL")
                            )
                        ).scalar_one()
                    if sent >= expected:
                        break
                    await asyncio.sleep(0.05)
                elapsed = time.monotonic() - started
                async with transaction(sessions) as session:
                    lags = sorted(
                        row[0] * 1000
                        for row in await session.execute(
                            text(
                                "SELECT extract(epoch FROM sent_at - event_time) "
                                "FROM statements WHERE sent_at IS NOT NULL"
                            )
                        )
                    )
        finally:
            lrs.stop()
    title = f"an exam rush into the LRS ({attempts} attempts, {2 * attempts} statements)"
    stored = f"{len(lags)} of {2 * attempts}"
    rate = f"{len(lags) / elapsed:,.0f}"
    p50, p99 = percentile(lags, 50) if lags else 0, percentile(lags, 99) if lags else 0
    worst = lags[-1] if lags else 0
    return f"""## learning-records: {title}

`uv run python -m bench.learning_records` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC) on
{platform.machine()}, {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f} at the
end). PostgreSQL, Kafka (3 partitions) and Ralph 5.1.0 (file-system backend) on this
machine; the service with its defaults (batches of up to 200, one sender).
Events published in {published:.1f} s.

| statements stored | statements/s (first sent → last stored) | lag p50 | lag p99 | lag max |
|---|---|---|---|---|
| {stored} | {rate} | {p50:,.0f} ms | {p99:,.0f} ms | {worst:,.0f} ms |

Lag: an event's time (its `ce_time`) → the sender's commit after the LRS took the
statement. Ralph's file-system backend reads its whole file for each POST (to find
known ids), so each batch costs more as the file grows: a database-backed LRS does
better; this measures the service against the embedded default.
"""


if __name__ == "__main__":
    print(asyncio.run(run()))
