"""Annotated dependencies that keep route signatures short."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_ai_notes.bootstrap import AiNotes


def get_ai_notes(request: Request) -> AiNotes:
    ai_notes: AiNotes = request.app.state.ai_notes
    return ai_notes


AiNotesDep = Annotated[AiNotes, Depends(get_ai_notes)]


async def unit_of_work(ai_notes: AiNotesDep) -> AsyncIterator[AsyncSession]:
    """The request's transaction: committed when the route function returns (before
    the answer is sent), rolled back when it raises."""
    async with ai_notes.transaction() as session:
        yield session


# scope="function": commit before the response goes out, so a 2xx means committed.
SessionDep = Annotated[AsyncSession, Depends(unit_of_work, scope="function")]
