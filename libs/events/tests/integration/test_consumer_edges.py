"""The consumer runner with messages that break the usual assumptions."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from edvent_events.topics import dlq_topic
from edvent_localstack.pytest_plugin import eventually, read_topic

from .helpers import as_message, effects, equals, member, record_effect, runner_for, send

pytestmark = pytest.mark.integration


async def test_deeply_nested_data_is_dead_lettered_and_the_rest_of_the_batch_is_handled(
    sessions, kafka, thing, unique
):
    good = as_message(thing(thing_id="n", seq=2))
    topic, key, _, headers = as_message(thing(thing_id="n", seq=1))
    await send(kafka.admin, [(topic, key, b"[" * 100_000, headers), good])
    runner = runner_for(sessions, kafka, thing, record_effect, unique)
    await runner.start()
    try:
        await eventually(lambda: equals(effects(sessions), [("n", 2)]))
        dead = await read_topic(kafka.admin, dlq_topic(thing.topic, runner.service), expected=1)
    finally:
        await runner.stop()
    assert len(dead) == 1
    # The JSON is parsed once, by pydantic, which reports the nesting as invalid JSON
    # (Python's json module would raise RecursionError; the runner dead-letters both).
    assert dict(dead[0].headers)["x-error"].startswith(b"DecodeError: data does not match")


async def test_event_whose_id_is_not_a_uuid_is_dead_lettered(sessions, kafka, thing, unique):
    await send(
        kafka.admin,
        [
            as_message(thing(thing_id="u", seq=1), event_id="not-a-uuid"),
            as_message(thing(thing_id="u", seq=2)),
        ],
    )
    runner = runner_for(sessions, kafka, thing, record_effect, unique)
    await runner.start()
    try:
        await eventually(lambda: equals(effects(sessions), [("u", 2)]))
        dead = await read_topic(kafka.admin, dlq_topic(thing.topic, runner.service), expected=1)
    finally:
        await runner.stop()
    assert [dict(d.headers)["ce_id"] for d in dead] == [b"not-a-uuid"]


async def test_dead_letter_keeps_key_value_and_headers_even_for_the_largest_message(
    sessions, kafka, thing, unique
):
    topic, key, _, headers = as_message(thing(thing_id="big", seq=1))
    headers = [*headers, ("x-request-id", b"abc-123")]  # the producer's own x- header
    # Nearly as large as a producer may send (max_request_size, 1 MiB by default); the
    # dead letter adds its headers on top.
    overhead = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, b"", headers)
    value = b"x" * (1024 * 1024 - overhead - 64)
    await send(
        kafka.admin,
        [(topic, key, value, headers), as_message(thing(thing_id="big", seq=2))],
    )
    runner = runner_for(sessions, kafka, thing, record_effect, unique)
    await runner.start()
    try:
        await eventually(lambda: equals(effects(sessions), [("big", 2)]))
        dead = await read_topic(kafka.admin, dlq_topic(thing.topic, runner.service), expected=1)
    finally:
        await runner.stop()
    assert len(dead) == 1
    assert dead[0].key == key and dead[0].value == value
    names = [name for name, _ in dead[0].headers]
    assert names[: len(headers)] == [name for name, _ in headers]
    assert list(dead[0].headers)[: len(headers)] == headers
    assert names[len(headers) :] == [
        "x-error",
        "x-failed-at",
        "x-attempts",
        "x-original-topic",
        "x-original-partition",
        "x-original-offset",
    ]
    extra = dict(dead[0].headers)
    assert extra["x-error"].startswith(b"DecodeError")
    assert extra["x-attempts"] == b"1"
    assert extra["x-original-topic"] == topic.encode()


async def test_a_member_leaving_mid_batch_hands_over_without_losing_or_repeating_effects(
    sessions, kafka, thing, unique
):
    await send(
        kafka.admin,
        [as_message(thing(thing_id=f"r{seq % 6}", seq=seq)) for seq in range(60)],
    )
    started = asyncio.Event()

    async def slow(session, envelope) -> None:
        started.set()
        await asyncio.sleep(0.02)
        await record_effect(session, envelope)

    service = unique("svc")
    first = member(sessions, kafka, thing, slow, service=service)
    second = member(sessions, kafka, thing, slow, service=service)
    await first.start()
    await asyncio.wait_for(started.wait(), timeout=30)
    await second.start()  # joins the group: a rebalance while the first is busy
    await asyncio.wait_for(second.connected.wait(), timeout=30)
    await first.stop()  # leaves mid-batch: the second takes over its partitions
    try:
        await eventually(lambda: _count(effects(sessions), 60), timeout=60)
    finally:
        await second.stop()
    applied = await effects(sessions)
    assert sorted(seq for _, seq in applied) == list(range(60))  # each exactly once


async def _count(coro, expected: int) -> bool:
    return len(await coro) >= expected


async def test_a_failure_of_the_loop_itself_does_not_skip_the_rest_of_the_batch(
    sessions, kafka, thing, unique
):
    await send(
        kafka.admin,
        [as_message(thing(thing_id="l", seq=seq)) for seq in (1, 2, 3)],
    )
    runner = runner_for(sessions, kafka, thing, record_effect, unique)
    process = runner._process
    failed = []

    async def fails_once_on_the_second(record) -> bool:
        # A bug in the runner (not in a handler) escapes to the loop, which restarts.
        if b'"seq":2' in record.value and not failed:
            failed.append(record.offset)
            raise RuntimeError("a bug in the loop")
        return await process(record)

    runner._process = fails_once_on_the_second  # type: ignore[method-assign]
    await runner.start()
    try:
        await eventually(lambda: equals(effects(sessions), [("l", 1), ("l", 2), ("l", 3)]))
    finally:
        await runner.stop()
    assert failed


async def test_stop_during_a_long_backoff_returns_at_once_and_leaves_the_message_uncommitted(
    sessions, kafka, thing, unique
):
    failed = asyncio.Event()

    async def fails(session, envelope) -> None:
        failed.set()
        raise ValueError("not yet")

    await send(kafka.admin, [as_message(thing(thing_id="s", seq=1))])
    runner = member(sessions, kafka, thing, fails, service=unique("svc"), initial_backoff=60.0)
    await runner.start()
    await asyncio.wait_for(failed.wait(), timeout=30)
    await asyncio.wait_for(runner.stop(), timeout=15)
    # Neither handled nor dead-lettered: the group's next member gets it again.
    second = member(sessions, kafka, thing, record_effect, service=runner.service)
    await second.start()
    try:
        await eventually(lambda: equals(effects(sessions), [("s", 1)]))
    finally:
        await second.stop()
