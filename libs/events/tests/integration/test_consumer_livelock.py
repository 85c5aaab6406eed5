"""A slow or hanging handler cannot make the consumer go round in circles."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY

from edvent_events.topics import dlq_topic
from edvent_localstack.pytest_plugin import eventually, read_topic

from .helpers import (
    as_message,
    committed_offsets,
    crash,
    effects,
    member,
    record_effect,
    send,
)

pytestmark = pytest.mark.integration


def outcome_count(service: str, ce_type: str, outcome: str) -> float:
    labels = {"service": service, "type": ce_type, "outcome": outcome}
    return REGISTRY.get_sample_value("events_handled_total", labels) or 0.0


async def test_a_hanging_message_is_dead_lettered_once_even_when_fetched_again(
    sessions, kafka, thing, unique
):
    next_one_started = asyncio.Event()
    first_member = True

    async def handler(session, envelope) -> None:
        seq = envelope.data.seq
        if seq == 1:
            await asyncio.sleep(600)  # hangs past the timeout, every time
        if seq == 2 and first_member:
            next_one_started.set()
            await asyncio.sleep(600)  # the member dies while this one is in flight
        await record_effect(session, envelope)

    # 1 and 2 share a key, so a partition; the rest spread over all partitions.
    await send(
        kafka.admin,
        [as_message(thing(thing_id="k", seq=s)) for s in (1, 2)]
        + [as_message(thing(thing_id=f"o{s}", seq=s)) for s in range(3, 12)],
    )
    service = unique("svc")
    settings = {"max_attempts": 2, "handler_timeout": 1.0, "commit_interval": 3600}
    first = member(sessions, kafka, thing, handler, service=service, **settings)
    await first.start()
    # Others keep arriving while the first one hangs.
    await send(
        kafka.admin,
        [as_message(thing(thing_id=f"o{s}", seq=s)) for s in range(12, 20)],
    )
    await asyncio.wait_for(next_one_started.wait(), timeout=60)
    # Dead-lettered, offset not committed yet (commit_interval): the member dies, and
    # its successor fetches the hanging message again.
    await crash(first)
    first_member = False
    second = member(sessions, kafka, thing, handler, service=service, **settings)
    await second.start()
    try:
        await eventually(
            lambda: _seqs_applied(sessions, set(range(2, 20))), timeout=60
        )  # the partition moved on past the hanging message
    finally:
        await second.stop()
    dead = await read_topic(kafka.admin, dlq_topic(thing.topic, service), expected=1)
    assert [dict(d.headers)["x-attempts"] for d in dead] == [b"2"]
    assert dict(dead[0].headers)["x-error"].startswith(b"HandlerTimeoutError")
    assert outcome_count(service, thing.ce_type, "already_dead_lettered") == 1
    assert sorted(seq for _, seq in await effects(sessions)) == list(range(2, 20))


async def _seqs_applied(sessions, expected: set[int]) -> bool:
    return {seq for _, seq in await effects(sessions)} >= expected


async def test_settled_offsets_are_committed_when_partitions_are_revoked(
    sessions, kafka, thing, unique
):
    release = asyncio.Event()
    blocked = asyncio.Event()

    async def handler(session, envelope) -> None:
        if envelope.data.seq == 10:
            blocked.set()
            await release.wait()
        await record_effect(session, envelope)

    await send(kafka.admin, [as_message(thing(thing_id="r", seq=s)) for s in range(11)])
    service = unique("svc")
    # Without a rebalance nothing would be committed while the eleventh is in flight.
    first = member(
        sessions, kafka, thing, handler, service=service, commit_interval=3600, commit_batch=1000
    )
    await first.start()
    await asyncio.wait_for(blocked.wait(), timeout=60)
    assert await committed_offsets(kafka.admin, service) == {}
    second = member(sessions, kafka, thing, record_effect, service=service)
    await second.start()  # joins: the group rebalances, the first gives its partitions up
    try:

        async def ten_committed() -> bool:
            offsets = await committed_offsets(kafka.admin, service)
            return 10 in offsets.values()

        await eventually(ten_committed, timeout=60)
    finally:
        release.set()
        await first.stop()
        await second.stop()
    assert sorted(seq for _, seq in await effects(sessions)) == list(range(11))


async def test_stop_finishes_the_handler_in_flight_and_commits_everything_settled(
    sessions, kafka, thing, unique
):
    in_flight = asyncio.Event()

    async def handler(session, envelope) -> None:
        if envelope.data.seq == 4:
            in_flight.set()
            await asyncio.sleep(0.5)
        await record_effect(session, envelope)

    await send(kafka.admin, [as_message(thing(thing_id="s", seq=s)) for s in range(5)])
    service = unique("svc")
    runner = member(sessions, kafka, thing, handler, service=service, commit_interval=3600)
    await runner.start()
    await asyncio.wait_for(in_flight.wait(), timeout=60)
    assert await committed_offsets(kafka.admin, service) == {}
    await runner.stop()
    assert sorted(seq for _, seq in await effects(sessions)) == list(range(5))
    assert list((await committed_offsets(kafka.admin, service)).values()) == [5]
