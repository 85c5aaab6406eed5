"""What a service runs in the background for events: its relay and its consumers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edvent_events.connection import Kafka, client_kwargs
from edvent_events.consumer import ConsumerRunner, Handlers
from edvent_events.relay import OutboxRelay, RelaySettings, libpq_dsn


class EventsRuntime:
    def __init__(
        self,
        *,
        service: str,
        schema: str,
        database_url: str,
        bootstrap_servers: Kafka,
        sessions: async_sessionmaker[AsyncSession],
        handlers: Handlers | None = None,
        run_relay: bool = True,
        outbox_retention: timedelta = timedelta(days=7),
        inbox_retention: timedelta = timedelta(days=30),
        dead_letter_retention: timedelta = timedelta(days=30),
        prune_interval: float = 300.0,
        max_attempts: int = 5,
        handler_timeout: float = 60.0,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.relay = (
            OutboxRelay(
                RelaySettings(
                    dsn=libpq_dsn(database_url),
                    schema=schema,
                    bootstrap_servers=bootstrap_servers,
                    retention=outbox_retention,
                    inbox_retention=inbox_retention,
                    dead_letter_retention=dead_letter_retention,
                    prune_interval=prune_interval,
                )
            )
            if run_relay
            else None
        )
        self._service = service
        self._sessions = sessions
        self._max_attempts = max_attempts
        self._handler_timeout = handler_timeout
        self.consumer: ConsumerRunner | None = None
        if handlers:
            self.consume(handlers)
        self._admin: AIOKafkaAdminClient | None = None
        self._admin_lock = asyncio.Lock()

    def consume(self, handlers: Handlers) -> None:
        """Run a consumer for these handlers (before `start`)."""
        if self.consumer is not None:
            raise RuntimeError("this runtime already has its consumer")
        self.consumer = ConsumerRunner(
            service=self._service,
            bootstrap_servers=self.bootstrap_servers,
            sessions=self._sessions,
            handlers=handlers,
            max_attempts=self._max_attempts,
            handler_timeout=self._handler_timeout,
        )

    def periodic_jobs(self) -> list[tuple[str, float, Callable[[], Awaitable[object]]]]:
        """(name, interval, work) of the upkeep the service's job runner (libs/platform)
        runs, each on one replica at a time: pruning the outbox, inbox and dead letters."""
        if self.relay is None:
            return []
        return [("outbox-prune", self.relay.settings.prune_interval, self.relay.prune)]

    async def start(self) -> None:
        if self.relay is not None:
            self.relay.start()
        if self.consumer is not None:
            await self.consumer.start()

    async def stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()
        if self.relay is not None:
            await self.relay.stop()
        if self._admin is not None:
            with contextlib.suppress(Exception):
                await self._admin.close()

    async def kafka_ready(self) -> None:
        """Readiness: the broker answers a metadata request."""
        async with self._admin_lock:
            if self._admin is None:
                admin = AIOKafkaAdminClient(
                    **client_kwargs(self.bootstrap_servers), request_timeout_ms=2000
                )
                await admin.start()
                self._admin = admin
        await self._admin.describe_cluster()
