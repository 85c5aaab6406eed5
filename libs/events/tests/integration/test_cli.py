"""`edvent-events`, the operator tools, run as a command against the real broker."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from edvent_events.outbox import add_event
from edvent_events.topics import dlq_topic, retry_topic
from edvent_localstack.pytest_plugin import eventually, read_topic

from .helpers import (
    as_message,
    effect_count,
    effects,
    equals,
    member,
    record_effect,
    run_cli,
    runner_for,
    send,
)

pytestmark = pytest.mark.integration


async def test_tail_prints_decoded_events_and_flags_undecodable_ones(kafka, thing):
    await send(
        kafka.admin,
        [
            as_message(thing(thing_id="t", seq=1)),
            (thing.topic, b"t", b"garbage", []),
        ],
    )
    lines = await run_cli(kafka, "tail", thing.topic, "--from-beginning")
    assert lines[0]["type"] == thing.ce_type
    assert lines[0]["data"] == {"thing_id": "t", "seq": 1}
    assert lines[0]["subject"] == "t"
    assert "missing header" in lines[1]["problem"]
    assert lines[1]["raw"] == "garbage"


async def test_tail_validates_known_event_types(kafka):
    from edvent_events.samples import user_registered

    event = user_registered(user_id=uuid.uuid4())
    topic = event.topic
    await send(kafka.admin, [as_message(event)])
    lines = await run_cli(kafka, "tail", topic, "--from-beginning")
    mine = [line for line in lines if line["subject"] == str(event.user_id)]
    assert mine[-1]["data"] == event.model_dump(mode="json")
    assert "problem" not in mine[-1]


async def test_tail_decrypts_personal_fields_while_the_users_key_exists(kafka):
    from edvent_events import pii
    from edvent_events.samples import user_registered

    user_id, key = uuid.uuid4(), pii.new_key()
    event = user_registered(
        user_id=user_id,
        email=pii.encrypt("ada@example.com", key=key, user_id=user_id),
        full_name=pii.encrypt("Ada", key=key, user_id=user_id),
    )
    key_message = pii.key_message(user_id=user_id, key=key)
    subject = str(user_id).encode()
    await send(
        kafka.admin,
        [
            (key_message.topic, subject, key_message.model_dump_json().encode(), []),
            as_message(event),
        ],
    )

    async def tail_mine() -> dict:
        lines = await run_cli(kafka, "tail", event.topic, "--from-beginning", "--decrypt")
        return [line for line in lines if line["subject"] == str(user_id)][-1]

    opened = await tail_mine()
    assert (opened["data"]["email"], opened["data"]["full_name"]) == ("ada@example.com", "Ada")
    plain = await run_cli(kafka, "tail", event.topic, "--from-beginning")
    assert [line for line in plain if line["subject"] == str(user_id)][-1]["data"] == (
        event.model_dump(mode="json")
    )

    # Erased: the key's tombstone; what stays on the topic is sealed for good.
    await send(kafka.admin, [(key_message.topic, subject, None, [])])
    sealed = await tail_mine()
    assert sealed["data"]["email"] == event.email
    assert "erased" in sealed["sealed"]


async def test_outbox_lists_what_waits(kafka, sessions, database_url, events_db, thing):
    async with sessions() as session, session.begin():
        await add_event(session, thing(thing_id="w", seq=1))
    lines = await run_cli(
        kafka, "outbox", "--database-url", database_url, "--schema", events_db.schema
    )
    assert lines[0]["waiting"] == 1
    assert lines[1]["topic"] == thing.topic
    assert lines[1]["key"] == "w"


async def test_dead_letters_are_listed_and_redriven_after_a_fix(kafka, sessions, thing, unique):
    broken = True

    async def handler(session, envelope) -> None:
        if broken:
            raise RuntimeError("bug in the handler")
        await record_effect(session, envelope)

    runner = runner_for(
        sessions, kafka, thing, handler, unique, max_attempts=2, initial_backoff=0.01
    )
    dead_topic = dlq_topic(thing.topic, runner.service)
    await send(kafka.admin, [as_message(thing(thing_id="r", seq=7))])
    await runner.start()
    try:

        async def dead_lettered() -> bool:
            return len(await run_cli(kafka, "dlq", dead_topic)) == 1

        await eventually(dead_lettered)
        listed = (await run_cli(kafka, "dlq", dead_topic))[0]
        assert listed["error"] == "RuntimeError: bug in the handler"
        assert listed["attempts"] == "2"
        assert listed["type"] == thing.ce_type

        broken = False  # the fix is deployed
        assert (await run_cli(kafka, "redrive", dead_topic)) == [
            {"redriven": 1, "from": dead_topic, "to": retry_topic(thing.topic, runner.service)}
        ]
        await eventually(lambda: equals(effects(sessions), [("r", 7)]))
        # Re-driving again sends nothing twice: the redrive group remembers its place.
        assert (await run_cli(kafka, "redrive", dead_topic))[0]["redriven"] == 0
    finally:
        await runner.stop()


async def test_replay_resets_the_group_and_can_forget_the_inbox(
    kafka, sessions, database_url, thing, unique
):
    service = unique("svc")
    before = datetime.now(UTC) - timedelta(seconds=5)
    await send(kafka.admin, [as_message(thing(thing_id="p", seq=s)) for s in (1, 2)])

    async def consume_until(expected: int) -> None:
        runner = member(sessions, kafka, thing, record_effect, service=service)
        await runner.start()
        try:
            await eventually(lambda: equals(effect_count(sessions), expected))
        finally:
            await runner.stop()

    await consume_until(2)
    moment = before.isoformat().replace("+00:00", "Z")
    reset = await run_cli(
        kafka, "replay", "--group", service, "--topic", thing.topic, "--to", moment,
        "--forget-inbox", database_url,
    )  # fmt: skip
    assert {line.get("offset") for line in reset if "partition" in line} == {0}
    # The inbox forgot the events, so the replay applies them again.
    await consume_until(4)
    assert sorted(seq for _, seq in await effects(sessions)) == [1, 1, 2, 2]


async def test_redrive_reaches_only_the_service_that_dead_lettered(
    kafka, sessions, other_sessions, thing, unique
):
    broken = True
    seen_by_other: list[str] = []

    async def failing_here(session, envelope) -> None:
        if broken:
            raise RuntimeError("bug in this service")
        await record_effect(session, envelope)

    async def fine_there(session, envelope) -> None:
        seen_by_other.append(envelope.id)
        await record_effect(session, envelope)

    here = member(sessions, kafka, thing, failing_here, service=unique("here"), max_attempts=1)
    there = member(other_sessions, kafka, thing, fine_there, service=unique("there"))
    dead_topic = dlq_topic(thing.topic, here.service)
    await send(kafka.admin, [as_message(thing(thing_id="m", seq=1))])
    await here.start()
    await there.start()
    try:
        await eventually(lambda: equals(effects(other_sessions), [("m", 1)]))

        async def dead_lettered() -> bool:
            return len(await run_cli(kafka, "dlq", dead_topic)) == 1

        await eventually(dead_lettered)
        broken = False  # the fix is deployed in the one service that failed
        assert (await run_cli(kafka, "redrive", dead_topic))[0]["redriven"] == 1
        await eventually(lambda: equals(effects(sessions), [("m", 1)]))
    finally:
        await here.stop()
        await there.stop()
    # The shared topic holds only the original: other subscribers (the other service,
    # data teams) do not get the event again.
    assert len(await read_topic(kafka.admin, thing.topic, expected=1)) == 1
    assert len(seen_by_other) == 1
    duplicates = REGISTRY.get_sample_value(
        "events_handled_total",
        {"service": there.service, "type": thing.ce_type, "outcome": "duplicate"},
    )
    assert not duplicates
