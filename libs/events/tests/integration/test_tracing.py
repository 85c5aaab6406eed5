"""One trace from the work that writes an event to the handler that reads it, through
the real outbox, relay, Kafka and consumer (tracing on, spans recorded in memory)."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from edvent_events import tracing
from edvent_events.envelope import decode
from edvent_events.outbox import add_event
from edvent_localstack.pytest_plugin import eventually, read_topic

from .helpers import fetch_all, relay_for, runner_for

pytestmark = pytest.mark.integration


async def test_the_context_survives_the_outbox_the_relay_and_kafka(
    spans, sessions, database_url, events_db, thing, kafka, unique
):
    work = tracing.tracer("test").start_span("the request")
    with trace.use_span(work, end_on_exit=True):
        async with sessions() as session, session.begin():
            await add_event(session, thing(thing_id="traced", seq=1))
    (stored,) = await fetch_all(database_url, f"SELECT traceparent FROM {events_db.schema}.outbox")
    create = next(s for s in spans.get_finished_spans() if s.name == f"{thing.topic} create")
    assert create.kind is SpanKind.PRODUCER
    assert create.parent is not None and create.parent.span_id == work.context.span_id
    # The row holds the context of the span that wrote it.
    assert stored[0] == tracing.traceparent_of(create.context)

    relay = relay_for(database_url, events_db.schema, kafka.admin)
    relay.start()
    try:
        (record,) = await read_topic(kafka.admin, thing.topic, expected=1)
    finally:
        await relay.stop()
    publish = next(s for s in spans.get_finished_spans() if s.name == f"{thing.topic} publish")
    assert publish.parent is not None and publish.parent.span_id == create.context.span_id
    # The message carries the publish span: consumers continue the relay's span.
    sent = decode(record.headers, record.value).traceparent
    assert sent == tracing.traceparent_of(publish.context)

    seen: list[trace.SpanContext] = []

    async def remember(session, envelope) -> None:
        seen.append(trace.get_current_span().get_span_context())

    runner = runner_for(sessions, kafka, thing, remember, unique)
    await runner.start()
    try:
        await eventually(lambda: len(seen) == 1)
    finally:
        await runner.stop()
    process = next(s for s in spans.get_finished_spans() if s.name == f"{thing.topic} process")
    assert process.kind is SpanKind.CONSUMER
    assert process.context.span_id == seen[0].span_id
    assert process.parent is not None and process.parent.span_id == publish.context.span_id
    assert [link.context.span_id for link in process.links] == [publish.context.span_id]
    # One trace from the request to the handler.
    assert {work.context.trace_id, create.context.trace_id, process.context.trace_id} == {
        publish.context.trace_id
    }
    assert process.attributes["edvent.outcome"] == "handled"


async def test_with_tracing_off_the_incoming_context_is_carried_unchanged(
    sessions, database_url, events_db, thing, kafka, unique
):
    incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    seen: list[str | None] = []

    async def remember(session, envelope) -> None:
        seen.append(tracing.current_traceparent())

    with tracing.continued(incoming):
        async with sessions() as session, session.begin():
            await add_event(session, thing(thing_id="carried", seq=1))
    relay = relay_for(database_url, events_db.schema, kafka.admin)
    relay.start()
    runner = runner_for(sessions, kafka, thing, remember, unique)
    await runner.start()
    try:
        await eventually(lambda: len(seen) == 1)
    finally:
        await runner.stop()
        await relay.stop()
    assert seen == [incoming]


async def test_metrics_show_the_consumer_lag_per_partition(
    sessions, kafka, thing, unique, monkeypatch
):
    from prometheus_client import REGISTRY

    from edvent_events import consumer as consumer_module

    from .helpers import as_message, send

    release = asyncio.Event()

    async def blocked(session, envelope) -> None:
        await release.wait()

    # One key, one partition: four records behind the one being handled.
    await send(kafka.admin, [as_message(thing(thing_id="k", seq=i)) for i in range(5)])
    runner = runner_for(sessions, kafka, thing, blocked, unique)

    def lags() -> dict[str, float]:
        return {
            sample.labels["partition"]: sample.value
            for metric in REGISTRY.collect()
            if metric.name == "kafka_consumer_lag"
            for sample in metric.samples
            if sample.labels["group"] == runner.group_id
        }

    monkeypatch.setattr(consumer_module, "LAG_INTERVAL", 0.1)
    await runner.start()
    try:
        await eventually(lambda: any(value == 4 for value in lags().values()))
        release.set()
        await eventually(lambda: lags() and all(value == 0 for value in lags().values()))
    finally:
        release.set()
        await runner.stop()
