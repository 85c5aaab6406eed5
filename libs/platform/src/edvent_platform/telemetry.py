"""OpenTelemetry traces, set up once per process from the standard `OTEL_*` variables.

Tracing is on when an OTLP endpoint is named (`OTEL_EXPORTER_OTLP_ENDPOINT` or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) or `OTEL_TRACES_EXPORTER` names an exporter
(`otlp`, or `console` to read spans on stdout); `OTEL_SDK_DISABLED=true` or
`OTEL_TRACES_EXPORTER=none` turns it off. With none of them set nothing is installed:
no provider, no instrumentation, no span; the incoming `traceparent` is still carried
through requests, the outbox and Kafka (`edvent_events.tracing`).

Everything else the SDK reads itself from the same standard variables: the endpoint,
headers, timeout and certificate of the exporter (OTLP over HTTP/protobuf),
`OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`, the sampler
(`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`) and the batch processor's limits
(`OTEL_BSP_*`). These are read here and not through the service's settings class
because they are OpenTelemetry's own, shared by every service and every collector's
documentation, and have no service prefix.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from edvent_events import tracing

logger = logging.getLogger("edvent.telemetry")

_provider: TracerProvider | None = None
_configured = False

# Probes and scrapes are not traced: they would bury the requests worth reading.
_NOT_TRACED = "/healthz,/readyz,/metrics"


def tracing_requested(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Whether the standard variables ask for traces (see the module's docstring)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return bool(
        exporter
        or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
        or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    )


def _exporter(environ: dict[str, str] | os._Environ[str]) -> SpanExporter:
    if environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "console":
        return ConsoleSpanExporter()
    # Imported only when used: the exporter pulls in protobuf and requests.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def configure_tracing(*, service: str) -> bool:
    """Install the tracer provider and the instrumentations once per process, when the
    environment asks for traces; True when tracing is on."""
    global _configured, _provider
    if _configured:
        return _provider is not None
    _configured = True
    if not tracing_requested():
        return False
    # Attributes given here win over OTEL_RESOURCE_ATTRIBUTES: OTEL_SERVICE_NAME is
    # honoured by passing it on.
    name = os.environ.get("OTEL_SERVICE_NAME", "").strip() or service
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    provider.add_span_processor(BatchSpanProcessor(_exporter(os.environ)))
    install(provider)
    logger.info("tracing on: spans of %s are exported", service)
    return True


def install(provider: TracerProvider) -> None:
    """Make `provider` the process's: spans of our own (outbox, relay, consumers, ai-notes)
    and of the library instrumentations go to it."""
    global _provider
    _provider = provider
    trace.set_tracer_provider(provider)
    tracing.use_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    BotocoreInstrumentor().instrument(  # type: ignore[no-untyped-call]
        tracer_provider=provider
    )
    AIOKafkaInstrumentor().instrument(tracer_provider=provider)
    # Only the consumer side: the relay hands over whole batches (`send_batch`, which the
    # instrumentation does not see) under spans of its own, and a dead letter must keep
    # the original message's headers unchanged, where `send` would add a second
    # `traceparent`.
    from aiokafka import AIOKafkaProducer

    unwrap(AIOKafkaProducer, "send")


def instrument_app(app: FastAPI) -> None:
    if _provider is not None:
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=_provider,
            excluded_urls=_NOT_TRACED,
            # The ASGI send and receive events as spans of their own: noise, and a cost.
            exclude_spans=["receive", "send"],
        )


def instrument_engine(engine: AsyncEngine) -> None:
    """Trace the statements of this engine's connections (the relay's own connection,
    which polls, is left out)."""
    if _provider is None:
        return
    provider = _provider

    def instrument(dbapi_connection: Any, _record: Any) -> None:
        PsycopgInstrumentor.instrument_connection(
            dbapi_connection.driver_connection, tracer_provider=provider
        )

    event.listen(engine.sync_engine, "connect", instrument)


def shutdown() -> None:
    """Export what is still buffered (at the end of the app's lifespan)."""
    if _provider is not None:
        _provider.force_flush(timeout_millis=5000)
