"""Annotated dependencies that keep route signatures short."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from edvent_content.bootstrap import Content
from edvent_content.domain.access import Actor
from edvent_platform.app import ServiceRuntime
from edvent_platform.auth import CurrentUser, current_user


def get_content(request: Request) -> Content:
    content: Content = request.app.state.content
    return content


ContentDep = Annotated[Content, Depends(get_content)]


async def unit_of_work(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's one transaction: committed when the route returned, before the
    answer is sent (scope "function"); rolled back when it raised."""
    runtime: ServiceRuntime = request.app.state.runtime
    async with runtime.sessions() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


SessionDep = Annotated[AsyncSession, Depends(unit_of_work, scope="function")]


async def end_read(session: AsyncSession) -> None:
    """End what the request read so far (nothing was written) and give the connection
    back before slow work such as reading a body or talking to S3; the write that
    follows starts a new transaction and checks again under a lock. What was read
    stays usable: detached first, as a rollback would expire it."""
    session.expunge_all()
    await session.rollback()


def _actor(user: CurrentUser) -> Actor:
    return Actor(user_id=user.user_id, role=user.role)


SignedIn = Annotated[Actor, Depends(_actor)]

_optional_bearer = HTTPBearer(auto_error=False, bearerFormat="JWT")


async def _maybe_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_optional_bearer)],
) -> Actor | None:
    """Anyone may read published courses; a token, when sent, must be valid."""
    if credentials is None:
        return None
    principal = await current_user(request, credentials)
    return Actor(user_id=principal.user_id, role=principal.role)


MaybeSignedIn = Annotated[Actor | None, Depends(_maybe_actor)]
