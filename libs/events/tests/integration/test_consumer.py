"""The consumer runner against the real PostgreSQL and Kafka."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text

from edvent_events.envelope import encode
from edvent_events.topics import dlq_topic
from edvent_localstack.pytest_plugin import eventually, read_topic

from .helpers import as_message, effects, equals, member, record_effect, runner_for, send

pytestmark = pytest.mark.integration


async def test_each_event_is_applied_exactly_once_even_when_redelivered(
    sessions, kafka, thing, unique
):
    duplicate_id = str(uuid.uuid4())
    await send(
        kafka.admin,
        [
            as_message(thing(thing_id="a", seq=1), event_id=duplicate_id),
            as_message(thing(thing_id="a", seq=1), event_id=duplicate_id),
            as_message(thing(thing_id="a", seq=2)),
        ],
    )
    runner = runner_for(sessions, kafka, thing, record_effect, unique)
    await runner.start()
    try:
        await eventually(lambda: equals(effects(sessions), [("a", 1), ("a", 2)]))
    finally:
        await runner.stop()
    # A second runner in the same group starts after the committed offsets: nothing new.
    again = member(sessions, kafka, thing, record_effect, service=runner.service)
    await again.start()
    try:
        await send(kafka.admin, [as_message(thing(thing_id="a", seq=3))])
        await eventually(lambda: equals(effects(sessions), [("a", 1), ("a", 2), ("a", 3)]))
    finally:
        await again.stop()


async def test_poison_message_goes_to_the_dead_letter_topic_and_the_next_is_handled(
    sessions, kafka, thing, unique
):
    good = encode(thing(thing_id="b", seq=2))
    bad_headers = [(k, v) for k, v in good.headers if k != "ce_type"] + [
        ("ce_type", thing.ce_type.encode())
    ]
    await send(
        kafka.admin,
        [
            (thing.topic, b"b", b"{not json", bad_headers),
            (thing.topic, b"b", b"{}", [("content-type", b"application/json")]),
            (thing.topic, good.key, good.value, good.headers),
        ],
    )
    runner = runner_for(sessions, kafka, thing, record_effect, unique)
    await runner.start()
    try:
        await eventually(lambda: equals(effects(sessions), [("b", 2)]))
        dead = await read_topic(kafka.admin, dlq_topic(thing.topic, runner.service), expected=2)
    finally:
        await runner.stop()
    assert [d.value for d in dead] == [b"{not json", b"{}"]
    headers = dict(dead[0].headers)
    assert b"data does not match" in headers["x-error"]
    assert headers["x-attempts"] == b"1"
    assert headers["x-failed-at"].endswith(b"Z")
    assert headers["ce_type"] == thing.ce_type.encode()  # the original headers travel along
    assert b"missing header" in dict(dead[1].headers)["x-error"]


async def test_unknown_event_type_is_skipped_and_counted_not_dead_lettered(
    sessions, kafka, thing, unique, caplog
):
    # A newer producer added a type to the topic: readers skip it (CONTRACT.md).
    caplog.set_level(logging.WARNING, logger="edvent.events.consumer")
    message = encode(thing(thing_id="c", seq=1))
    headers = [(k, b"edvent.nobody.knows.v1" if k == "ce_type" else v) for k, v in message.headers]
    await send(
        kafka.admin,
        [
            (thing.topic, message.key, message.value, headers),
            (thing.topic, message.key, message.value, headers),
            as_message(thing(thing_id="c", seq=2)),
        ],
    )
    runner = runner_for(sessions, kafka, thing, record_effect, unique)
    await runner.start()
    try:
        await eventually(lambda: equals(effects(sessions), [("c", 2)]))
        dead = await read_topic(kafka.admin, dlq_topic(thing.topic, runner.service), expected=0)
    finally:
        await runner.stop()
    assert dead == []
    skipped = REGISTRY.get_sample_value(
        "events_handled_total",
        {"service": runner.service, "type": "edvent.nobody.knows.v1", "outcome": "unknown_type"},
    )
    assert skipped == 2
    logged = [r.getMessage() for r in caplog.records if "edvent.nobody.knows.v1" in r.getMessage()]
    assert len(logged) == 1 and "skips events of unknown type" in logged[0]


async def test_failing_handler_is_retried_then_dead_lettered_and_consumption_goes_on(
    sessions, kafka, thing, unique
):
    calls: dict[int, int] = {}

    async def flaky(session, envelope) -> None:
        seq = envelope.data.seq
        calls[seq] = calls.get(seq, 0) + 1
        await record_effect(session, envelope)
        if seq == 1:
            raise ValueError("this one never works")
        if seq == 2 and calls[seq] < 3:
            raise ValueError("works on the third try")

    await send(
        kafka.admin,
        [as_message(thing(thing_id="d", seq=s)) for s in (1, 2, 3)],
    )
    runner = runner_for(sessions, kafka, thing, flaky, unique, max_attempts=4)
    await runner.start()
    try:
        await eventually(lambda: equals(effects(sessions), [("d", 2), ("d", 3)]))
        dead = await read_topic(kafka.admin, dlq_topic(thing.topic, runner.service), expected=1)
    finally:
        await runner.stop()
    # The failed attempts rolled back their writes: only successful handling left effects.
    assert calls == {1: 4, 2: 3, 3: 1}
    assert len(dead) == 1
    headers = dict(dead[0].headers)
    assert headers["x-attempts"] == b"4"
    assert headers["x-error"] == b"ValueError: this one never works"


async def test_stop_lets_the_handler_in_flight_finish_and_commits_it(
    sessions, kafka, thing, unique
):
    started = asyncio.Event()

    async def slow(session, envelope) -> None:
        started.set()
        await asyncio.sleep(0.5)
        await record_effect(session, envelope)

    await send(kafka.admin, [as_message(thing(thing_id="e", seq=1))])
    runner = runner_for(sessions, kafka, thing, slow, unique)
    await runner.start()
    await asyncio.wait_for(started.wait(), timeout=30)
    await runner.stop()
    assert await effects(sessions) == [("e", 1)]
    # Its offset was committed: a new member of the group does not see it again.
    handled_again = asyncio.Event()

    async def watch(session, envelope) -> None:
        handled_again.set()

    second = member(sessions, kafka, thing, watch, service=runner.service)
    await second.start()
    try:
        await send(kafka.admin, [as_message(thing(thing_id="e", seq=2))])
        await asyncio.wait_for(handled_again.wait(), timeout=30)
        async with sessions() as session:
            inbox = (await session.execute(text("SELECT count(*) FROM inbox"))).scalar_one()
        assert inbox == 2
    finally:
        await second.stop()


async def test_dead_letter_topics_are_created_for_the_service(kafka, sessions, thing, unique):
    runner = runner_for(sessions, kafka, thing, record_effect, unique)
    await runner.start()
    try:
        await asyncio.wait_for(runner.connected.wait(), timeout=30)
    finally:
        await runner.stop()
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(**kafka.client_kwargs())
    await admin.start()
    try:
        assert dlq_topic(thing.topic, runner.service) in await admin.list_topics()
    finally:
        await admin.close()


async def test_a_handler_that_hangs_times_out_counts_as_attempts_and_is_dead_lettered(
    sessions, kafka, thing, unique
):
    async def hangs(session, envelope) -> None:
        if envelope.data.seq == 1:
            await asyncio.Event().wait()
        await record_effect(session, envelope)

    await send(kafka.admin, [as_message(thing(thing_id="h", seq=s)) for s in (1, 2)])
    runner = runner_for(sessions, kafka, thing, hangs, unique, max_attempts=2, handler_timeout=0.3)
    await runner.start()
    try:
        await eventually(lambda: equals(effects(sessions), [("h", 2)]))
        dead = await read_topic(kafka.admin, dlq_topic(thing.topic, runner.service), expected=1)
    finally:
        await runner.stop()
    headers = dict(dead[0].headers)
    assert headers["x-attempts"] == b"2"
    assert headers["x-error"].startswith(b"HandlerTimeoutError")


async def test_stop_cancels_a_handler_that_outlives_the_grace_period(
    sessions, kafka, thing, unique
):
    started = asyncio.Event()

    async def stuck(session, envelope) -> None:
        started.set()
        await asyncio.Event().wait()

    await send(kafka.admin, [as_message(thing(thing_id="s", seq=1))])
    runner = runner_for(sessions, kafka, thing, stuck, unique, handler_timeout=600, stop_grace=0.5)
    await runner.start()
    await asyncio.wait_for(started.wait(), timeout=30)
    await asyncio.wait_for(runner.stop(), timeout=10)
    assert await effects(sessions) == []
