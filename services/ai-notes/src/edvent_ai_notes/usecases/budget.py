"""The provider's daily token budget: once spent, notes wait `pending` and resume when
it returns (the next UTC day, or a larger budget configured), never `failed`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edvent_ai_notes import metrics
from edvent_ai_notes.db import jobs as jobs_db
from edvent_ai_notes.domain.notes import Usage


@dataclass(frozen=True, slots=True)
class Spend:
    tokens: int
    requests: int


@dataclass
class TokenBudget:
    provider: str = "local"
    daily_tokens: int = 0  # 0: no budget
    # How often put-off notes look again, so a budget raised by configuration counts
    # before the day ends.
    recheck: timedelta = timedelta(minutes=5)

    async def spent(self, sessions: async_sessionmaker[AsyncSession]) -> bool:
        if self.daily_tokens <= 0:
            return False
        async with sessions() as session:
            used = await jobs_db.tokens_spent(session, provider=self.provider, day=_today())
        return used >= self.daily_tokens

    def resumes_at(self) -> datetime:
        now = datetime.now(UTC)
        tomorrow = datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=UTC)
        return min(tomorrow, now + self.recheck)

    def count(self, *, usage: Usage, embedding_tokens: int, requests: int) -> Spend:
        """What an attempt spent, counted in the metrics at once; `record` stores it."""
        metrics.LLM_TOKENS.labels(self.provider, "prompt").inc(usage.prompt_tokens)
        metrics.LLM_TOKENS.labels(self.provider, "completion").inc(usage.completion_tokens)
        metrics.LLM_TOKENS.labels(self.provider, "embedding").inc(embedding_tokens)
        tokens = usage.prompt_tokens + usage.completion_tokens + embedding_tokens
        return Spend(tokens=tokens, requests=requests)

    async def record(self, session: AsyncSession, *, spend: Spend) -> None:
        """In the caller's transaction."""
        await jobs_db.spend_tokens(
            session,
            provider=self.provider,
            day=_today(),
            tokens=spend.tokens,
            requests=spend.requests,
        )


def _today() -> date:
    return datetime.now(UTC).date()
