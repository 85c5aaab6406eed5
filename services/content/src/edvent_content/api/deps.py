"""Annotated dependencies that keep route signatures short."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

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


async def end_read(session: AsyncSession) -> None:
    """End what the request read so far (nothing was written) and give the connection
    back before slow work such as reading a body or talking to S3; the write that
    follows starts a new transaction and checks again under a lock. What was read
    stays usable: detached first, as a rollback would expire it."""
    session.expunge_all()
    await session.rollback()


async def _actor(user: CurrentUser, session: SessionDep) -> Actor:
    return await users_usecase.actor_for(session=session, principal=user)


SignedIn = Annotated[Actor, Depends(_actor)]


async def _maybe_actor(user: OptionalUser, session: ReadSessionDep) -> Actor | None:
    """Anyone may read published courses; a token, when sent, must be valid. Only the
    routes that read use it, so it shares their read-only session."""
    return None if user is None else await users_usecase.actor_for(session=session, principal=user)


MaybeSignedIn = Annotated[Actor | None, Depends(_maybe_actor)]
