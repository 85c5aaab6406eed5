"""assessment's parts, built once per app from its settings (the composition root)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edvent_assessment import calibrator, sweeper
from edvent_assessment.config import Settings
from edvent_assessment.usecases.banks import BankCache
from edvent_platform.auth import TokenVerifier, jwks_token_verifier
from edvent_platform.jobs import JobRunner

logger = logging.getLogger("edvent.assessment")


@dataclass
class Assessment:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    # Verifies access tokens with identity's JWKS, fetched over HTTP and cached.
    verifier: TokenVerifier
    # Item banks of adaptive exams, shared by every request of this instance.
    banks: BankCache

    @property
    def grace(self) -> timedelta:
        return timedelta(seconds=self.settings.submit_grace_seconds)

    @classmethod
    def build(cls, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> Assessment:
        return cls(
            settings=settings,
            sessions=sessions,
            verifier=jwks_token_verifier(settings),
            banks=BankCache(
                size=settings.bank_cache_size, min_responses=settings.calibration_min_responses
            ),
        )

    def register_jobs(self, runner: JobRunner) -> None:
        """assessment's background work on the service's job runner, one replica at a
        time each: the expiry sweeper, and calibration (off unless an interval is set;
        its first pass waits an interval, so a restart does not set it off)."""
        runner.every(
            self.settings.sweep_interval_seconds,
            self.sweep_once,
            name="sweeper",
            single_runner=True,
        )
        runner.every(
            self.settings.calibration_interval_seconds,
            self.calibrate_once,
            name="calibration",
            single_runner=True,
            wait_first=True,
        )

    async def sweep_once(self) -> None:
        closed = await sweeper.sweep(
            self.sessions, grace=self.grace, batch=self.settings.sweep_batch_size
        )
        if closed:
            logger.info("closed %d overdue attempts as expired", closed)

    async def calibrate_once(self) -> None:
        count = await calibrator.calibrate_all(
            self.sessions, min_responses=self.settings.calibration_min_responses
        )
        logger.info("calibrated %d adaptive exams", count)

    async def start(self) -> None:
        """Nothing opens before serving: the sweeper and calibration start with the
        service's job runner."""

    async def stop(self) -> None:
        await self.verifier.aclose()
