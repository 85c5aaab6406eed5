"""Annotated dependencies that keep route signatures short."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from edvent_ai_notes.bootstrap import AiNotes
from edvent_ai_notes.domain.access import Actor
from edvent_ai_notes.usecases import users as users_usecase
from edvent_platform.auth import CurrentUser

# The request's unit of work and the list cursor, re-exported so routes find every alias here.
from edvent_platform.deps import PageAfter as PageAfter
from edvent_platform.deps import ReadSessionDep as ReadSessionDep
from edvent_platform.deps import SessionDep as SessionDep


async def get_ai_notes(request: Request) -> AiNotes:  # async: no worker-thread hop
    ai_notes: AiNotes = request.app.state.ai_notes
    return ai_notes


AiNotesDep = Annotated[AiNotes, Depends(get_ai_notes)]


async def _actor(user: CurrentUser, session: SessionDep) -> Actor:
    return await users_usecase.actor_for(session=session, principal=user)


# Every notes route needs a token; the role that counts is the current one, not the
# token's, and a token from before a session cut-off or an erasure is refused (401).
SignedIn = Annotated[Actor, Depends(_actor)]


async def _reading_actor(user: CurrentUser, session: ReadSessionDep) -> Actor:
    return await users_usecase.actor_for(session=session, principal=user)


# For routes that only read: the actor and the route share the read-only session (no
# BEGIN and COMMIT round trips; a write through it fails). Not search: its planner
# settings last for a transaction.
SignedInReading = Annotated[Actor, Depends(_reading_actor)]
