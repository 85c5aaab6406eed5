"""The outbox relay against the real PostgreSQL and Kafka."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from edvent_events.envelope import decode
from edvent_events.outbox import add_event
from edvent_events.tracing import continued
from edvent_localstack.pytest_plugin import eventually, read_topic

from .helpers import equals, relay_for, unsent

pytestmark = pytest.mark.integration


async def test_committed_events_are_published_in_order_and_marked_sent(
    sessions, database_url, events_db, thing, kafka
):
    async with sessions() as session, session.begin():
        for seq in range(30):
            await add_event(session, thing(thing_id=f"t{seq % 3}", seq=seq))
    relay = relay_for(database_url, events_db.schema, kafka.admin)
    relay.start()
    try:
        records = await read_topic(kafka.admin, thing.topic, expected=30)
        await eventually(lambda: equals(unsent(database_url, events_db.schema), 0))
    finally:
        await relay.stop()
    assert len(records) == 30
    events = [decode(r.headers, r.value) for r in records]
    for key in ("t0", "t1", "t2"):
        seqs = [e.data.seq for e in events if e.subject == key]
        assert seqs == sorted(seqs) and len(seqs) == 10
    assert all(r.key == e.subject.encode() for r, e in zip(records, events, strict=True))


async def test_rolled_back_events_are_never_published(
    sessions, database_url, events_db, thing, kafka
):
    async def change_that_fails() -> None:
        async with sessions() as session, session.begin():
            await add_event(session, thing(thing_id="ghost", seq=1))
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await change_that_fails()
    async with sessions() as session, session.begin():
        await add_event(session, thing(thing_id="real", seq=2))
    relay = relay_for(database_url, events_db.schema, kafka.admin)
    relay.start()
    try:
        records = await read_topic(kafka.admin, thing.topic, expected=1)
    finally:
        await relay.stop()
    assert [json.loads(r.value)["thing_id"] for r in records] == ["real"]


async def test_notify_wakes_the_relay_well_before_the_poll_interval(
    sessions, database_url, events_db, thing, kafka
):
    relay = relay_for(database_url, events_db.schema, kafka.admin, poll_interval=30.0)
    relay.start()
    try:
        await eventually(lambda: relay.is_leader)
        async with sessions() as session, session.begin():
            await add_event(session, thing(thing_id="fast", seq=1))
        # With a 30 s poll interval, only LISTEN/NOTIFY can make this arrive in time.
        records = await read_topic(kafka.admin, thing.topic, expected=1, timeout=10)
    finally:
        await relay.stop()
    assert len(records) == 1


async def test_only_one_of_two_relays_publishes_and_order_per_key_holds(
    sessions, database_url, events_db, thing, kafka
):
    first = relay_for(database_url, events_db.schema, kafka.admin)
    second = relay_for(database_url, events_db.schema, kafka.admin)
    first.start()
    await eventually(lambda: first.is_leader)
    second.start()
    try:
        for seq in range(100):
            async with sessions() as session, session.begin():
                await add_event(session, thing(thing_id=f"k{seq % 4}", seq=seq))
        records = await read_topic(kafka.admin, thing.topic, expected=100)
        assert first.is_leader and not second.is_leader
        # The leader goes away: the standby takes over and publishes what follows.
        await first.stop()
        await eventually(lambda: second.is_leader)
        async with sessions() as session, session.begin():
            await add_event(session, thing(thing_id="k0", seq=100))
        records = await read_topic(kafka.admin, thing.topic, expected=101)
    finally:
        await first.stop()
        await second.stop()
    events = [decode(r.headers, r.value) for r in records]
    assert len(events) == 101
    for key in ("k0", "k1", "k2", "k3"):
        seqs = [e.data.seq for e in events if e.subject == key]
        assert seqs == sorted(seqs)


async def test_sent_rows_and_old_inbox_entries_are_pruned_after_their_retention(
    sessions, database_url, events_db, thing, kafka
):
    async with sessions() as session, session.begin():
        await add_event(session, thing(thing_id="old", seq=1))
    relay = relay_for(database_url, events_db.schema, kafka.admin)
    relay.start()
    await eventually(lambda: equals(unsent(database_url, events_db.schema), 0))
    await relay.stop()
    async with sessions() as session, session.begin():
        await session.execute(text("UPDATE outbox SET sent_at = now() - interval '8 days'"))
        await session.execute(
            text(
                'INSERT INTO inbox (event_id, ce_type, topic, partition, "offset", handled_at)'
                " VALUES (gen_random_uuid(), 't', 't', 0, 1, now() - interval '31 days'),"
                " (gen_random_uuid(), 't', 't', 0, 2, now())"
            )
        )
        await add_event(session, thing(thing_id="new", seq=2))
    relay = relay_for(database_url, events_db.schema, kafka.admin, retention=timedelta(days=7))
    relay.start()
    try:
        await eventually(lambda: equals(unsent(database_url, events_db.schema), 0))
        # The job runner's work (edvent_platform.app registers it as "outbox-prune").
        assert await relay.prune() == 2
        async with sessions() as session:
            keys = (await session.execute(text("SELECT key FROM outbox"))).scalars().all()
            offsets = (await session.execute(text('SELECT "offset" FROM inbox'))).scalars().all()
        assert list(keys) == ["new"]
        assert list(offsets) == [2]
        assert await relay.prune() == 0
    finally:
        await relay.stop()


async def test_stop_finishes_quickly_while_idle(database_url, events_db, kafka):
    relay = relay_for(database_url, events_db.schema, kafka.admin, poll_interval=60)
    relay.start()
    await eventually(lambda: relay.is_leader)
    await asyncio.wait_for(relay.stop(), timeout=5)
    assert not relay.is_leader


async def test_the_trace_of_the_work_that_wrote_an_event_travels_with_it(
    sessions, database_url, events_db, thing, kafka
):
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    with continued(traceparent):
        async with sessions() as session, session.begin():
            await add_event(session, thing(thing_id="traced", seq=1))
    relay = relay_for(database_url, events_db.schema, kafka.admin)
    relay.start()
    try:
        records = await read_topic(kafka.admin, thing.topic, expected=1)
    finally:
        await relay.stop()
    assert decode(records[0].headers, records[0].value).traceparent == traceparent


async def test_pruning_catches_up_in_batches_on_outbox_inbox_and_dead_letters(
    sessions, database_url, events_db, thing, kafka
):
    behind = 12_000  # more than one round of the old fixed 10,000-row prune
    async with sessions() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO outbox (event_id, topic, key, ce_type, source, occurred_at, data,"
                " sent_at) SELECT gen_random_uuid(), 't', 'k', 't', '/s', now(), '{}',"
                " now() - interval '8 days' FROM generate_series(1, :n)"
            ),
            {"n": behind},
        )
        await session.execute(
            text(
                'INSERT INTO inbox (event_id, ce_type, topic, partition, "offset", handled_at)'
                " SELECT gen_random_uuid(), 't', 't', 0, i, now() - interval '31 days'"
                " FROM generate_series(1, :n) AS i"
            ),
            {"n": behind},
        )
        await session.execute(
            text(
                'INSERT INTO dead_letters (topic, partition, "offset", error, attempts,'
                " dead_lettered_at) SELECT 't', 0, i, 'boom', 5, now() - interval '31 days'"
                " FROM generate_series(1, :n) AS i"
            ),
            {"n": behind},
        )
        await session.execute(
            text(
                'INSERT INTO dead_letters (topic, partition, "offset", error, attempts)'
                " VALUES ('t', 1, 1, 'recent', 5)"
            )
        )
    relay = relay_for(database_url, events_db.schema, kafka.admin, prune_batch_size=1000)
    relay.start()
    try:
        # Publishing goes on while the backlog is pruned (on a connection of its own).
        pruning = asyncio.create_task(relay.prune())
        async with sessions() as session, session.begin():
            await add_event(session, thing(thing_id="new", seq=1))
        assert len(await read_topic(kafka.admin, thing.topic, expected=1)) == 1
        # One run catches up by itself, batch after batch.
        assert await pruning == 3 * behind

        async with sessions() as session:
            left = [
                (await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
                for table in ("outbox", "inbox", "dead_letters")
            ]
        assert left == [1, 0, 1]
    finally:
        await relay.stop()
