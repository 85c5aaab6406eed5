"""The failures the outbox exists for: a relay killed mid-publish, Kafka going away."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from edvent_events.admin import ensure_topics
from edvent_events.outbox import add_event
from edvent_localstack.kafka import KafkaBroker
from edvent_localstack.process import free_port
from edvent_localstack.pytest_plugin import eventually, read_topic

from .helpers import (
    cli_env,
    effect_count,
    effects,
    equals,
    record_effect,
    relay_for,
    runner_for,
)

pytestmark = pytest.mark.integration


async def test_relay_killed_after_publishing_before_marking_sent_loses_nothing(
    postgres, events_db, database_url, sessions, kafka, thing, unique
):
    async with sessions() as session, session.begin():
        for seq in range(20):
            await add_event(session, thing(thing_id=f"x{seq % 2}", seq=seq))
    dsn = postgres.dsn(user=events_db.role, password=events_db.password)
    # Hold the rows' locks: the relay can read and publish them, but its UPDATE that
    # marks them sent blocks, which freezes it exactly between the two steps.
    blocker = psycopg.connect(dsn)
    blocker.execute(f"SELECT id FROM {events_db.schema}.outbox FOR UPDATE").fetchall()
    relay_process = subprocess.Popen(  # noqa: ASYNC220 - starting it does not block
        [
            str(Path(sys.executable).parent / "edvent-events"),
            "--bootstrap-servers",
            kafka.bootstrap_servers,
            "relay",
            "--database-url",
            database_url,
            "--schema",
            events_db.schema,
        ],
        start_new_session=True,
        env=cli_env(kafka),
    )
    try:
        published = await read_topic(kafka.admin, thing.topic, expected=20, timeout=60)
        assert len(published) == 20
        unsent = blocker.execute(
            f"SELECT count(*) FROM {events_db.schema}.outbox WHERE sent_at IS NULL"
        ).fetchone()
        assert unsent == (20,)
        os.killpg(relay_process.pid, signal.SIGKILL)
        relay_process.wait(timeout=10)
        # Its server session is still waiting to run the UPDATE; a dead process's
        # statement never ran, so end that session too before releasing the locks.
        blocker.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE usename = current_user AND pid <> pg_backend_pid()"
            " AND wait_event_type = 'Lock'"
        )
    finally:
        if relay_process.poll() is None:
            os.killpg(relay_process.pid, signal.SIGKILL)
        blocker.rollback()
        blocker.close()

    relay = relay_for(database_url, events_db.schema, kafka.admin)
    relay.start()
    consumer = runner_for(sessions, kafka, thing, record_effect, unique)
    await consumer.start()
    try:
        republished = await read_topic(kafka.admin, thing.topic, expected=40)
        assert len(republished) == 40  # at least once: every event is there twice
        await eventually(lambda: equals(effect_count(sessions), 20))
    finally:
        await consumer.stop()
        await relay.stop()
    applied = await effects(sessions)
    assert sorted(seq for _, seq in applied) == list(range(20))  # exactly once


async def test_events_written_while_kafka_is_down_are_published_when_it_returns(
    tmp_path, events_db, database_url, sessions, thing, unique
):
    broker = KafkaBroker(
        data_dir=tmp_path / "kafka",
        port=free_port(),
        controller_port=free_port(),
        log_file=tmp_path / "kafka.log",
    )
    broker.start()
    relay = relay_for(database_url, events_db.schema, broker.admin, max_backoff=1.0)
    try:
        await ensure_topics(broker.admin, [thing.topic], partitions=2)
        relay.start()
        async with sessions() as session, session.begin():
            for seq in range(10):
                await add_event(session, thing(thing_id="y", seq=seq))
        assert len(await read_topic(broker.admin, thing.topic, expected=10)) == 10

        broker.stop()
        for seq in range(10, 30):  # the service keeps working while Kafka is away
            async with sessions() as session, session.begin():
                await add_event(session, thing(thing_id=f"y{seq % 3}", seq=seq))

        broker.start()
        records = await read_topic(broker.admin, thing.topic, expected=30, timeout=90)
        consumer = runner_for(sessions, broker, thing, record_effect, unique)
        await consumer.start()
        try:
            await eventually(lambda: equals(effect_count(sessions), 30), timeout=60)
        finally:
            await consumer.stop()
    finally:
        await relay.stop()
        broker.stop()
    assert {r.offset for r in records} and len(records) >= 30
    applied = await effects(sessions)
    assert sorted(seq for _, seq in applied) == list(range(30))
