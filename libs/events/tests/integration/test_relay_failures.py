"""The outbox relay when a row cannot be published or its database session goes away."""

from __future__ import annotations

import asyncio
import json
import time

import psycopg
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text

from edvent_events.admin import ensure_topics
from edvent_events.envelope import decode
from edvent_events.outbox import add_event
from edvent_events.relay import lock_key
from edvent_localstack.pytest_plugin import eventually, read_topic

from .helpers import equals, fetch_all, relay_for, run_cli, unsent

pytestmark = pytest.mark.integration


async def _failures(database_url: str, schema: str) -> tuple[int, str | None]:
    rows = await fetch_all(
        database_url, f"SELECT attempts, last_error FROM {schema}.outbox WHERE attempts > 0"
    )
    return (rows[0][0], rows[0][1]) if rows else (0, None)


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
    relay = relay_for(database_url, events_db.schema, kafka.admin, batch_size=2, max_backoff=0.5)
    relay.start()
    try:
        await eventually(lambda: _attempted(database_url, events_db.schema, 2))
        _, error = await _failures(database_url, events_db.schema)
        assert error is not None and "MessageSizeTooLargeError" in error
        # Only what came before it went out; nothing overtook the stuck row.
        published = await read_topic(kafka.admin, thing.topic, expected=3)
        assert _seqs_per_key(published) == {"w0": [0, 2], "w1": [1]}

        # An operator fixes the row: it and everything behind it follow, in order.
        async with sessions() as session, session.begin():
            await session.execute(text("UPDATE outbox SET data = data - 'pad'"))
        await eventually(lambda: equals(unsent(database_url, events_db.schema), 0))
        published = await read_topic(kafka.admin, thing.topic, expected=12)
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
    relay = relay_for(database_url, events_db.schema, kafka.admin, max_backoff=0.5)
    relay.start()
    try:
        # The producer waits request_timeout_ms (15 s) for the topic's metadata.
        await eventually(lambda: _attempted(database_url, events_db.schema, 1), timeout=60)
        _, error = await _failures(database_url, events_db.schema)
        assert error is not None and missing in error  # which topic, not just "unknown"
        await ensure_topics(kafka.admin, [missing])
        await eventually(lambda: equals(unsent(database_url, events_db.schema), 0), timeout=60)
        first = await read_topic(kafka.admin, missing, expected=1)
        second = await read_topic(kafka.admin, thing.topic, expected=1)
    finally:
        await relay.stop()
    assert [json.loads(r.value)["seq"] for r in first + second] == [1, 2]


async def test_relay_whose_session_is_terminated_resumes_or_hands_over(
    postgres, sessions, database_url, events_db, thing, kafka
):
    first = relay_for(database_url, events_db.schema, kafka.admin, max_backoff=0.5)
    second = relay_for(database_url, events_db.schema, kafka.admin, max_backoff=0.5)
    first.start()
    await eventually(lambda: first.is_leader)
    second.start()
    try:
        async with sessions() as session, session.begin():
            await add_event(session, thing(thing_id="p", seq=1))
        await read_topic(kafka.admin, thing.topic, expected=1)
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
        records = await read_topic(kafka.admin, thing.topic, expected=2)
        await eventually(lambda: first.is_leader != second.is_leader)
    finally:
        await first.stop()
        await second.stop()
    assert [json.loads(r.value)["seq"] for r in records] == [1, 2]


async def test_stopping_the_leader_releases_its_lock(database_url, events_db, kafka):
    relay = relay_for(database_url, events_db.schema, kafka.admin)
    relay.start()
    await eventually(lambda: relay.is_leader)
    await relay.stop()
    rows = await fetch_all(
        database_url, "SELECT pg_try_advisory_lock(%s)", (lock_key(events_db.schema),)
    )
    assert rows == [(True,)]


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
    relay = relay_for(database_url, events_db.schema, kafka.admin, batch_size=5)
    relay.start()
    try:
        for seq in range(1, 61):
            async with sessions() as session, session.begin():
                await add_event(session, thing(thing_id=f"e{seq % 3}", seq=seq))
            if seq == 30:
                late.commit()
        records = await read_topic(kafka.admin, thing.topic, expected=61)
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
    relay = relay_for(database_url, schema, kafka.admin, poll_interval=30.0)
    relay.start()
    try:
        await read_topic(kafka.admin, thing.topic, expected=1)

        async def relay_waits_for_the_lock() -> bool:
            return blocker.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE usename = current_user"
                " AND wait_event_type = 'Lock'"
            ).fetchone() == (1,)

        await eventually(relay_waits_for_the_lock)
        late.commit()  # its NOTIFY arrives while the relay is busy settling
        blocker.rollback()
        # With a 30 s poll interval, only an immediate rescan makes this arrive in time.
        records = await read_topic(kafka.admin, thing.topic, expected=2, timeout=10)
    finally:
        late.close()
        blocker.close()
        await relay.stop()
    assert sorted(json.loads(r.value)["seq"] for r in records) == [0, 1]


