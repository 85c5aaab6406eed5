"""assessment's parts, built once per app from its settings (the composition root)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edvent_assessment.calibrator import Calibrator
from edvent_assessment.config import Settings
from edvent_assessment.sweeper import Sweeper
from edvent_assessment.usecases.banks import BankCache
from edvent_platform.auth import TokenVerifier, jwks_token_verifier


@dataclass
class Assessment:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    # Verifies access tokens with identity's JWKS, fetched over HTTP and cached.
    verifier: TokenVerifier
    sweeper: Sweeper
    # Item banks of adaptive exams, shared by every request of this instance.
    banks: BankCache
    calibrator: Calibrator

    @property
    def grace(self) -> timedelta:
        return timedelta(seconds=self.settings.submit_grace_seconds)

    @classmethod
    def build(cls, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> Assessment:
        return cls(
            settings=settings,
            sessions=sessions,
            verifier=jwks_token_verifier(settings),
            sweeper=Sweeper(
                sessions,
                interval=settings.sweep_interval_seconds,
                grace=timedelta(seconds=settings.submit_grace_seconds),
                batch=settings.sweep_batch_size,
            ),
            banks=BankCache(
                size=settings.bank_cache_size, min_responses=settings.calibration_min_responses
            ),
            calibrator=Calibrator(
                sessions,
                interval=settings.calibration_interval_seconds,
                min_responses=settings.calibration_min_responses,
            ),
        )

    async def start(self) -> None:
        self.sweeper.start()
        self.calibrator.start()

    async def stop(self) -> None:
        await self.calibrator.stop()
        await self.sweeper.stop()
        await self.verifier.aclose()
