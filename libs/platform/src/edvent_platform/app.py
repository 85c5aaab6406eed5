"""The composition root every service uses: engine, events runtime, operational routes.

A service's `main.py` says only what is its own (name, schema, routers, handlers);
how those are wired is the same for all four services and lives here.
"""

from __future__ import annotations

import gc
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from edvent_events.consumer import Handlers
from edvent_events.runtime import EventsRuntime
from edvent_platform import telemetry
from edvent_platform.db import check_database, create_engine, session_factory
from edvent_platform.http import ReadinessCheck, install_platform
from edvent_platform.jobs import JobRunner
from edvent_platform.logging import configure_logging
from edvent_platform.settings import ServiceSettings
from edvent_platform.telemetry import configure_tracing, instrument_engine
from edvent_platform.view_cache import CachedView, ViewCache, ViewVersion

logger = logging.getLogger("edvent.app")

Hook = Callable[[FastAPI], Awaitable[None]]


@dataclass
class ServiceRuntime:
    """What request dependencies and hooks reach through `app.state.runtime`."""

    settings: ServiceSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    events: EventsRuntime
    # Sessions for requests that only read (`ReadSessionDep`); their own small pool.
    read_engine: AsyncEngine
    read_sessions: async_sessionmaker[AsyncSession]
    # The service's background work: register jobs before the app starts; they run
    # while it serves and stop, at a safe point, before the events runtime does.
    jobs: JobRunner


def build_runtime(*, service: str, schema: str, settings: ServiceSettings) -> ServiceRuntime:
    """The service's engines, sessions, events runtime and job runner, before its app.

    A service whose parts need the sessions (and whose event handlers need those parts)
    builds the runtime first in its composition root, then passes it to
    `create_service_app` with the handlers.
    """
    configure_logging(service=service, level=settings.log_level)
    configure_tracing(service=service)
    engine = create_engine(
        settings.database_url,
        schema=schema,
        pool_size=settings.database_pool_size,
        app_name=service,
    )
    sessions = session_factory(engine)
    read_engine = create_engine(
        settings.database_url,
        schema=schema,
        pool_size=settings.database_pool_size,
        app_name=service,
        read_only=True,
    )
    for each in (engine, read_engine):
        instrument_engine(each)
    events = EventsRuntime(
        service=service,
        schema=schema,
        database_url=settings.database_url,
        bootstrap_servers=settings.kafka,
        sessions=sessions,
        outbox_retention=timedelta(hours=settings.outbox_retention_hours),
        inbox_retention=timedelta(hours=settings.inbox_retention_hours),
        dead_letter_retention=timedelta(hours=settings.dead_letter_retention_hours),
        prune_interval=settings.outbox_prune_interval_seconds,
        max_attempts=settings.consumer_max_attempts,
        handler_timeout=settings.consumer_handler_timeout_seconds,
    )
    jobs = JobRunner(service=service, engine=engine, log_runs=settings.log_job_runs)
    for name, interval, work in events.periodic_jobs():
        jobs.every(interval, work, name=name, single_runner=True)
    return ServiceRuntime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        events=events,
        read_engine=read_engine,
        read_sessions=session_factory(read_engine),
        jobs=jobs,
    )


def create_service_app(
    *,
    service: str,
    schema: str,
    settings: ServiceSettings,
    api_prefixes: Sequence[str],
    routers: Sequence[APIRouter],
    handlers: Handlers | None = None,
    runtime: ServiceRuntime | None = None,
    readiness: Mapping[str, ReadinessCheck] | None = None,
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    cached_views: Sequence[CachedView] = (),
    description: str = "",
    version: str = "1.0.0",
) -> FastAPI:
    if runtime is None:
        runtime = build_runtime(service=service, schema=schema, settings=settings)
    if handlers:
        runtime.events.consume(handlers)
    events = runtime.events
    engine, read_engine = runtime.engine, runtime.read_engine
    # Students' shared views answered from memory (edvent_platform.view_cache); the
    # service's migrations make its `view_version` table and triggers.
    view_version = (
        ViewVersion(database_url=settings.database_url, schema=schema, app_name=service)
        if cached_views
        else None
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if view_version is not None:
            await view_version.open()
        for hook in on_startup:
            await hook(app)
        await events.start()
        await runtime.jobs.start()
        # What exists now (modules, the app, its routes and schemas) lives as long as the
        # process: kept out of the collector's sight, a full collection no longer stops
        # every request in flight for as long as it walks them (bench/HISTORY.md).
        # Garbage is collected first, so none is kept for good.
        gc.collect()
        gc.freeze()
        logger.info("%s started", service)
        try:
            yield
        finally:
            # Uvicorn has stopped taking requests and finished in-flight ones by now.
            await runtime.jobs.stop()
            await events.stop()
            for hook in on_shutdown:
                await hook(app)
            if view_version is not None:
                await view_version.close()
            await engine.dispose()
            await read_engine.dispose()
            telemetry.shutdown()
            logger.info("%s stopped", service)

    first_prefix = api_prefixes[0]
    app = FastAPI(
        title=f"Edvent {service}",
        description=description,
        version=version,
        lifespan=lifespan,
        openapi_url=f"{first_prefix}/openapi.json",
        docs_url=f"{first_prefix}/docs",
        redoc_url=None,
    )
    app.state.runtime = runtime
    # Added before the platform's middleware, so it runs inside it: request ids, access
    # logs and metrics cover answers from memory too.
    if view_version is not None:
        app.state.view_version = view_version
        app.add_middleware(partial(ViewCache, views=cached_views))
    telemetry.instrument_app(app)
    install_platform(
        app,
        # The service's own dependencies (S3, say) beside the database and Kafka.
        readiness={
            "database": partial(check_database, engine),
            "kafka": events.kafka_ready,
            **(readiness or {}),
        },
    )
    # The gateway routes every prefix of a service here, so each serves the document.
    for prefix in api_prefixes[1:]:

        async def openapi_document() -> JSONResponse:
            return JSONResponse(app.openapi())

        app.add_api_route(f"{prefix}/openapi.json", openapi_document, include_in_schema=False)
    # After the documents: a route like /users/{id} must not swallow /users/openapi.json.
    # FastAPI's own body limit: a router or route may set a larger one of its own
    # (lesson content takes 5 MiB); this is the default for the rest.
    for router in routers:
        app.include_router(router, max_body_size=settings.max_request_body_bytes)
    refuse_worker_threads(app)
    return app


def refuse_worker_threads(app: FastAPI) -> None:
    """Raise when a route or one of its dependencies is a plain `def`.

    FastAPI runs those on a worker thread: a hop of a thread pool per call, which in
    the exam rush cost more than the function it ran (bench/HISTORY.md). Everything
    here is async, so the rule is checked when the app is built, not remembered.
    """
    sync: list[str] = []

    def visit(dependant: Dependant, route: str) -> None:
        call: Any = dependant.call
        if call is not None:
            target = call if inspect.isfunction(call) or inspect.ismethod(call) else None
            if target is None and callable(call) and not inspect.isclass(call):
                target = call.__call__  # an instance, e.g. a security scheme
            if target is not None and not (
                inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)
            ):
                sync.append(f"{route}: {getattr(call, '__qualname__', call)!r}")
        for sub in dependant.dependencies:
            visit(sub, route)

    for route in app.routes:
        if isinstance(route, APIRoute):
            visit(route.dependant, f"{','.join(sorted(route.methods or ()))} {route.path}")
    if sync:
        raise TypeError(
            "plain `def` routes or dependencies run on a worker thread; make them async: "
            + "; ".join(sync)
        )
