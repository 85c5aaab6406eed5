"""The outbox relay when a row cannot be published or its database session goes away."""

from __future__ import annotations

import json

import asyncpg
import psycopg
import pytest
from sqlalchemy import text

from edvent_events.admin import ensure_topics
from edvent_events.envelope import decode
from edvent_events.outbox import add_event
from edvent_events.relay import asyncpg_dsn, lock_key
from edvent_localstack.pytest_plugin import eventually, read_topic

from .helpers import equals, relay_for, unsent

pytestmark = pytest.mark.integration


async def _failures(database_url: str, schema: str) -> tuple[int, str | None]:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        row = await conn.fetchrow(
            f"SELECT attempts, last_error FROM {schema}.outbox WHERE attempts > 0"
        )
    finally:
        await conn.close()
    return (row["attempts"], row["last_error"]) if row else (0, None)


async def _attempted(database_url: str, schema: str, times: int) -> bool:
    attempts, _ = await _failures(database_url, schema)
    return attempts >= times


def _seqs_per_key(records) -> dict[str, list[int]]:
    result: dict[str, list[int]] = {}
    for record in records:
        envelope = decode(record.headers, record.value)
        result.setdefault(envelope.subject, []).append(envelope.data.seq)
    return result


async def test_rows_behind_one_that_cannot_be_sent_wait_for_it_and_follow_it_in_order(
    sessions, database_url, events_db, thing, kafka
):
    async with sessions() as session, session.begin():
        for seq in range(12):
            await add_event(session, thing(thing_id=f"w{seq % 2}", seq=seq))
        # Larger than a Kafka request may be: the producer refuses it when handed over.
        await session.execute(
            text(
                "UPDATE outbox SET data = jsonb_set(data, '{pad}', to_jsonb(repeat('x', :n)))"
                " WHERE (data->>'seq')::int = 3"
            ),
            {"n": 2 * 1024 * 1024},
        )
    relay = relay_for(
        database_url, events_db.schema, kafka.bootstrap_servers, batch_size=2, max_backoff=0.5
    )
    relay.start()
    try:
        await eventually(lambda: _attempted(database_url, events_db.schema, 2))
        _, error = await _failures(database_url, events_db.schema)
        assert error is not None and "MessageSizeTooLargeError" in error
        # Only what came before it went out; nothing overtook the stuck row.
        published = await read_topic(kafka.bootstrap_servers, thing.topic, expected=3)
        assert _seqs_per_key(published) == {"w0": [0, 2], "w1": [1]}

        # An operator fixes the row: it and everything behind it follow, in order.
        async with sessions() as session, session.begin():
            await session.execute(text("UPDATE outbox SET data = data - 'pad'"))
        await eventually(lambda: equals(unsent(database_url, events_db.schema), 0))
        published = await read_topic(kafka.bootstrap_servers, thing.topic, expected=12)
    finally:
        await relay.stop()
    assert _seqs_per_key(published) == {"w0": list(range(0, 12, 2)), "w1": list(range(1, 12, 2))}


async def test_a_row_for_a_missing_topic_is_reported_and_goes_out_once_the_topic_exists(
    sessions, database_url, events_db, thing, kafka, unique
):
    missing = unique("missing")
    async with sessions() as session, session.begin():
        await add_event(session, thing(thing_id="m", seq=1))
        await session.execute(text("UPDATE outbox SET topic = :t"), {"t": missing})
        await add_event(session, thing(thing_id="m", seq=2))
    relay = relay_for(database_url, events_db.schema, kafka.bootstrap_servers, max_backoff=0.5)
    relay.start()
    try:
        # The producer waits request_timeout_ms (15 s) for the topic's metadata.
        await eventually(lambda: _attempted(database_url, events_db.schema, 1), timeout=60)
        _, error = await _failures(database_url, events_db.schema)
        assert error is not None and missing in error  # which topic, not just "unknown"
        await ensure_topics(kafka.bootstrap_servers, [missing])
        await eventually(lambda: equals(unsent(database_url, events_db.schema), 0), timeout=60)
        first = await read_topic(kafka.bootstrap_servers, missing, expected=1)
        second = await read_topic(kafka.bootstrap_servers, thing.topic, expected=1)
    finally:
        await relay.stop()
    assert [json.loads(r.value)["seq"] for r in first + second] == [1, 2]


