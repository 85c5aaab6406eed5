"""The W3C trace context through the outbox and Kafka (OpenTelemetry's API only).

Whatever is being handled (an HTTP request, an event) is the current OpenTelemetry
context; an event written by that work stores the context's `traceparent` in its
outbox row, the relay publishes the row under a span continuing it and sends that span
as the `traceparent` header, and the consumer handles the event under a span whose
parent is that header, linked to it as its producer.

With tracing off (`edvent_platform.telemetry` installed no provider) no span is made:
the incoming context is still carried along unchanged, exactly as a `traceparent` was
passed before there were spans, and nothing more is done per event.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import Token
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind, TraceFlags

_TRACEPARENT = re.compile(r"^00-(?!0{32})([0-9a-f]{32})-(?!0{16})([0-9a-f]{16})-([0-9a-f]{2})$")

# Set by libs/platform when OTEL_* settings ask for traces; None: tracing is off.
_provider: trace.TracerProvider | None = None


def use_tracer_provider(provider: trace.TracerProvider | None) -> None:
    """Turn span creation on (a provider) or off (None) for the events machinery."""
    global _provider
    _provider = provider


def enabled() -> bool:
    return _provider is not None


def tracer(name: str) -> trace.Tracer:
    assert _provider is not None, "tracing is off"
    return _provider.get_tracer(name)


def valid_traceparent(value: str | None) -> str | None:
    """The header if it is a well-formed version-00 traceparent, else None."""
    if value and _TRACEPARENT.match(value.strip()):
        return value.strip()
    return None


def span_context_of(traceparent: str | None) -> SpanContext | None:
    """The remote span context a valid traceparent names, else None."""
    match = _TRACEPARENT.match(traceparent.strip()) if traceparent else None
    if match is None:
        return None
    trace_id, span_id, flags = match.groups()
    return SpanContext(
        trace_id=int(trace_id, 16),
        span_id=int(span_id, 16),
        is_remote=True,
        trace_flags=TraceFlags(int(flags, 16) & 0x01),
    )


def traceparent_of(span_context: SpanContext) -> str | None:
    if not span_context.is_valid:
        return None
    return (
        f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}"
        f"-{int(span_context.trace_flags):02x}"
    )


def current_traceparent() -> str | None:
    """The traceparent of the current span (or of the remote context carried), if any."""
    return traceparent_of(trace.get_current_span().get_span_context())


def attach(traceparent: str | None) -> Token[Context] | None:
    """Make a remote context current without a span of our own (tracing off): the token
    for `opentelemetry.context.detach`, or None when there was no valid context."""
    span_context = span_context_of(traceparent)
    if span_context is None:
        return None
    return otel_context.attach(trace.set_span_in_context(NonRecordingSpan(span_context)))


@contextmanager
def continued(traceparent: str | None) -> Iterator[None]:
    """`attach` for a block."""
    token = attach(traceparent)
    try:
        yield
    finally:
        if token is not None:
            otel_context.detach(token)


def kafka_attributes(
    *, operation: str, topic: str, key: str | None, event_id: str | None, **more: Any
) -> dict[str, Any]:
    """OpenTelemetry's messaging attributes for one Kafka message."""
    attributes: dict[str, Any] = {
        "messaging.system": "kafka",
        "messaging.operation.type": operation,
        "messaging.destination.name": topic,
    }
    if key is not None:
        attributes["messaging.kafka.message.key"] = key
    if event_id is not None:
        attributes["messaging.message.id"] = event_id
    for name, value in more.items():
        if value is not None:
            attributes[name] = value
    return attributes


@contextmanager
def consuming(*, name: str, traceparent: str | None, attributes: dict[str, Any]) -> Iterator[None]:
    """Handle a message under a span continuing its producer's trace (tracing on), or
    with its context carried along (tracing off)."""
    if not enabled():
        with continued(traceparent):
            yield
        return
    producer = span_context_of(traceparent)
    parent = trace.set_span_in_context(NonRecordingSpan(producer)) if producer else None
    links: Sequence[Link] = [Link(producer)] if producer else ()
    with tracer("edvent_events.consumer").start_as_current_span(
        name, context=parent, kind=SpanKind.CONSUMER, links=links, attributes=attributes
    ):
        yield


@contextmanager
def span(name: str, *, attributes: dict[str, Any] | None = None) -> Iterator[trace.Span]:
    """A span of a service's own (tracing on) around a block, current inside it; with
    tracing off the current span (perhaps a carried context) and no cost beyond a call."""
    if not enabled():
        yield trace.get_current_span()
        return
    with tracer("edvent").start_as_current_span(name, attributes=attributes) as current:
        yield current
