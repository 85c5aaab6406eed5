"""learning-records' parts, built once per app from its settings (the composition root)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta

from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edvent_learning_records.adapters.lrs import LrsClient
from edvent_learning_records.config import Settings
from edvent_learning_records.db import statements as statements_db
from edvent_learning_records.domain.statements import Mapper
from edvent_learning_records.usecases import sending
from edvent_platform.db import transaction
from edvent_platform.jobs import JobRunner

SENDER_JOB = "lrs-sender"

WAITING = Gauge("learning_records_statements_waiting", "Statements not yet taken by the LRS")


def lrs_from(settings: Settings) -> LrsClient:
    return LrsClient(
        base_url=settings.lrs_url,
        username=settings.lrs_username,
        password=settings.lrs_password.get_secret_value(),
        timeout=settings.lrs_timeout_seconds,
    )


@dataclass
class LearningRecords:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    mapper: Mapper
    lrs: LrsClient
    retry: sending.RetryPolicy
    jobs: JobRunner | None = None

    @classmethod
    def build(
        cls, settings: Settings, sessions: async_sessionmaker[AsyncSession]
    ) -> LearningRecords:
        return cls(
            settings=settings,
            sessions=sessions,
            mapper=Mapper(settings.platform_base_url),
            lrs=lrs_from(settings),
            retry=sending.RetryPolicy(
                base=timedelta(seconds=settings.retry_base_seconds),
                max=timedelta(seconds=settings.retry_max_seconds),
            ),
        )

    def transaction(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A unit of work: commits when the block ends normally, else rolls back."""
        return transaction(self.sessions)

    def register_jobs(self, jobs: JobRunner) -> None:
        self.jobs = jobs
        # Every replica sends: rows are claimed with SKIP LOCKED, each goes once.
        jobs.every(self.settings.send_interval_seconds, self._send_all_due, name=SENDER_JOB)

    def statements_queued(self) -> None:
        """The consumer queued statements: the sender runs now rather than after its
        pause (it finds them once the consumer's transaction commits)."""
        if self.jobs is not None:
            self.jobs.wake(SENDER_JOB)

    async def send_once(self) -> int:
        """One batch to the LRS (the job runs it; tests call it)."""
        return await sending.send_due(
            transaction=self.transaction,
            lrs=self.lrs,
            batch_size=self.settings.batch_size,
            retry=self.retry,
        )

    async def _send_all_due(self) -> None:
        while await self.send_once() >= self.settings.batch_size:
            pass  # a full batch may mean more is due
        async with self.transaction() as session:
            waiting, _oldest = await statements_db.backlog(session)
        WAITING.set(waiting)

    async def stop(self) -> None:
        # The job runner has stopped its jobs by now (before the app's shutdown hooks).
        await self.lrs.close()