async def test_relay_whose_session_is_terminated_resumes_or_hands_over(
    postgres, sessions, database_url, events_db, thing, kafka
):
    first = relay_for(database_url, events_db.schema, kafka.bootstrap_servers, max_backoff=0.5)
    second = relay_for(database_url, events_db.schema, kafka.bootstrap_servers, max_backoff=0.5)
    first.start()
    await eventually(lambda: first.is_leader)
    second.start()
    try:
        async with sessions() as session, session.begin():
            await add_event(session, thing(thing_id="p", seq=1))
        await read_topic(kafka.bootstrap_servers, thing.topic, expected=1)
        with psycopg.connect(postgres.admin_dsn(), autocommit=True) as admin:
            terminated = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_locks"
                " WHERE locktype = 'advisory' AND granted"
                " AND ((classid::bigint << 32) | objid::bigint) = %s",
                (lock_key(events_db.schema),),
            ).fetchone()
        assert terminated == (1,)
        async with sessions() as session, session.begin():
            await add_event(session, thing(thing_id="p", seq=2))
        await eventually(lambda: equals(unsent(database_url, events_db.schema), 0))
        records = await read_topic(kafka.bootstrap_servers, thing.topic, expected=2)
        await eventually(lambda: first.is_leader != second.is_leader)
    finally:
        await first.stop()
        await second.stop()
    assert [json.loads(r.value)["seq"] for r in records] == [1, 2]


async def test_stopping_the_leader_releases_its_lock(database_url, events_db, kafka):
    relay = relay_for(database_url, events_db.schema, kafka.bootstrap_servers)
    relay.start()
    await eventually(lambda: relay.is_leader)
    await relay.stop()
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        assert await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_key(events_db.schema))
    finally:
        await conn.close()


async def test_a_row_committed_late_below_rows_in_flight_is_still_published(
    postgres, sessions, database_url, events_db, thing, kafka
):
    dsn = postgres.dsn(user=events_db.role, password=events_db.password)
    late = psycopg.connect(dsn)  # takes the lowest id, commits last
    late.execute(
        f"INSERT INTO {events_db.schema}.outbox (event_id, topic, key, ce_type, source,"
        " occurred_at, data) VALUES (gen_random_uuid(), %s, 'late', %s, '/services/tests',"
        """ now(), '{"thing_id": "late", "seq": 0}')""",
        (thing.topic, thing.ce_type),
    )
    relay = relay_for(database_url, events_db.schema, kafka.bootstrap_servers, batch_size=5)
    relay.start()
    try:
        for seq in range(1, 61):
            async with sessions() as session, session.begin():
                await add_event(session, thing(thing_id=f"e{seq % 3}", seq=seq))
            if seq == 30:
                late.commit()
        records = await read_topic(kafka.bootstrap_servers, thing.topic, expected=61)
        await eventually(lambda: equals(unsent(database_url, events_db.schema), 0))
    finally:
        late.close()
        await relay.stop()
    assert sorted(json.loads(r.value)["seq"] for r in records) == list(range(61))


async def test_a_row_committed_late_while_a_batch_settles_does_not_wait_for_the_poll(
    postgres, sessions, database_url, events_db, thing, kafka
):
    dsn = postgres.dsn(user=events_db.role, password=events_db.password)
    schema = events_db.schema
    late = psycopg.connect(dsn)  # takes the lower id, commits last
    late.execute(
        f"INSERT INTO {schema}.outbox (event_id, topic, key, ce_type, source,"
        " occurred_at, data) VALUES (gen_random_uuid(), %s, 'late', %s, '/services/tests',"
        """ now(), '{"thing_id": "late", "seq": 0}')""",
        (thing.topic, thing.ce_type),
    )
    async with sessions() as session, session.begin():
        await add_event(session, thing(thing_id="early", seq=1))
    # Holding the committed row's lock freezes the relay while it marks it sent.
    blocker = psycopg.connect(dsn)
    blocker.execute(f"SELECT id FROM {schema}.outbox FOR UPDATE").fetchall()
    relay = relay_for(database_url, schema, kafka.bootstrap_servers, poll_interval=30.0)
    relay.start()
    try:
        await read_topic(kafka.bootstrap_servers, thing.topic, expected=1)

        async def relay_waits_for_the_lock() -> bool:
            return blocker.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE usename = current_user"
                " AND wait_event_type = 'Lock'"
            ).fetchone() == (1,)

        await eventually(relay_waits_for_the_lock)
        late.commit()  # its NOTIFY arrives while the relay is busy settling
        blocker.rollback()
        # With a 30 s poll interval, only an immediate rescan makes this arrive in time.
        records = await read_topic(kafka.bootstrap_servers, thing.topic, expected=2, timeout=10)
    finally:
        late.close()
        blocker.close()
        await relay.stop()
    assert sorted(json.loads(r.value)["seq"] for r in records) == [0, 1]
