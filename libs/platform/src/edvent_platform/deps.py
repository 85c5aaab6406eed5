"""Request dependencies every service uses: the request's unit of work.

The transaction rule of the whole codebase: a use case takes the session its caller
owns and neither opens nor commits a transaction. For a request that owner is
`unit_of_work`, reached through `SessionDep`; a consumer hands over its inbox
transaction; a command opens one with `edvent_platform.db.transaction`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def unit_of_work(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session: committed when the route function returns (before the
    answer is sent), rolled back when it raises.

    Not a `session.begin()` block: a route may end a read-only transaction early
    (`rollback()`) to give its connection back before slow work such as S3, and the
    session begins the next one on its own.
    """
    sessions: async_sessionmaker[AsyncSession] = request.app.state.runtime.sessions
    async with sessions() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


# scope="function": commit before the response goes out, so a 2xx means committed.
SessionDep = Annotated[AsyncSession, Depends(unit_of_work, scope="function")]