async def test_a_row_the_broker_refuses_holds_back_its_partition_until_an_operator_parks_it(
    sessions, database_url, events_db, thing, kafka, unique
):
    schema = events_db.schema
    topic = unique("small")
    await ensure_topics(kafka.admin, [topic], partitions=1, configs={"max.message.bytes": "65536"})
    async with sessions() as session, session.begin():
        for seq in range(12):
            await add_event(session, thing(thing_id=f"s{seq % 2}", seq=seq))
        await session.execute(text("UPDATE outbox SET topic = :t"), {"t": topic})
        # Within the producer's limit, beyond the topic's: only the broker refuses it,
        # while the batches behind it are already in flight.
        await session.execute(
            text(
                "UPDATE outbox SET data = jsonb_set(data, '{pad}', to_jsonb(repeat('x', :n))),"
                " created_at = now() - interval '1 hour' WHERE (data->>'seq')::int = 3"
            ),
            {"n": 300 * 1024},
        )
    outbox_cli = ("outbox", "--database-url", database_url, "--schema", schema)
    relay = relay_for(database_url, schema, kafka.admin, batch_size=2, max_backoff=0.5)
    relay.start()
    try:
        await eventually(lambda: _attempted(database_url, schema, 2))
        _, error = await _failures(database_url, schema)
        assert error is not None and "MessageSizeTooLargeError" in error
        # Nothing behind the refused row went out: per-key order holds.
        published = await read_topic(kafka.admin, topic, expected=3)
        assert _seqs_per_key(published) == {"s0": [0, 2], "s1": [1]}

        # The stuck row is visible: its age as a metric, the row in `outbox`.
        def oldest_unsent_age() -> float:
            value = REGISTRY.get_sample_value(
                "outbox_oldest_unsent_age_seconds", {"schema": schema}
            )
            return value or 0.0

        await eventually(lambda: oldest_unsent_age() >= 3600)
        summary, stuck, *_ = await run_cli(kafka, *outbox_cli)
        assert (summary["waiting"], summary["parked"]) == (9, 0)
        assert stuck["attempts"] >= 2 and "MessageSizeTooLargeError" in stuck["last_error"]

        parked = await run_cli(
            kafka, "outbox", "park", str(stuck["id"]), "--reason", "too large for the topic",
            "--database-url", database_url, "--schema", schema,
        )  # fmt: skip
        assert parked[0]["id"] == stuck["id"] and parked[0]["parked"]
        await eventually(lambda: equals(unsent(database_url, schema), 0))
        published = await read_topic(kafka.admin, topic, expected=11)
        assert _seqs_per_key(published) == {"s0": [0, 2, 4, 6, 8, 10], "s1": [1, 5, 7, 9, 11]}
        await eventually(lambda: oldest_unsent_age() == 0)
        summary, parked_row = await run_cli(kafka, *outbox_cli)
        assert (summary["waiting"], summary["parked"]) == (0, 1)
        assert parked_row["id"] == stuck["id"]
        assert parked_row["parked_reason"] == "too large for the topic"

        # Fixed and unparked, it goes out after the rows that overtook it meanwhile.
        async with sessions() as session, session.begin():
            await session.execute(text("UPDATE outbox SET data = data - 'pad'"))
        await run_cli(
            kafka, "outbox", "--database-url", database_url, "--schema", schema,
            "unpark", str(stuck["id"]),
        )  # fmt: skip
        published = await read_topic(kafka.admin, topic, expected=12)
        assert _seqs_per_key(published)["s1"] == [1, 5, 7, 9, 11, 3]
        await eventually(lambda: equals(unsent(database_url, schema), 0))
    finally:
        await relay.stop()


async def test_a_statement_stuck_past_the_command_timeout_is_given_up_and_retried(
    postgres, sessions, database_url, events_db, thing, kafka, caplog
):
    dsn = postgres.dsn(user=events_db.role, password=events_db.password)
    async with sessions() as session, session.begin():
        await add_event(session, thing(thing_id="stuck", seq=1))
    # Holding the row's lock makes the relay's "mark sent" wait.
    blocker = psycopg.connect(dsn)
    blocker.execute(f"SELECT id FROM {events_db.schema}.outbox FOR UPDATE").fetchall()
    relay = relay_for(
        database_url, events_db.schema, kafka.admin, command_timeout=1.0,
        max_backoff=0.5,
    )  # fmt: skip
    relay.start()
    try:
        # Not frozen: it gives the statement up, reconnects and publishes the row again.
        records = await read_topic(kafka.admin, thing.topic, expected=2, timeout=20)
        assert len(records) >= 2
        assert "statement timeout" in caplog.text
        blocker.rollback()
        await eventually(lambda: equals(unsent(database_url, events_db.schema), 0))
    finally:
        blocker.close()
        await relay.stop()


async def test_stop_is_bounded_even_while_the_relay_is_stuck(
    postgres, sessions, database_url, events_db, thing, kafka
):
    dsn = postgres.dsn(user=events_db.role, password=events_db.password)
    async with sessions() as session, session.begin():
        await add_event(session, thing(thing_id="stuck", seq=1))
    blocker = psycopg.connect(dsn, autocommit=False)
    blocker.execute(f"SELECT id FROM {events_db.schema}.outbox FOR UPDATE").fetchall()
    relay = relay_for(
        database_url, events_db.schema, kafka.admin, command_timeout=120,
        stop_timeout=1.0,
    )  # fmt: skip
    relay.start()
    try:
        await read_topic(kafka.admin, thing.topic, expected=1)

        async def relay_waits_for_the_lock() -> bool:
            rows = await fetch_all(
                database_url,
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND application_name = %s",
                (f"edvent-relay-{events_db.schema}",),
            )
            return rows == [(1,)]

        await eventually(relay_waits_for_the_lock)
        started = time.monotonic()
        await asyncio.wait_for(relay.stop(), timeout=15)
        assert time.monotonic() - started < 8  # stop_timeout, then a bounded cancel
        assert not relay.is_leader
        # Its session is gone with its advisory lock: a standby can take over.
        rows = await fetch_all(
            database_url, "SELECT pg_try_advisory_lock(%s)", (lock_key(events_db.schema),)
        )
        assert rows == [(True,)]
    finally:
        blocker.rollback()
        blocker.close()
        await relay.stop()
