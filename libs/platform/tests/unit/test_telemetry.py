"""When the standard OTEL_* variables turn tracing on, and what log lines carry."""

from __future__ import annotations

import json
import logging

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from edvent_events import tracing
from edvent_platform.logging import JsonFormatter
from edvent_platform.telemetry import tracing_requested


@pytest.mark.parametrize(
    ("environ", "on"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "content"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, False),
    ],
)
def test_tracing_is_on_only_when_the_environment_names_an_exporter(environ, on) -> None:
    assert tracing_requested(environ) is on


def line_of(formatter: JsonFormatter) -> dict[str, object]:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", (), None)
    return json.loads(formatter.format(record))


def test_a_log_line_inside_a_span_carries_its_trace_and_span_ids() -> None:
    formatter = JsonFormatter("content")
    assert "trace_id" not in line_of(formatter)
    with trace.use_span(
        TracerProvider().get_tracer("t").start_span("work"), end_on_exit=True
    ) as span:
        line = line_of(formatter)
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert line["span_id"] == format(span.get_span_context().span_id, "016x")


def test_with_tracing_off_a_log_line_carries_the_callers_context() -> None:
    incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    assert not tracing.enabled()
    with tracing.continued(incoming):
        line = line_of(JsonFormatter("content"))
    assert (line["trace_id"], line["span_id"]) == (
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "00f067aa0ba902b7",
    )
