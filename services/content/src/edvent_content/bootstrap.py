"""content's parts, built once per app from its settings (the composition root)."""

from __future__ import annotations

from dataclasses import dataclass

from edvent_content.adapters.storage import LessonStore
from edvent_content.config import Settings
from edvent_platform.auth import TokenVerifier, jwks_token_verifier


@dataclass
class Content:
    settings: Settings
    store: LessonStore
    # Verifies access tokens with identity's JWKS, fetched over HTTP and cached.
    verifier: TokenVerifier

    @classmethod
    def build(cls, settings: Settings) -> Content:
        return cls(
            settings=settings,
            store=LessonStore.from_settings(settings),
            verifier=jwks_token_verifier(settings),
        )

    async def start(self) -> None:
        """Nothing opens before serving."""

    async def stop(self) -> None:
        await self.verifier.aclose()
        self.store.close()
