"""ai-notes's parts, built once per app from its settings (the composition root).

Adapters (S3, LLM providers, ...) and anything else a route or a consumer needs
are built here, once, and reached through `api/deps.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edvent_ai_notes.config import Settings


@dataclass
class AiNotes:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]

    @classmethod
    def build(cls, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> AiNotes:
        return cls(settings=settings, sessions=sessions)

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass
