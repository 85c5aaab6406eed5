"""Two-step handlers (`Handlers.prepared`): slow work outside the inbox transaction."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from edvent_events.consumer import ConsumerRunner, Handlers
from edvent_events.topics import dlq_topic
from edvent_localstack.pytest_plugin import eventually, read_topic

from .helpers import as_message, effects, equals, record_effect, send

pytestmark = pytest.mark.integration

# Inbox transactions left open: idle in a transaction whose last statement touched the
# inbox. Not every open transaction: the test's own polling of the effects table is one
# for a moment, and counting it made this fail once in CI.
OPEN_TRANSACTIONS = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    " AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
    " AND query ILIKE '%inbox%'"
)


def prepared_runner(sessions, kafka, thing, unique, prepare, **overrides) -> ConsumerRunner:
    handlers = Handlers()
    handlers.prepared(thing)(prepare)
    return ConsumerRunner(
        service=unique("svc"),
        bootstrap_servers=kafka.admin,
        sessions=sessions,
        handlers=handlers,
        **({"initial_backoff": 0.05, "max_backoff": 0.2} | overrides),
    )


async def test_the_slow_half_runs_once_per_event_with_no_transaction_open(
    sessions, kafka, thing, unique
):
    prepared: list[int] = []
    open_during_prepare: list[int] = []

    async def prepare(envelope):
        prepared.append(envelope.data.seq)
        async with sessions() as probe:
            open_during_prepare.append(await probe.scalar(OPEN_TRANSACTIONS))

        async def apply(session):
            await record_effect(session, envelope)

        return apply

    duplicate_id = str(uuid.uuid4())
    runner = prepared_runner(sessions, kafka, thing, unique, prepare)
    await runner.start()
    try:
        await send(
            kafka.admin,
            [as_message(thing(thing_id="a", seq=1), event_id=duplicate_id)],
        )
        await eventually(lambda: equals(effects(sessions), [("a", 1)]))
        # The same event again (a redelivery): the slow half is not run again.
        await send(
            kafka.admin,
            [
                as_message(thing(thing_id="a", seq=1), event_id=duplicate_id),
                as_message(thing(thing_id="a", seq=2)),
            ],
        )
        await eventually(lambda: equals(effects(sessions), [("a", 1), ("a", 2)]))
    finally:
        await runner.stop()
    assert prepared == [1, 2]
    assert open_during_prepare == [0, 0]


async def test_a_slow_half_that_keeps_failing_is_retried_then_dead_lettered(
    sessions, kafka, thing, unique
):
    calls: list[int] = []

    async def prepare(envelope):
        calls.append(envelope.data.seq)
        raise RuntimeError("the model is down")

    runner = prepared_runner(sessions, kafka, thing, unique, prepare, max_attempts=3)
    await runner.start()
    try:
        await send(kafka.admin, [as_message(thing(thing_id="b", seq=1))])
        dead = await read_topic(kafka.admin, dlq_topic(thing.topic, runner.service), expected=1)
    finally:
        await runner.stop()
    assert calls == [1, 1, 1]
    headers = dict(dead[0].headers)
    assert headers["x-attempts"] == b"3"
    assert b"the model is down" in headers["x-error"]
    assert await effects(sessions) == []
