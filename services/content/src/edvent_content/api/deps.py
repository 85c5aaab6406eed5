"""Annotated dependencies that keep route signatures short."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from edvent_content.bootstrap import Content
from edvent_content.domain.access import Actor
from edvent_content.usecases import users as users_usecase
from edvent_platform.auth import CurrentUser, OptionalUser

# The request's unit of work, re-exported so routes find every alias here.
from edvent_platform.deps import ReadSessionDep as ReadSessionDep
from edvent_platform.deps import SessionDep as SessionDep


async def get_content(request: Request) -> Content:  # async: no worker-thread hop
    content: Content = request.app.state.content
    return content


ContentDep = Annotated[Content, Depends(get_content)]


async def get_reads(request: Request) -> async_sessionmaker[AsyncSession]:
    reads: async_sessionmaker[AsyncSession] = request.app.state.runtime.read_sessions
    return reads


# Short read-only sessions, for routes with slow work (S3, a client's upload): they read
# what they need in one (`async with reads() as session`) and give its connection back
# before the slow work; the write that follows runs in the request's unit of work and
# checks again under a lock.
ReadSessions = Annotated[async_sessionmaker[AsyncSession], Depends(get_reads)]


async def _actor(user: CurrentUser, session: SessionDep) -> Actor:
    return await users_usecase.actor_for(session=session, principal=user)


SignedIn = Annotated[Actor, Depends(_actor)]


async def _maybe_actor(user: OptionalUser, session: ReadSessionDep) -> Actor | None:
    """Anyone may read published courses; a token, when sent, must be valid. Only the
    routes that read use it, so it shares their read-only session."""
    return None if user is None else await users_usecase.actor_for(session=session, principal=user)


MaybeSignedIn = Annotated[Actor | None, Depends(_maybe_actor)]


async def _actor_briefly(user: CurrentUser, reads: ReadSessions) -> Actor:
    async with reads() as session:
        return await users_usecase.actor_for(session=session, principal=user)


async def _maybe_actor_briefly(user: OptionalUser, reads: ReadSessions) -> Actor | None:
    if user is None:
        return None
    async with reads() as session:
        return await users_usecase.actor_for(session=session, principal=user)


# `SignedIn` and `MaybeSignedIn` for the routes with slow work: read in a short session.
SignedInBriefly = Annotated[Actor, Depends(_actor_briefly)]
MaybeSignedInBriefly = Annotated[Actor | None, Depends(_maybe_actor_briefly)]
